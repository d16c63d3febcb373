// End to end through the tunnel (docs/agent.md): a simulator, a gateway whose configuration holds NO address and NO
// credential for it (`tunnel: {}`), and an agent that holds the simulator's kubeconfig and dials out to the gateway.
// Every kubectl shape (get, list, apply, watch, logs -f, exec -it, cp, port-forward) works through it, each request
// reaching the cluster impersonating the caller; `airlock cluster list` shows the agent; metrics and audit notes
// record join and connect. One simulator, gateway and agent for the file.
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import http2 from "node:http2";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { Agent } from "../../src/agent/run.ts";
import {
  AGENT,
  assertAllImpersonated,
  hasRequest,
  kubectlOnTerminal,
  recordMark,
  simRecords,
  waitFor,
} from "../gateway/e2e-support.ts";
import { startTestAgent } from "../helpers/agent.ts";
import { runAirlock } from "../helpers/cli.ts";
import { startTestGateway, type TestGateway } from "../helpers/gateway.ts";
import { kubectl, runningPod, spawnKubectl } from "../helpers/kubectl.ts";

let tg: TestGateway;
let agent: Agent;
let kubeconfig: string;
let token: string;
let pod: string;
let caFile: string;
const children: ChildProcess[] = [];

before(async () => {
  tg = await startTestGateway({ agents: { listen: { address: "127.0.0.1", port: 0 } } });
  agent = await startTestAgent(tg);
  ({ kubeconfig, token } = await tg.addIdentity(AGENT, "agent", ["agents"]));
  pod = await runningPod(kubeconfig);
  caFile = join(tg.dir, "gateway-ca.crt");
  await writeFile(caFile, tg.gateway.caPem);
});
after(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  agent?.stop();
  await tg?.close();
});

function spawnVia(args: string[]) {
  const child = spawnKubectl(kubeconfig, args);
  children.push(child);
  let out = "";
  let err = "";
  child.stdout?.setEncoding("utf8").on("data", (d: string) => {
    out += d;
  });
  child.stderr?.setEncoding("utf8").on("data", (d: string) => {
    err += d;
  });
  const closed = new Promise<number>((resolve) => child.on("close", (code) => resolve(code ?? -1)));
  return {
    stdout: () => out,
    stderr: () => err,
    async stop() {
      child.kill();
      await closed;
    },
  };
}

async function via(args: string[], opts: { input?: string } = {}) {
  const mark = await recordMark(tg.sim);
  const r = await kubectl(kubeconfig, args, { timeoutMs: 30_000, ...opts });
  return { ...r, records: assertAllImpersonated(await simRecords(tg.sim, mark)) };
}

describe("the gateway's side of a tunnel cluster", () => {
  test("its configuration holds no address and no credential for the cluster", () => {
    const cluster = tg.gateway.runtime.config.clusters[0];
    assert.deepEqual(cluster, { name: "sim", tunnel: {} });
    const upstream = tg.gateway.runtime.upstreams.get("sim");
    assert.match(upstream?.url.hostname ?? "", /\.tunnel\.invalid$/);
    assert.ok(!JSON.stringify(tg.gateway.runtime.config).includes(String(tg.sim.port)));
  });
});

describe("kubectl through the tunnel", () => {
  test("get and list answer as the cluster, each request impersonating the caller", async () => {
    const get = await via(["get", "pods", "-n", "prod", pod, "-o", "jsonpath={.metadata.name}"]);
    assert.equal(get.code, 0, get.stderr);
    assert.equal(get.stdout, pod);
    const list = await via(["get", "pods", "-n", "prod", "-o", "json"]);
    assert.equal(list.code, 0, list.stderr);
    const items = (JSON.parse(list.stdout) as { items: unknown[] }).items;
    const direct = await kubectl(tg.sim.kubeconfigPath, ["get", "pods", "-n", "prod", "-o", "json"]);
    assert.equal(items.length, (JSON.parse(direct.stdout) as { items: unknown[] }).items.length);
    assert.ok(hasRequest(list.records, { verb: "list", resource: "pods" }));
  });

  test("apply creates and then updates an object", async () => {
    const manifest = (v: string) =>
      JSON.stringify({
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: "tunnel-applied", namespace: "prod" },
        data: { v },
      });
    const created = await via(["apply", "-f", "-"], { input: manifest("1") });
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stdout, /configmap\/tunnel-applied created/);
    const updated = await via(["apply", "-f", "-"], { input: manifest("2") });
    assert.equal(updated.code, 0, updated.stderr);
    const direct = await kubectl(tg.sim.kubeconfigPath, [
      "get",
      "configmap",
      "-n",
      "prod",
      "tunnel-applied",
      "-o",
      "jsonpath={.data.v}",
    ]);
    assert.equal(direct.stdout, "2");
  });

  test("get -w sees an object another client creates", async () => {
    const watch = spawnVia(["get", "configmaps", "-n", "prod", "-w"]);
    try {
      await waitFor(watch.stdout, /^web-config\s/m);
      const made = await kubectl(tg.sim.kubeconfigPath, [
        "create",
        "configmap",
        "-n",
        "prod",
        "tunnel-watched",
      ]);
      assert.equal(made.code, 0, made.stderr);
      await waitFor(watch.stdout, /^tunnel-watched\s/m);
    } finally {
      await watch.stop();
    }
  });

  test("logs -f keeps printing new lines until the client goes away", async () => {
    const follow = spawnVia(["logs", "-f", "--tail=1", "-n", "prod", pod]);
    try {
      await waitFor(() => String(follow.stdout().split("\n").length), /^([4-9]|\d\d+)$/, 15_000);
    } finally {
      await follow.stop();
    }
    assert.match(follow.stdout(), /"GET \/\S* HTTP\/1\.1" \d{3}/);
  });

  test("exec -it gives a shell on a real pty that computes and exits with its code", async () => {
    const term = kubectlOnTerminal(kubeconfig, ["exec", "-it", "-n", "prod", pod, "--", "sh"]);
    children.push(term.child);
    await waitFor(term.output, /[$#] $/);
    term.child.stdin?.write("test -t 0 && echo on-a-tty; echo $((6*7))\r");
    await waitFor(term.output, /\r\non-a-tty\r\n42\r\n/);
    term.child.stdin?.write("exit 4\r");
    assert.equal(await term.closed, 4);
  });

  test("cp uploads into the pod and downloads it back", async () => {
    const local = join(tg.dir, "up.txt");
    await writeFile(local, "through the tunnel 19\n");
    const up = await via(["cp", "-n", "prod", local, `${pod}:/tmp/tunnel.txt`]);
    assert.equal(up.code, 0, up.stderr);
    const back = join(tg.dir, "back.txt");
    const down = await via(["cp", "-n", "prod", `${pod}:/tmp/tunnel.txt`, back]);
    assert.equal(down.code, 0, down.stderr);
    assert.equal(await readFile(back, "utf8"), "through the tunnel 19\n");
    assert.ok(hasRequest(down.records, { subresource: "exec", name: pod }));
  });

  test("port-forward carries HTTP to the pod's port", async () => {
    const pf = spawnVia(["port-forward", "-n", "prod", `pod/${pod}`, ":80"]);
    try {
      await waitFor(pf.stdout, /Forwarding from 127\.0\.0\.1:\d+ -> 80/);
      const port = /Forwarding from 127\.0\.0\.1:(\d+) -> 80\n/.exec(pf.stdout())?.[1];
      for (const path of ["/", "/again"]) {
        const res = await fetch(`http://127.0.0.1:${port}${path}`);
        assert.equal(res.status, 200);
        assert.equal(await res.text(), `hello from prod/${pod} port 80\n`);
      }
    } finally {
      await pf.stop();
    }
  });

  test("an HTTP/2 client's request travels the tunnel too", async () => {
    const session = http2.connect(tg.gateway.url, { ca: tg.gateway.caPem });
    try {
      const body = await new Promise<string>((resolve, reject) => {
        const req = session.request({
          ":path": "/api/v1/namespaces/prod/configmaps/web-config",
          authorization: `Bearer ${token}`,
        });
        let text = "";
        req.setEncoding("utf8").on("data", (d: string) => {
          text += d;
        });
        req.on("end", () => resolve(text));
        req.on("error", reject);
        req.end();
      });
      assert.equal((JSON.parse(body) as { metadata: { name: string } }).metadata.name, "web-config");
    } finally {
      session.close();
    }
  });

  test("a client's own Impersonate-User (kubectl --as) is refused by the gateway before the tunnel", async () => {
    const r = await kubectl(kubeconfig, ["get", "pods", "-n", "prod", "--as", "system:admin"]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Forbidden|forbidden/);
  });
});

describe("operating a tunnel cluster", () => {
  test("airlock cluster list shows the connected agent: id, version, since, address, in-flight", async () => {
    const adminToken = (await readFile(tg.gateway.adminTokenPath, "utf8")).trim();
    const r = await runAirlock(tg, caFile, adminToken, ["cluster", "list"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^sim: tunnel, 1 agent connected$/m);
    assert.match(
      r.stdout,
      new RegExp(`^${agent.agentId}\\s+test\\s+\\d+[smhd]\\s+\\S+Z\\s+127\\.0\\.0\\.1:\\d+\\s+\\d+$`, "m"),
    );
    const json = await runAirlock(tg, caFile, adminToken, ["cluster", "list", "--json"]);
    const items = JSON.parse(json.stdout) as { name: string; kind: string; agents: { id: string }[] }[];
    assert.deepEqual(
      items.map((c) => [c.name, c.kind, c.agents.map((a) => a.id)]),
      [["sim", "tunnel", [agent.agentId]]],
    );
  });

  test("airlock connection test asks the cluster through the tunnel who the agent's credential is", async () => {
    const adminToken = (await readFile(tg.gateway.adminTokenPath, "utf8")).trim();
    const r = await runAirlock(tg, caFile, adminToken, ["connection", "test", "sim", "--json"]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const report = JSON.parse(r.stdout) as { ok: boolean; user?: { username: string } };
    assert.equal(report.ok, true);
    // The simulator's kubeconfig is its admin's: the agent's credential, which the gateway never held.
    const direct = await kubectl(tg.sim.kubeconfigPath, [
      "auth",
      "whoami",
      "-o",
      "jsonpath={.status.userInfo.username}",
    ]);
    assert.equal(report.user?.username, direct.stdout);
  });

  test("metrics count the tunnel, its streams, and the join and connect", async () => {
    const metrics = await tg.gateway.runtime.metrics.registry.metrics();
    assert.match(metrics, /^airlock_agent_tunnels\{cluster="sim"\} 1$/m);
    assert.match(metrics, /^airlock_agent_joins_total\{result="ok"\} [1-9]/m);
    assert.match(metrics, /^airlock_agent_connects_total\{result="ok"\} [1-9]/m);
    assert.match(metrics, /^airlock_agent_streams_in_flight\{cluster="sim"\} \d+$/m);
  });

  test("the audit chain notes the join and the connect, naming the agent and cluster, never a token", async () => {
    const records = await tg.gateway.store.audit.records({ afterSeq: 0, limit: 10_000 });
    const joined = records.find((r) => r.type === "agent.joined")?.body ?? "";
    const connected = records.find((r) => r.type === "agent.connected")?.body ?? "";
    assert.ok(joined.includes(String(agent.agentId)) && joined.includes('"subject":"sim"'), joined);
    assert.ok(connected.includes(String(agent.agentId)) && connected.includes('"version":"test"'), connected);
    assert.ok(!records.some((r) => r.body.includes("airlock_join_")), "a join token in the audit log");
  });
});

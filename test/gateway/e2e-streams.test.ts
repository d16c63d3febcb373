// End to end, streams: the real kubectl with the agent's kubeconfig, through Airlock, on the simulator's long-running
// and upgraded requests — get -w, logs (-f), exec (env, -i, exit codes, -it on a real pty), cp both ways and
// port-forward (SPDY inside WebSocket, relayed by the gateway). Each behaves as it does directly (the simulator's own
// tests, test/sim/kubectl-streams*.test.ts, pin the direct behaviour), and the simulator's record shows each request
// arrived impersonating airlock:demo-agent.
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { connect } from "node:tls";
import { DEMO_DB_PASSWORD } from "@airlock/sim/seed.ts";
import { TRIGGER } from "../../src/mask/detectors.ts";
import { eventually } from "../helpers/eventually.ts";
import { startTestGateway, type TestGateway } from "../helpers/gateway.ts";
import { type KubectlResult, kubectl, runningPod, spawnKubectl } from "../helpers/kubectl.ts";
import {
  AGENT,
  assertAllImpersonated,
  hasRequest,
  impersonatedRequests,
  kubectlOnTerminal,
  recordMark,
  simRecords,
  waitFor,
} from "./e2e-support.ts";

let gw: TestGateway;
let agent: string;
let pod: string;
const children: ChildProcess[] = [];

before(async () => {
  gw = await startTestGateway();
  agent = (await gw.addIdentity(AGENT, "agent", ["agents"])).kubeconfig;
  pod = await runningPod(agent);
});
after(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  await gw?.close();
});

async function viaAirlock(args: string[], opts: { input?: string; env?: Record<string, string> } = {}) {
  let result: KubectlResult | undefined;
  const records = await impersonatedRequests(gw.sim, async () => {
    result = await kubectl(agent, args, { timeoutMs: 20_000, ...opts });
  });
  assert.ok(result);
  return { ...result, records };
}

function direct(args: string[], input?: string): Promise<KubectlResult> {
  return kubectl(
    gw.sim.kubeconfigPath,
    ["--namespace", "prod", ...args],
    input === undefined ? {} : { input },
  );
}

/**
 * Once a long-running client has gone, the gateway holds none of its streams: the client going away cancelled the
 * upstream request (or closed the tunnel) too.
 */
async function assertNoLiveStreams(): Promise<void> {
  await eventually("no live stream left", () => gw.gateway.runtime.streams.count(), {
    until: (n) => n === 0,
    timeoutMs: 5_000,
  }).catch(() => {}); // the assertion below says what is left
  assert.equal(
    gw.gateway.runtime.streams.count(),
    0,
    "the gateway still holds a stream of a client that went away",
  );
}

/** A long-running kubectl through Airlock; its output is collected until the test kills it. */
function spawnViaAirlock(args: string[]) {
  const child = spawnKubectl(agent, args);
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
    write: (text: string) => child.stdin?.write(text),
    stdout: () => out,
    stderr: () => err,
    async stop() {
      child.kill();
      await closed;
    },
  };
}

describe("watch through Airlock", () => {
  test("get -w sees a ConfigMap another client creates, on a watch made as airlock:demo-agent", async () => {
    const mark = await recordMark(gw.sim);
    const watch = spawnViaAirlock(["get", "configmaps", "-w"]);
    try {
      await waitFor(watch.stdout, /^web-config\s/m);
      const made = await direct(
        ["apply", "-f", "-"],
        JSON.stringify({
          apiVersion: "v1",
          kind: "ConfigMap",
          metadata: { name: "e2e-watched" },
          data: { a: "b" },
        }),
      );
      assert.equal(made.code, 0, made.stderr);
      await waitFor(watch.stdout, /^e2e-watched\s/m);
    } finally {
      await watch.stop();
    }
    await assertNoLiveStreams();
    const watches = (await simRecords(gw.sim, mark)).filter((r) => r.verb === "watch");
    assert.equal(watches.length, 1, JSON.stringify(watches));
    assertAllImpersonated(watches);
    assert.equal(watches[0]?.resource, "configmaps");
  });
});

describe("logs through Airlock", () => {
  test("logs prints the container's log as directly", async () => {
    const r = await viaAirlock(["logs", pod, "--limit-bytes=400"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^\/docker-entrypoint\.sh: /);
    assert.equal(r.stdout, (await direct(["logs", pod, "--limit-bytes=400"])).stdout);
    assert.ok(hasRequest(r.records, { resource: "pods", name: pod, subresource: "log" }));
  });

  test("logs -f keeps printing new lines until the client goes away", async () => {
    const mark = await recordMark(gw.sim);
    const follow = spawnViaAirlock(["logs", "-f", "--tail=1", pod]);
    try {
      await waitFor(() => String(follow.stdout().split("\n").length), /^([4-9]|\d\d+)$/, 10_000);
    } finally {
      await follow.stop();
    }
    await assertNoLiveStreams();
    const lines = follow.stdout().trimEnd().split("\n");
    assert.match(lines[0] ?? "", /start worker process/);
    assert.match(lines[1] ?? "", /^10\.244\.0\.\d+ - - \[.+\] "GET \/\S* HTTP\/1\.1" \d{3} \d+ /);
    const records = assertAllImpersonated(await simRecords(gw.sim, mark));
    assert.ok(hasRequest(records, { resource: "pods", name: pod, subresource: "log" }));
  });
});

describe("exec through Airlock", () => {
  test("exec -- env shows the container environment as directly, the Secret's value masked for an agent", async () => {
    const r = await viaAirlock(["exec", pod, "--", "env"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^DB_PASSWORD=‹masked:[0-9a-f]{8}›$/m);
    assert.ok(!r.stdout.includes(DEMO_DB_PASSWORD));
    assert.match(r.stdout, new RegExp(`^HOSTNAME=${pod}$`, "m"));
    const straight = (await direct(["exec", pod, "--", "env"])).stdout;
    assert.match(straight, new RegExp(`^DB_PASSWORD=${DEMO_DB_PASSWORD}$`, "m"));
    assert.equal(
      r.stdout,
      straight.replace(DEMO_DB_PASSWORD, /‹masked:[0-9a-f]{8}›/.exec(r.stdout)?.[0] ?? ""),
    );
    assert.ok(hasRequest(r.records, { resource: "pods", name: pod, subresource: "exec" }));
  });

  test("exec -i streams stdin to the process and EOF ends it", async () => {
    const r = await viaAirlock(["exec", "-i", pod, "--", "cat"], { input: "hi\nthere\n" });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "hi\nthere\n");
  });

  test("stdout and stderr stay apart and the exit code reaches kubectl", async () => {
    const r = await viaAirlock(["exec", pod, "--", "sh", "-c", "echo out; echo err >&2; exit 3"]);
    assert.equal(r.code, 3);
    assert.equal(r.stdout, "out\n");
    assert.match(r.stderr, /^err\ncommand terminated with exit code 3\n$/);
  });

  test("exec -it gives a shell on a real pty that computes, sees the terminal's size and exits with its code", async () => {
    const mark = await recordMark(gw.sim);
    const term = kubectlOnTerminal(agent, ["exec", "-it", pod, "--", "sh"]);
    children.push(term.child);
    await waitFor(term.output, /[$#] $/);
    term.child.stdin?.write("test -t 0 && echo on-a-tty; echo $((6*7)); stty size\r");
    await waitFor(term.output, /\r\non-a-tty\r\n42\r\n27 91\r\n/);
    term.child.stdin?.write("exit 4\r");
    assert.equal(await term.closed, 4);
    assert.match(term.output(), /command terminated with exit code 4/);
    await assertNoLiveStreams();
    const records = assertAllImpersonated(await simRecords(gw.sim, mark));
    assert.ok(hasRequest(records, { subresource: "exec", name: pod }));
  });

  test("attach -i joins the main process, which echoes what it reads and keeps printing", async () => {
    const mark = await recordMark(gw.sim);
    const attach = spawnViaAirlock(["attach", "-i", pod]);
    try {
      attach.write("hello main process\n");
      await waitFor(attach.stdout, /^hello main process$/m);
      await waitFor(attach.stdout, /"GET \//);
    } finally {
      await attach.stop();
    }
    await assertNoLiveStreams();
    const records = assertAllImpersonated(await simRecords(gw.sim, mark));
    assert.ok(hasRequest(records, { subresource: "attach", name: pod }));
  });

  test("the SPDY fallback is refused with a Status that says to use WebSocket", async () => {
    const r = await kubectl(agent, ["exec", pod, "--", "true"], {
      env: { KUBECTL_REMOTE_COMMAND_WEBSOCKETS: "false" },
    });
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /over SPDY is not supported; Airlock relays exec, attach and port-forward over WebSocket/,
    );
  });
});

describe("upgrade refusals through Airlock", () => {
  test("an exec upgrade offering only the port-forward tunnel subprotocol gets the cluster's 400, not a 502", async () => {
    const { token } = await gw.addIdentity("raw-client", "agent", ["agents"]);
    const url = new URL(gw.gateway.url);
    const socket = connect({
      host: url.hostname,
      port: Number(url.port),
      ca: gw.gateway.caPem,
      ALPNProtocols: ["http/1.1"],
    });
    let answer = "";
    socket.setEncoding("utf8").on("data", (d: string) => {
      answer += d;
    });
    const ended = new Promise((resolve) => socket.on("close", resolve));
    socket.write(
      `GET /api/v1/namespaces/prod/pods/${pod}/exec?command=true&stdout=1 HTTP/1.1\r\nHost: airlock\r\n` +
        `Authorization: Bearer ${token}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n` +
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: SPDY/3.1+portforward.k8s.io\r\n\r\n",
    );
    await ended;
    assert.match(answer, /^HTTP\/1\.1 400 /);
    assert.match(answer, /none of the offered subprotocols/);
  });
});

describe("cp through Airlock", () => {
  test("cp uploads into the pod, exec sees it at the same path, and cp downloads it back", async () => {
    const local = join(gw.dir, "local.txt");
    await writeFile(local, "cp round trip through airlock 42\n");
    const up = await viaAirlock(["cp", local, `${pod}:/tmp/e2e.txt`]);
    assert.equal(up.code, 0, up.stderr);
    assert.ok(hasRequest(up.records, { subresource: "exec", name: pod }));
    const cat = await direct(["exec", pod, "--", "cat", "/tmp/e2e.txt"]);
    assert.equal(cat.stdout, "cp round trip through airlock 42\n");
    const back = join(gw.dir, "back.txt");
    const down = await viaAirlock(["cp", `${pod}:/tmp/e2e.txt`, back]);
    assert.equal(down.code, 0, down.stderr);
    assert.equal(await readFile(back, "utf8"), "cp round trip through airlock 42\n");
  });
});

describe("large streams through Airlock", () => {
  test("cp of a 4 MiB file round-trips byte for byte, and exec relays its 5.6 MB base64 whole", async () => {
    const local = join(gw.dir, "big.bin");
    // Random bytes, less any text a built-in detector could mask (about one 4 MiB file in 20 holds `pwd=` and a value):
    // such a file is not copied at all (the next test), and this one is about relaying a large stream whole.
    const content = randomBytes(4 << 20);
    for (const m of content.toString("latin1").matchAll(new RegExp(TRIGGER.source, "gi")))
      content.fill(0, m.index, m.index + m[0].length);
    await writeFile(local, content);
    const up = await kubectl(agent, ["cp", local, `${pod}:/tmp/big.bin`], { timeoutMs: 40_000 });
    assert.equal(up.code, 0, up.stderr);
    const back = join(gw.dir, "big-back.bin");
    const down = await kubectl(agent, ["cp", `${pod}:/tmp/big.bin`, back], { timeoutMs: 40_000 });
    assert.equal(down.code, 0, down.stderr);
    const digest = (b: Buffer) => createHash("sha256").update(b).digest("hex");
    assert.equal(digest(await readFile(back)), digest(content));
    const out = await kubectl(agent, ["exec", pod, "--", "base64", "/tmp/big.bin"], { timeoutMs: 40_000 });
    assert.equal(out.code, 0, out.stderr);
    assert.equal(out.stdout.replace(/\n/g, ""), content.toString("base64"));
  });
});

describe("cp of a file a masking rule matches", () => {
  test("the download fails with a Status naming the rule instead of delivering an altered file", async () => {
    const local = join(gw.dir, "keyed.bin");
    const content = Buffer.concat([
      randomBytes(200_000),
      Buffer.from("\npwd=s3cr3t-value\n"),
      randomBytes(200_000),
    ]);
    await writeFile(local, content);
    const up = await kubectl(agent, ["cp", local, `${pod}:/tmp/keyed.bin`], { timeoutMs: 40_000 });
    assert.equal(up.code, 0, up.stderr);
    const back = join(gw.dir, "keyed-back.bin");
    const down = await kubectl(agent, ["cp", `${pod}:/tmp/keyed.bin`, back], { timeoutMs: 40_000 });
    assert.notEqual(down.code, 0, "kubectl reports the copy failed");
    assert.match(
      down.stderr,
      /masking failed: the copied file holds text that rule key-value .* the copy was stopped/,
    );
    const got = await readFile(back).catch(() => Buffer.alloc(0));
    assert.ok(!got.includes("s3cr3t-value"), "the value never reached the client");
    assert.ok(!got.equals(content) && got.length < content.length, "no complete file was delivered");
    // What exec shows of the same file is masked (a terminal stream, not a file).
    const cat = await kubectl(agent, ["exec", pod, "--", "cat", "/tmp/keyed.bin"], { timeoutMs: 40_000 });
    assert.equal(cat.code, 0, cat.stderr);
    assert.match(cat.stdout, /pwd=‹masked:[0-9a-f]{8}›/);
  });
});

describe("port-forward through Airlock", () => {
  test("port-forward carries HTTP to the pod's declared port, and an undeclared port is refused", async () => {
    const mark = await recordMark(gw.sim);
    const pf = spawnViaAirlock(["port-forward", `pod/${pod}`, ":80", ":81"]);
    try {
      await waitFor(pf.stdout, /Forwarding from 127\.0\.0\.1:\d+ -> 81/);
      const port80 = /Forwarding from 127\.0\.0\.1:(\d+) -> 80\n/.exec(pf.stdout())?.[1];
      const port81 = /Forwarding from 127\.0\.0\.1:(\d+) -> 81\n/.exec(pf.stdout())?.[1];
      for (const path of ["/", "/again"]) {
        const res = await fetch(`http://127.0.0.1:${port80}${path}`);
        assert.equal(res.status, 200);
        assert.equal(await res.text(), `hello from prod/${pod} port 80\n`);
      }
      await fetch(`http://127.0.0.1:${port81}/`).then(
        (r) => r.text(),
        () => "",
      );
      await waitFor(
        pf.stderr,
        /an error occurred forwarding \d+ -> 81: error forwarding port 81 .*connection refused/,
      );
    } finally {
      await pf.stop();
    }
    await assertNoLiveStreams();
    const records = assertAllImpersonated(await simRecords(gw.sim, mark));
    assert.ok(hasRequest(records, { subresource: "portforward", name: pod }));
  });
});

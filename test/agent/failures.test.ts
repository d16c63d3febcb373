// The tunnel's failure modes and attacks (docs/agent.md, docs/security-model.md): join tokens used twice, expired or
// for another cluster; agent certificates forged (another CA), expired, or naming another cluster; an agent killed
// (503 naming the cluster, then recovery when it reconnects); several agents sharing the load; revocation closing live
// streams within a second and refusing the certificate after; and Impersonate-* lines the gateway did not declare,
// refused by the agent. One simulator and gateway (tunnel clusters "sim" and "dev", a movable clock) for the file.
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { createPrivateKey, generateKeyPairSync, X509Certificate } from "node:crypto";
import { once } from "node:events";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { request as httpsRequest } from "node:https";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { createServer as createTlsServer } from "node:tls";
import { Agent } from "../../src/agent/run.ts";
import { AgentState } from "../../src/agent/state.ts";
import {
  createCertificateAuthority,
  issueClientCertificate,
  issueServerCertificate,
} from "../../src/shared/tls.ts";
import { openUpstream } from "../../src/upstream/index.ts";
import { decodeDeclaration, encodeDeclaration } from "../../src/upstream/tunnel-hub.ts";
import { createTestAgent, joinToken, startTestAgent } from "../helpers/agent.ts";
import { AIRLOCK_BIN, runAirlock } from "../helpers/cli.ts";
import { eventually, eventuallyMatches } from "../helpers/eventually.ts";
import { startTestGateway, type TestGateway } from "../helpers/gateway.ts";
import { httpsJson } from "../helpers/https-json.ts";
import { kubectl, runningPod, spawnKubectl } from "../helpers/kubectl.ts";

let tg: TestGateway;
let offsetMs = 0;
let kubeconfig: string;
let token: string;
let pod: string;
let caFile: string;
let adminToken: string;
const agents: Agent[] = [];
const children: ChildProcess[] = [];

before(async () => {
  tg = await startTestGateway({
    agents: { listen: { address: "127.0.0.1", port: 0 } },
    tunnelClusters: ["sim", "dev"],
    now: () => Date.now() + offsetMs,
  });
  ({ kubeconfig, token } = await tg.addIdentity("ops", "human"));
  caFile = join(tg.dir, "gateway-ca.crt");
  await writeFile(caFile, tg.gateway.caPem);
  adminToken = (await readFile(tg.gateway.adminTokenPath, "utf8")).trim();
  pod = await runningPod(tg.sim.kubeconfigPath);
});
after(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  for (const a of agents) a.stop();
  await tg?.close();
});

/** Moves the gateway's clock for the duration of `fn`. */
async function atGatewayTime<T>(aheadMs: number, fn: () => Promise<T>): Promise<T> {
  offsetMs = aheadMs;
  try {
    return await fn();
  } finally {
    offsetMs = 0;
  }
}

/** The answer with no agent of "sim" connected: the 503 Status naming the cluster, to an API call and to kubectl. */
async function assertNoAgent(): Promise<void> {
  const answer = await httpsJson(
    { url: tg.gateway.url, ca: tg.gateway.caPem },
    "GET",
    "/api/v1/namespaces/prod/pods",
    token,
  );
  assert.equal(answer.code, 503);
  assert.equal(answer.body.reason, "ServiceUnavailable");
  assert.match(
    answer.body.message,
    /^airlock: the cluster "sim" is reached through its agents, and no agent of this cluster is connected/,
  );
  const raw = await kubectl(kubeconfig, ["get", "--raw", "/api/v1/namespaces/prod/pods"]);
  assert.notEqual(raw.code, 0);
  assert.match(raw.stderr, /the cluster "sim" is reached through its agents/);
}

const links = (cluster: string) => tg.gateway.agents?.hub.links(cluster).filter((l) => l.usable) ?? [];

async function tracked(p: Promise<Agent>): Promise<Agent> {
  const a = await p;
  agents.push(a);
  return a;
}

describe("join tokens", () => {
  test("a join token works once: a second agent with it is refused, and `cluster join-token create` prints one", async () => {
    const made = await runAirlock(tg, caFile, adminToken, [
      "cluster",
      "join-token",
      "create",
      "sim",
      "--ttl",
      "10m",
    ]);
    assert.equal(made.code, 0, made.stderr);
    const token = made.stdout.trim();
    assert.match(token, /^airlock_join_[A-Za-z0-9_-]{43}$/);
    assert.match(made.stderr, /usable once/);
    const first = await tracked(startTestAgent(tg, { token }));
    assert.match(String(first.agentId), /^agent-[0-9a-f]{12}$/);
    const second = await createTestAgent(tg, { token });
    await assert.rejects(second.start(), /already used/);
    first.stop();
    const logged = tg.logs.join("");
    assert.ok(!logged.includes(token), "the join token is never logged");
    assert.ok(!logged.includes("BEGIN PRIVATE KEY"), "no key is logged");
  });

  test("a join token made for another cluster is refused and stays usable for its own", async () => {
    const token = await joinToken(tg, "dev");
    const wrong = await createTestAgent(tg, { token, cluster: "sim" });
    await assert.rejects(wrong.start(), /created for another cluster/);
    const right = await tracked(startTestAgent(tg, { token, cluster: "dev" }));
    assert.ok(links("dev").some((l) => l.id === right.agentId));
    right.stop();
    await eventually("dev tunnel gone", async () => links("dev").length === 0 || undefined);
  });

  test("a join sends only the agent's public key: none, or a weak one, is refused without using the token up", async () => {
    const token = await joinToken(tg);
    const post = (body: object) =>
      httpsJson({ url: String(tg.gateway.agents?.url), ca: tg.gateway.caPem }, "POST", "/join", "", body);
    const weak = generateKeyPairSync("rsa", { modulusLength: 1024 }).publicKey.export({
      type: "spki",
      format: "pem",
    });
    for (const publicKey of [undefined, "not a key", weak]) {
      const answer = await post({ cluster: "sim", token, ...(publicKey ? { publicKey } : {}) });
      assert.equal(answer.code, 400, JSON.stringify(answer.body));
      assert.match(answer.body.message, /public key/);
    }
    const logs: object[] = [];
    const a = await tracked(startTestAgent(tg, { token, logs }));
    assert.ok(a.connected);
    // The gateway's answer held a certificate for the agent's own key, and no key of its own.
    const key = await readFile(join(a.stateDir, "agent.key"), "utf8");
    const cert = new X509Certificate(await readFile(join(a.stateDir, "agent.crt"), "utf8"));
    assert.ok(cert.checkPrivateKey(createPrivateKey(key)));
    a.stop();
  });

  test("an expired join token is refused (the gateway's clock judges expiry)", async () => {
    const token = await joinToken(tg, "sim", 60_000);
    const late = await createTestAgent(tg, { token });
    await atGatewayTime(120_000, () => assert.rejects(late.start(), /join token expired/));
  });

  test("a join token for a cluster that is not a tunnel cluster cannot even be created", async () => {
    const r = await runAirlock(tg, caFile, adminToken, ["cluster", "join-token", "create", "nowhere"]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /not a tunnel cluster/);
  });
});

describe("a forged gateway", () => {
  test("an agent that pins the gateway's CA sends its join token to no one else (a server of another CA)", async () => {
    const otherCa = createCertificateAuthority("airlock-gateway-ca");
    const fake = issueServerCertificate(otherCa, {
      commonName: "airlock",
      dnsNames: ["localhost"],
      ipAddresses: ["127.0.0.1"],
    });
    let received = "";
    const server = createTlsServer({ cert: fake.certPem, key: fake.keyPem }, (socket) => {
      socket.setEncoding("utf8").on("data", (d: string) => {
        received += d;
      });
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    try {
      const stateDir = await mkdtemp(join(tg.dir, "pinned-"));
      const token = await joinToken(tg);
      await writeFile(join(stateDir, "token"), token);
      const a = new Agent({
        gateway: new URL(`https://127.0.0.1:${(server.address() as AddressInfo).port}`),
        cluster: "sim",
        joinTokenFile: join(stateDir, "token"),
        gatewayCaPem: tg.gateway.caPem,
        stateDir,
        upstream: await openUpstream(
          { name: "sim", kubeconfig: { path: tg.sim.kubeconfigPath } },
          { http2: false },
        ),
        version: "test",
        log: () => {},
      });
      agents.push(a);
      await assert.rejects(a.start(), /certificate|self[- ]signed|verify/i);
      assert.equal(received, "", "nothing, the token least of all, was sent to the forged gateway");
    } finally {
      server.close();
    }
  });
});

describe("agent certificates", () => {
  /** An agent whose state directory holds `cert`/`key` for `agentId` (no join token). */
  async function agentWith(
    agentId: string,
    certPem: string,
    keyPem: string,
    cluster = "sim",
  ): Promise<Agent> {
    const stateDir = await mkdtemp(join(tg.dir, "forged-"));
    await writeFile(join(stateDir, "agent.json"), JSON.stringify({ agentId, cluster }));
    await writeFile(join(stateDir, "agent.crt"), certPem);
    await writeFile(join(stateDir, "agent.key"), keyPem, { mode: 0o600 });
    const a = await createTestAgent(tg, { stateDir, cluster });
    agents.push(a);
    await a.start();
    return a;
  }

  test("a certificate from another CA (same subject as a real agent's) is refused at connect", async () => {
    const real = await tracked(startTestAgent(tg));
    real.stop();
    const otherCa = createCertificateAuthority("airlock-agent-ca");
    const forged = issueClientCertificate(otherCa, {
      commonName: String(real.agentId),
      organizations: ["airlock-cluster:sim"],
    });
    const a = await agentWith(String(real.agentId), forged.certPem, forged.keyPem);
    await eventually("refused", async () => a.lastRefusal, { timeoutMs: 10_000 });
    assert.match(String(a.lastRefusal), /not one the agent CA issued/);
    assert.equal(a.connected, false);
    assert.ok(!links("sim").some((l) => l.id === real.agentId));
    a.stop();
  });

  test("a certificate naming another cluster than its agent's (signed by the agent CA) is refused", async () => {
    const real = await tracked(startTestAgent(tg));
    real.stop();
    const caDir = join(tg.gateway.runtime.config.dataDir, "tls");
    const ca = {
      certPem: await readFile(join(caDir, "agent-ca.crt"), "utf8"),
      keyPem: await readFile(join(caDir, "agent-ca.key"), "utf8"),
    };
    // What a sim agent would need to pass as dev's: the agent CA's own signature on the other cluster's name.
    const crossed = issueClientCertificate(ca, {
      commonName: String(real.agentId),
      organizations: ["airlock-cluster:dev"],
    });
    const a = await agentWith(String(real.agentId), crossed.certPem, crossed.keyPem, "dev");
    await eventually("refused", async () => a.lastRefusal, { timeoutMs: 10_000 });
    assert.match(String(a.lastRefusal), /names cluster "dev", not the agent's/);
    assert.equal(links("dev").length, 0);
    a.stop();
  });

  test("certificates of Airlock's other CAs (an identity's mTLS CA, the serving CA) never open a tunnel", async () => {
    const real = await tracked(startTestAgent(tg));
    real.stop();
    const tlsDir = join(tg.gateway.runtime.config.dataDir, "tls");
    for (const [crt, key] of [
      ["identity-ca.crt", "identity-ca.key"],
      ["ca.crt", "ca.key"],
    ] as const) {
      const ca = {
        certPem: await readFile(join(tlsDir, crt), "utf8"),
        keyPem: await readFile(join(tlsDir, key), "utf8"),
      };
      const other = issueClientCertificate(ca, {
        commonName: String(real.agentId),
        organizations: ["airlock-cluster:sim"],
      });
      const a = await agentWith(String(real.agentId), other.certPem, other.keyPem);
      await eventually(`refused (${crt})`, async () => a.lastRefusal, { timeoutMs: 10_000 });
      assert.match(String(a.lastRefusal), /not one the agent CA issued/, crt);
      a.stop();
    }
    assert.ok(!links("sim").some((l) => l.id === real.agentId));
  });

  test("an agent's certificate is never an identity: the gateway's API port answers it 401", async () => {
    const a = await tracked(startTestAgent(tg));
    a.stop();
    const cert = await readFile(join(a.stateDir, "agent.crt"), "utf8");
    const key = await readFile(join(a.stateDir, "agent.key"), "utf8");
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpsRequest(
        `${tg.gateway.url}/api/v1/namespaces/prod/pods`,
        { ca: tg.gateway.caPem, cert, key, agent: false },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on("error", reject);
      req.end();
    });
    assert.equal(status, 401);
  });

  test("a dev cluster's agent serves dev only: with no sim agent, sim answers 503 naming sim", async () => {
    await eventually("no sim tunnel", async () => links("sim").length === 0 || undefined);
    const dev = await tracked(startTestAgent(tg, { token: await joinToken(tg, "dev"), cluster: "dev" }));
    assert.equal(links("sim").length, 0);
    await assertNoAgent();
    dev.stop();
  });

  test("an expired certificate is refused (expiry judged by the gateway's clock)", async () => {
    const a = await tracked(startTestAgent(tg));
    a.stop();
    await eventually("tunnel gone", async () => links("sim").length === 0 || undefined);
    await atGatewayTime(25 * 3_600_000, async () => {
      const again = await createTestAgent(tg, { stateDir: a.stateDir });
      agents.push(again);
      await again.start();
      await eventually("refused", async () => again.lastRefusal, { timeoutMs: 10_000 });
      assert.match(String(again.lastRefusal), /expired/);
      again.stop();
    });
  });
});

describe("availability", () => {
  function cliAgent(stateDir: string, tokenFile?: string): { child: ChildProcess; output: () => string } {
    const args = [
      AIRLOCK_BIN,
      "agent",
      "--gateway",
      String(tg.gateway.agents?.url),
      "--cluster",
      "sim",
      "--gateway-ca-file",
      caFile,
      "--state-dir",
      stateDir,
      "--kubeconfig",
      tg.sim.kubeconfigPath,
      ...(tokenFile ? ["--join-token-file", tokenFile] : []),
    ];
    const child = spawn(process.execPath, args, {
      env: { PATH: process.env.PATH },
      stdio: ["ignore", "pipe", "pipe"],
    });
    children.push(child);
    let out = "";
    child.stdout?.setEncoding("utf8").on("data", (d: string) => {
      out += d;
    });
    child.stderr?.setEncoding("utf8").on("data", (d: string) => {
      out += d;
    });
    return { child, output: () => out };
  }

  test("killing the agent (SIGKILL) gives 503 naming the cluster; restarted, it reconnects and requests work again", async () => {
    const stateDir = await mkdtemp(join(tg.dir, "cli-agent-"));
    const tokenFile = join(stateDir, "token");
    await writeFile(tokenFile, await joinToken(tg));
    const first = cliAgent(stateDir, tokenFile);
    await eventuallyMatches(first.output, /"event":"agent.connected"/, 20_000);
    const ok = await kubectl(kubeconfig, ["get", "pod", "-n", "prod", pod, "-o", "name"]);
    assert.equal(ok.code, 0, ok.stderr);
    first.child.kill("SIGKILL");
    await eventually("the gateway saw the tunnel end", async () => links("sim").length === 0 || undefined);
    await assertNoAgent();
    // Restarted without a token: the certificate in its state directory is enough.
    const second = cliAgent(stateDir);
    await eventuallyMatches(second.output, /"event":"agent.connected"/, 20_000);
    const back = await kubectl(kubeconfig, ["get", "pod", "-n", "prod", pod, "-o", "name"]);
    assert.equal(back.code, 0, back.stderr);
    assert.equal(back.stdout.trim(), `pod/${pod}`);
    second.child.kill("SIGTERM");
    await eventually("tunnel gone", async () => links("sim").length === 0 || undefined);
  });

  test("the same keys in a --config file start an agent (upstream: a kubeconfig, paths relative to the file)", async () => {
    const stateDir = await mkdtemp(join(tg.dir, "config-agent-"));
    await writeFile(join(stateDir, "token"), await joinToken(tg));
    await writeFile(join(stateDir, "kube.yaml"), await readFile(tg.sim.kubeconfigPath, "utf8"));
    const file = join(stateDir, "agent.yaml");
    await writeFile(
      file,
      [
        `gateway: ${tg.gateway.agents?.url}`,
        "cluster: sim",
        "joinTokenFile: token",
        `gatewayCaFile: ${caFile}`,
        "stateDir: state",
        "upstream:",
        "  kubeconfig: { path: kube.yaml }",
        "",
      ].join("\n"),
    );
    const child = spawn(process.execPath, [AIRLOCK_BIN, "agent", "--config", file], {
      env: { PATH: process.env.PATH },
      stdio: ["ignore", "pipe", "pipe"],
    });
    children.push(child);
    let out = "";
    child.stdout?.setEncoding("utf8").on("data", (d: string) => {
      out += d;
    });
    child.stderr?.setEncoding("utf8").on("data", (d: string) => {
      out += d;
    });
    await eventuallyMatches(() => out, /"event":"agent.connected"/, 20_000);
    const r = await kubectl(kubeconfig, ["get", "pod", "-n", "prod", pod, "-o", "name"]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok((await readFile(join(stateDir, "state", "agent.json"), "utf8")).includes('"cluster":"sim"'));
    child.kill("SIGTERM");
    await eventually("tunnel gone", async () => links("sim").length === 0 || undefined);
  });

  test("an agent whose state directory holds another cluster's agent refuses to start, saying what to do", async () => {
    const stateDir = await mkdtemp(join(tg.dir, "mixed-"));
    const dev = await tracked(
      startTestAgent(tg, { stateDir, token: await joinToken(tg, "dev"), cluster: "dev" }),
    );
    dev.stop();
    const sim = await createTestAgent(tg, { stateDir, cluster: "sim" });
    await assert.rejects(
      sim.start(),
      /holds agent agent-[0-9a-f]+ of cluster "dev", not "sim": give each cluster's agent its own --state-dir/,
    );
  });

  test("two agents share the load: streams go to the one with fewer in flight", async () => {
    const one = await tracked(startTestAgent(tg));
    const two = await tracked(startTestAgent(tg));
    const watches = [0, 1].map(() => spawnKubectl(kubeconfig, ["get", "configmaps", "-n", "prod", "-w"]));
    children.push(...watches);
    try {
      await eventually("one watch on each agent", async () => {
        const counts = links("sim")
          .map((l) => l.inFlight)
          .sort();
        return counts.length === 2 && counts[0] === 1 && counts[1] === 1 ? counts : undefined;
      });
    } finally {
      for (const w of watches) w.kill();
    }
    one.stop();
    const still = await kubectl(kubeconfig, ["get", "configmaps", "-n", "prod", "-o", "name"]);
    assert.equal(still.code, 0, still.stderr);
    two.stop();
    await eventually("tunnels gone", async () => links("sim").length === 0 || undefined);
  });

  test("a draining agent (SIGTERM) takes no new requests but lets its open exec session finish", async () => {
    const pair = [await tracked(startTestAgent(tg)), await tracked(startTestAgent(tg))];
    const exec = spawnKubectl(kubeconfig, ["exec", "-i", "-n", "prod", pod, "--", "cat"]);
    children.push(exec);
    let out = "";
    exec.stdout?.setEncoding("utf8").on("data", (d: string) => {
      out += d;
    });
    const exited = new Promise<number>((resolve) => exec.on("close", (code) => resolve(code ?? -1)));
    exec.stdin?.write("one\n");
    await eventuallyMatches(() => out, /one/, 15_000);
    const busyId = links("sim").find((l) => l.inFlight > 0)?.id;
    const busy = pair.find((a) => a.agentId === busyId);
    const other = pair.find((a) => a !== busy);
    assert.ok(busy && other, "the exec runs on one of the two agents");
    const drained = busy.drain(20_000);
    await eventually(
      "the draining agent takes no new streams",
      async () => links("sim").every((l) => l.id !== busy.agentId || !l.usable) || undefined,
    );
    const meanwhile = await kubectl(kubeconfig, [
      "get",
      "configmap",
      "-n",
      "prod",
      "web-config",
      "-o",
      "name",
    ]);
    assert.equal(meanwhile.code, 0, meanwhile.stderr);
    exec.stdin?.write("two\n");
    await eventuallyMatches(() => out, /one\ntwo\n/, 10_000);
    exec.stdin?.end();
    assert.equal(await exited, 0);
    await drained;
    assert.ok(links("sim").every((l) => l.id === other.agentId));
    other.stop();
    await eventually("tunnels gone", async () => links("sim").length === 0 || undefined);
  });

  test("revoking an agent closes its live streams within a second and refuses its certificate after", async () => {
    const agentLogs: object[] = [];
    const a = await tracked(startTestAgent(tg, { logs: agentLogs }));
    const exec = spawnKubectl(kubeconfig, ["exec", "-i", "-n", "prod", pod, "--", "cat"]);
    children.push(exec);
    let out = "";
    exec.stdout?.setEncoding("utf8").on("data", (d: string) => {
      out += d;
    });
    const closed = new Promise<number>((resolve) => exec.on("close", () => resolve(Date.now())));
    exec.stdin?.write("before revoke\n");
    await eventuallyMatches(() => out, /before revoke/, 15_000);
    const r = await runAirlock(tg, caFile, adminToken, ["cluster", "agent", "revoke", String(a.agentId)]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /revoked: 1 tunnel\(s\) closed/);
    const ended = await closed;
    // Timed from the moment the gateway stored the revocation (not from the CLI's start).
    const revokedMs =
      (await new AgentState(tg.gateway.store.counters).agent(String(a.agentId)))?.revokedMs ?? 0;
    assert.ok(
      ended - revokedMs < 1_000,
      `the exec session ended ${ended - revokedMs} ms after the revocation`,
    );
    await eventually("refused on reconnect", async () => a.lastRefusal, { timeoutMs: 10_000 });
    assert.match(String(a.lastRefusal), /was revoked/);
    assert.equal(links("sim").length, 0);
    // Nor can it renew its way back.
    await a.renew();
    const failed = agentLogs.find((e) => (e as { event?: string }).event === "agent.renew.failed");
    assert.match(
      String((failed as { message?: string } | undefined)?.message),
      /renewal refused: agent agent-[0-9a-f]+ was revoked/,
    );
    const notes = await tg.gateway.store.audit.records({ afterSeq: 0, limit: 10_000 });
    assert.ok(notes.some((n) => n.type === "agent.revoked" && n.body.includes(String(a.agentId))));
    assert.ok(notes.some((n) => n.type === "agent.disconnected" && n.body.includes(String(a.agentId))));
    a.stop();
  });
});

describe("impersonation the gateway did not declare", () => {
  let a: Agent;
  before(async () => {
    a = await tracked(startTestAgent(tg));
  });
  after(() => a.stop());

  /** Writes raw HTTP/1.1 into one tunnel stream with `declared` as its declaration; the whole answer. */
  async function rawStream(declared: [string, string][], bytes: string): Promise<string> {
    const link = tg.gateway.agents?.hub.pick("sim");
    assert.ok(link);
    const stream = link.open(declared, () => {});
    let answer = "";
    stream.setEncoding("utf8").on("data", (d: string) => {
      answer += d;
    });
    stream.on("error", () => {});
    const done = new Promise((resolve) => {
      stream.on("end", resolve);
      stream.on("close", resolve);
    });
    // Written, not ended: as the gateway's own HTTP client, the stream stays open until the answer has come (the
    // agent ends it after one answer).
    stream.write(bytes);
    const timer = setTimeout(() => stream.close(), 5_000);
    await done;
    clearTimeout(timer);
    stream.close();
    return answer;
  }

  const create = (name: string, extra: string) => {
    const body = JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name } });
    return (
      `POST /api/v1/namespaces/prod/configmaps HTTP/1.1\r\nHost: sim\r\nContent-Type: application/json\r\n` +
      `${extra}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
    );
  };
  const exists = async (name: string) =>
    (await kubectl(tg.sim.kubeconfigPath, ["get", "configmap", "-n", "prod", name])).code === 0;

  test("an Impersonate-User on a stream that declared none is refused and nothing reaches the cluster", async () => {
    const answer = await rawStream([], create("smuggled-1", "Impersonate-User: system:admin\r\n"));
    assert.match(answer, /^HTTP\/1\.1 403 /);
    assert.match(answer, /Impersonate-\* headers its gateway did not declare/);
    assert.equal(await exists("smuggled-1"), false);
  });

  test("an extra Impersonate-Group beside the declared lines is refused", async () => {
    const declared: [string, string][] = [
      ["Impersonate-User", "airlock:ops"],
      ["Impersonate-Group", "airlock:humans"],
    ];
    const answer = await rawStream(
      declared,
      create(
        "smuggled-2",
        "Impersonate-User: airlock:ops\r\nImpersonate-Group: airlock:humans\r\nimpersonate-group: system:masters\r\n",
      ),
    );
    assert.match(answer, /^HTTP\/1\.1 403 /);
    assert.equal(await exists("smuggled-2"), false);
  });

  test("a second request smuggled after the first on one stream is never forwarded: the stream is reset", async () => {
    const second = create("smuggled-3", "Impersonate-User: system:admin\r\n");
    const answer = await rawStream(
      [],
      `GET /api/v1/namespaces/prod/configmaps/web-config HTTP/1.1\r\nHost: sim\r\n\r\n${second}`,
    );
    // The gateway never sends two requests on one stream: a stream that does is cut, whatever it had asked first.
    assert.ok((answer.match(/HTTP\/1\.1 /g) ?? []).length <= 1, answer);
    assert.doesNotMatch(answer, /HTTP\/1\.1 201 /);
    assert.equal(await exists("smuggled-3"), false);
  });

  test("a request naming another host (absolute-form target) is never forwarded: the stream is reset", async () => {
    const answer = await rawStream(
      [],
      "GET https://other.example/api/v1/namespaces/prod/secrets HTTP/1.1\r\nHost: other.example\r\n\r\n",
    );
    assert.doesNotMatch(answer, /HTTP\/1\.1 200 /);
    assert.equal(answer, "");
  });

  test("exactly the declared lines go through (the control: same request, declared)", async () => {
    const answer = await rawStream([], create("declared-ok", ""));
    assert.match(answer, /^HTTP\/1\.1 201 /);
    assert.equal(await exists("declared-ok"), true);
  });

  test("a declaration is only what the gateway writes: anything else decodes to nothing", () => {
    assert.deepEqual(decodeDeclaration(encodeDeclaration([["Impersonate-User", "a"]])), [
      ["impersonate-user", "a"],
    ]);
    for (const bad of [
      undefined,
      "",
      "not base64!",
      Buffer.from('{"a":1}').toString("base64url"),
      Buffer.from('[["authorization","x"]]').toString("base64url"),
      Buffer.from('[["impersonate-user",1]]').toString("base64url"),
    ]) {
      assert.equal(decodeDeclaration(bad), undefined, String(bad));
    }
  });
});

// Graceful shutdown (issue 16 §8): `airlock serve` (a child process) gets SIGTERM while it serves a plain request
// whose body is still arriving, a watch and an exec session. /readyz turns 503 at once, the listener stops
// accepting, the plain request finishes within the grace period, the watch ends with an ERROR event carrying a
// Status, the exec gets the Status on its error channel and a normal close, every request has its completion record,
// and the process exits 0.
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import http2 from "node:http2";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { connect as tlsConnect } from "node:tls";
import { type Simulator, startSimulator } from "@airlock/sim";
import WebSocket from "ws";
import { openStore } from "../../src/store/index.ts";
import { eventually } from "../helpers/eventually.ts";
import { callGateway, startTestGateway } from "../helpers/gateway.ts";
import { httpsJson } from "../helpers/https-json.ts";
import { spawnKubectl } from "../helpers/kubectl.ts";
import { allAuditEvents } from "./support.ts";

const BIN = join(import.meta.dirname, "../../bin/airlock.ts");
let dir: string;
let sim: Simulator;
const children: ChildProcess[] = [];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "airlock-shutdown-"));
  sim = await startSimulator({ dir: join(dir, "sim"), port: 0, seed: "demo" });
  await writeFile(
    join(dir, "airlock.yaml"),
    [
      "listen: { address: 127.0.0.1, port: 0 }",
      `dataDir: ${join(dir, "data")}`,
      `clusters: [{ name: sim, kubeconfig: { path: ${sim.kubeconfigPath} } }]`,
      "policy: { builtin: allow-authenticated }",
      "shutdown: { gracePeriodSeconds: 5 }",
      "log: { level: info }",
      "",
    ].join("\n"),
  );
});

after(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  await sim?.close();
  await rm(dir, { recursive: true, force: true });
});

const call = (gw: { url: string; ca: string }, method: string, path: string, token: string, body?: unknown) =>
  httpsJson(gw, method, path, token, body);

test("SIGTERM: not ready at once, no new connections, requests finish, streams end with a Status, exit 0", async () => {
  const child = spawn(process.execPath, [BIN, "serve", "--config", join(dir, "airlock.yaml")], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  let err = "";
  let out = "";
  child.stderr?.setEncoding("utf8").on("data", (d: string) => {
    err += d;
  });
  child.stdout?.setEncoding("utf8").on("data", (d: string) => {
    out += d;
  });
  for (let i = 0; i < 300 && !/airlock: ready/.test(err); i++) await new Promise((r) => setTimeout(r, 100));
  const url = /gateway listening on (\S+)/.exec(err)?.[1];
  assert.ok(url, err);
  const gw = { url, ca: await readFile(join(dir, "data", "tls", "ca.crt"), "utf8") };
  const admin = (await readFile(join(dir, "data", "admin.token"), "utf8")).trim();
  const created = await call(gw, "POST", "/airlock/v1/identities", admin, {
    name: "sd-agent",
    kind: "agent",
  });
  assert.equal(created.code, 201, JSON.stringify(created.body));
  const token: string = created.body.token;
  const pods = await call(gw, "GET", "/api/v1/namespaces/prod/pods", token);
  const pod = pods.body.items[0].metadata.name;

  // A watch (HTTP/2).
  const session = http2.connect(url, { ca: gw.ca });
  session.on("error", () => {});
  const watch = session.request({
    ":path": "/api/v1/namespaces/prod/configmaps?watch=1",
    authorization: `Bearer ${token}`,
  });
  let watchText = "";
  watch.setEncoding("utf8").on("data", (d: string) => {
    watchText += d;
  });
  const watchEnded = new Promise<string>((resolve) => {
    watch.on("end", () => resolve("end"));
    watch.on("error", (e) => resolve(`error: ${e.message}`));
  });
  await once(watch, "response");

  // An exec session (WebSocket, v5 channel protocol) running a long command.
  const exec = new WebSocket(
    `${url.replace("https", "wss")}/api/v1/namespaces/prod/pods/${pod}/exec?command=sleep&command=30&stdout=1&stderr=1`,
    ["v5.channel.k8s.io"],
    { ca: gw.ca, headers: { authorization: `Bearer ${token}` } },
  );
  const frames: Buffer[] = [];
  exec.on("message", (d: Buffer) => frames.push(d));
  const execClosed = new Promise<number>((resolve) => exec.on("close", (code) => resolve(code)));
  exec.on("error", () => {});
  await once(exec, "open");

  // A plain request whose body is still arriving (HTTP/1.1), with /readyz pipelined behind it.
  const u = new URL(url);
  const plain = tlsConnect({
    host: u.hostname,
    port: Number(u.port),
    ca: gw.ca,
    ALPNProtocols: ["http/1.1"],
  });
  await once(plain, "secureConnect");
  const body = JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "during-shutdown" } });
  plain.write(
    `POST /api/v1/namespaces/default/configmaps HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 10)}`,
  );
  let plainText = "";
  plain.setEncoding("latin1").on("data", (d: string) => {
    plainText += d;
  });
  const plainClosed = once(plain, "close");
  await new Promise((r) => setTimeout(r, 300));

  const t0 = Date.now();
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  child.kill("SIGTERM");
  await new Promise((r) => setTimeout(r, 500));

  // The listener no longer accepts.
  const refused = await new Promise<string>((resolve) => {
    const s = tlsConnect({ host: u.hostname, port: Number(u.port), ca: gw.ca });
    s.on("secureConnect", () => resolve("connected"));
    s.on("error", (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
  });
  assert.equal(refused, "ECONNREFUSED");

  // The watch and the exec were ended with a Status.
  assert.equal(await watchEnded, "end");
  const last = JSON.parse(watchText.trim().split("\n").at(-1) as string);
  assert.equal(last.type, "ERROR");
  assert.equal(last.object.kind, "Status");
  assert.equal(last.object.code, 503);
  assert.match(last.object.message, /the gateway is shutting down/);
  assert.equal(await execClosed, 1000);
  const errorFrame = frames.find((f) => f[0] === 3);
  assert.ok(errorFrame, `no error-channel frame among ${frames.length}`);
  const execStatus = JSON.parse(errorFrame.subarray(1).toString());
  assert.equal(execStatus.kind, "Status");
  assert.match(execStatus.message, /the gateway is shutting down/);

  // The plain request in flight still finishes; /readyz behind it says not ready; then the connection closes.
  plain.write(`${body.slice(10)}GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n`);
  await plainClosed;
  assert.match(plainText, /^HTTP\/1\.1 201 /);
  assert.match(plainText, /HTTP\/1\.1 503 [\s\S]*not ready/);

  assert.equal(await exited, 0, err);
  const took = Date.now() - t0;
  assert.ok(took < 5000, `exited after ${took} ms`);
  session.destroy();

  // Every request has its completion record; the streams' say why they ended.
  const store = await openStore({ kind: "sqlite", path: join(dir, "data", "airlock.db") });
  try {
    const events = await allAuditEvents(store);
    const open = events.filter((e) => e.completedAt === null).map((e) => `${e.method} ${e.path}`);
    assert.deepEqual(open, []);
    const post = events.find((e) => e.method === "POST" && e.path.endsWith("/configmaps"));
    assert.equal(post?.status, 201);
    const watched = events.find((e) => e.verb === "watch");
    assert.match(watched?.reason ?? "", /airlock closed the watch: the gateway is shutting down/);
    const execed = events.find((e) => e.subresource === "exec");
    assert.match(execed?.reason ?? "", /airlock closed the exec: the gateway is shutting down/);
  } finally {
    await store.close();
  }
  assert.match(out, /shut down/);
});

test("real kubectl: a watch and an exec that the gateway ends at shutdown print why", async () => {
  const gw = await startTestGateway({});
  try {
    const { kubeconfig, token, id } = await gw.addIdentity("k-agent", "agent", ["agents"]);
    const pods = await callGateway(gw, "GET", "/api/v1/namespaces/prod/pods", token);
    const pod = pods.body.items[0].metadata.name;
    const run = (args: string[]) => {
      const child = spawnKubectl(kubeconfig, args);
      let text = "";
      child.stdout?.on("data", (d) => {
        text += d;
      });
      child.stderr?.on("data", (d) => {
        text += d;
      });
      const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
      return { child, text: () => text, exited };
    };
    const watch = run(["get", "configmaps", "-w"]);
    const exec = run(["exec", pod, "--", "sleep", "30"]);
    await eventually("the watch listing", () => watch.text().includes("web-config"));
    await eventually("the exec session", () =>
      gw.gateway.runtime.streams.ofIdentity(id).some((s) => s.kind === "exec"),
    );
    await gw.gateway.close(3);
    assert.equal(await exec.exited, 1);
    assert.match(exec.text(), /error: airlock: the gateway is shutting down/);
    watch.child.kill();
    assert.match(watch.text(), /ServiceUnavailable +airlock: the gateway is shutting down/);
  } finally {
    await gw.sim.close();
    await rm(gw.dir, { recursive: true, force: true });
  }
});

// Reload without dropping connections (issue 16 §8): `airlock serve` (a child process) with given TLS files. The
// server certificate is rotated on disk: new connections get the new certificate while a watch opened before the
// rotation keeps receiving events. Then SIGHUP with a changed file: a reloadable limit applies at once (a second
// stream is refused under the lowered maxStreamsPerIdentity) while the live watch continues, and a setting that
// needs a restart is named as such.
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { once } from "node:events";
import { mkdtemp, readFile, rename, rm, writeFile } from "node:fs/promises";
import http2 from "node:http2";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { connect as tlsConnect } from "node:tls";
import { type Simulator, startSimulator } from "@airlock/sim";
import { createCertificateAuthority, issueServerCertificate } from "../../src/shared/tls.ts";
import { httpsJson } from "../helpers/https-json.ts";

const BIN = join(import.meta.dirname, "../../bin/airlock.ts");
let dir: string;
let sim: Simulator;
const children: ChildProcess[] = [];
const ca = createCertificateAuthority("reload-test-ca");
const issue = () =>
  issueServerCertificate(ca, { commonName: "airlock", dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"] });

function configText(maxStreams: number, approvalTtl: string): string {
  return [
    "listen: { address: 127.0.0.1, port: 0 }",
    `dataDir: ${join(dir, "data")}`,
    `tls: { certFile: ${join(dir, "server.crt")}, keyFile: ${join(dir, "server.key")}, caFile: ${join(dir, "ca.crt")} }`,
    `clusters: [{ name: sim, kubeconfig: { path: ${sim.kubeconfigPath} } }]`,
    "policy: { builtin: allow-authenticated }",
    `limits: { maxStreamsPerIdentity: ${maxStreams} }`,
    `reviews: { approvalTtl: ${approvalTtl} }`,
    "log: { level: info }",
    "",
  ].join("\n");
}

/** Replaces a file the way rotation tools do: write aside, rename over. */
async function replace(path: string, content: string): Promise<void> {
  await writeFile(`${path}.new`, content, { mode: 0o600 });
  await rename(`${path}.new`, path);
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "airlock-reload-"));
  sim = await startSimulator({ dir: join(dir, "sim"), port: 0, seed: "demo" });
  const first = issue();
  await writeFile(join(dir, "ca.crt"), ca.certPem);
  await writeFile(join(dir, "server.crt"), first.certPem);
  await writeFile(join(dir, "server.key"), first.keyPem, { mode: 0o600 });
  await writeFile(join(dir, "airlock.yaml"), configText(3, "1h"));
});

after(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  await sim?.close();
  await rm(dir, { recursive: true, force: true });
});

const call = (url: string, method: string, path: string, token: string, body?: unknown) =>
  httpsJson({ url, ca: ca.certPem }, method, path, token, body);

/** The SHA-256 fingerprint of the certificate a new connection is given. */
function servedFingerprint(url: string): Promise<string> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const s = tlsConnect({ host: u.hostname, port: Number(u.port), ca: ca.certPem }, () => {
      resolve(s.getPeerCertificate().fingerprint256);
      s.destroy();
    });
    s.on("error", reject);
  });
}

function fingerprintOf(pem: string): string {
  return new X509Certificate(pem).fingerprint256;
}

test("a certificate rotation and a SIGHUP reload keep a live watch; new connections and limits take the new values", async () => {
  const child = spawn(process.execPath, [BIN, "serve", "--config", join(dir, "airlock.yaml")], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  children.push(child);
  let err = "";
  child.stderr?.setEncoding("utf8").on("data", (d: string) => {
    err += d;
  });
  for (let i = 0; i < 300 && !/airlock: ready/.test(err); i++) await new Promise((r) => setTimeout(r, 100));
  const url = /gateway listening on (\S+)/.exec(err)?.[1];
  assert.ok(url, err);
  const admin = (await readFile(join(dir, "data", "admin.token"), "utf8")).trim();
  const created = await call(url, "POST", "/airlock/v1/identities", admin, {
    name: "rl-agent",
    kind: "agent",
  });
  assert.equal(created.code, 201, JSON.stringify(created.body));
  const token: string = created.body.token;
  const before = await servedFingerprint(url);

  // A watch opened before the rotation.
  const session = http2.connect(url, { ca: ca.certPem });
  session.on("error", () => {});
  const watch = session.request({
    ":path": "/api/v1/namespaces/default/configmaps?watch=1",
    authorization: `Bearer ${token}`,
  });
  let events = "";
  watch.setEncoding("utf8").on("data", (d: string) => {
    events += d;
  });
  const [head] = (await once(watch, "response")) as [http2.IncomingHttpHeaders];
  assert.equal(head[":status"], 200);
  const sawEvent = async (name: string) => {
    for (let i = 0; i < 60 && !events.includes(`"name":"${name}"`); i++)
      await new Promise((r) => setTimeout(r, 100));
    assert.ok(events.includes(`"name":"${name}"`), `the watch did not see ${name}`);
  };

  // Rotation: new certificate and key on disk; the next connections are served the new certificate.
  const rotated = issue();
  await replace(join(dir, "server.key"), rotated.keyPem);
  await replace(join(dir, "server.crt"), rotated.certPem);
  const expected = fingerprintOf(rotated.certPem);
  assert.notEqual(expected, before);
  let served = before;
  for (let i = 0; i < 80 && served !== expected; i++) {
    await new Promise((r) => setTimeout(r, 100));
    served = await servedFingerprint(url);
  }
  assert.equal(served, expected, "new connections are not served the rotated certificate");
  const cm = (name: string) => ({ apiVersion: "v1", kind: "ConfigMap", metadata: { name } });
  assert.equal(
    (await call(url, "POST", "/api/v1/namespaces/default/configmaps", token, cm("after-rotation"))).code,
    201,
  );
  await sawEvent("after-rotation");

  // SIGHUP with a lowered stream limit (reloadable) and a changed review TTL (needs a restart).
  await writeFile(join(dir, "airlock.yaml"), configText(1, "2h"));
  child.kill("SIGHUP");
  for (let i = 0; i < 50 && !/configuration reloaded/.test(err); i++)
    await new Promise((r) => setTimeout(r, 100));
  assert.match(err, /configuration reloaded \(applied: limits\)/);
  assert.match(err, /changed but needing a restart: reviews/);
  const second = http2.connect(url, { ca: ca.certPem });
  second.on("error", () => {});
  const refused = second.request({
    ":path": "/api/v1/namespaces/default/pods?watch=1",
    authorization: `Bearer ${token}`,
  });
  let refusedText = "";
  refused.setEncoding("utf8").on("data", (d: string) => {
    refusedText += d;
  });
  const [refusedHead] = (await once(refused, "response")) as [http2.IncomingHttpHeaders];
  await once(refused, "end");
  assert.equal(refusedHead[":status"], 429);
  assert.match(JSON.parse(refusedText).message, /the limit is 1 \(limits\.maxStreamsPerIdentity\)/);
  second.destroy();

  // The first watch lives on.
  assert.equal(
    (await call(url, "POST", "/api/v1/namespaces/default/configmaps", token, cm("after-reload"))).code,
    201,
  );
  await sawEvent("after-reload");
  assert.equal(session.destroyed, false);

  session.destroy();
  const exited = once(child, "exit");
  child.kill("SIGTERM");
  const [code] = await exited;
  assert.equal(code, 0, err);
});

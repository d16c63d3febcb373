// The audit log of a real gateway in front of the simulator, driven by the real kubectl: the signing key is created
// 0600, requests (allowed and refused) are chained and reach a file sink as audit.k8s.io/v1 events, `airlock audit
// verify` passes through the admin API, and after shutdown the whole chain is signed and verifies offline.
import assert from "node:assert/strict";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { after, before, test } from "node:test";
import { type Simulator, startSimulator } from "@airlock/sim";
import { buildKubeconfig } from "../../src/admin/index.ts";
import { validateConfig } from "../../src/gateway/config.ts";
import { type Gateway, startGateway } from "../../src/server/index.ts";
import { airlock } from "../helpers/cli.ts";
import { eventually } from "../helpers/eventually.ts";
import { kubectl } from "../helpers/kubectl.ts";

let dir: string;
let sim: Simulator;
let gateway: Gateway | undefined;
let dataDir: string;
let sinkFile: string;
let env: Record<string, string>;
let goodConfig: string;
let badConfig: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "airlock-audit-gw-"));
  sim = await startSimulator({ dir: join(dir, "sim"), port: 0, seed: "demo" });
  dataDir = join(dir, "gateway");
  sinkFile = join(dir, "audit.k8s.ndjson");
  const validated = validateConfig(
    {
      listen: { address: "127.0.0.1", port: 0 },
      dataDir,
      clusters: [{ name: "sim", kubeconfig: { path: sim.kubeconfigPath } }],
      policy: { builtin: "allow-authenticated" },
      audit: {
        checkpoint: { everyEvents: 4, everySeconds: 3600 },
        sinks: [{ type: "file", path: "audit.k8s.ndjson", format: "k8s" }],
      },
      log: { level: "error" },
    },
    dir,
  );
  if (!validated.ok) throw new Error(validated.errors.join("; "));
  assert.equal(
    validated.config.audit.sinks[0]?.type === "file" && validated.config.audit.sinks[0].path,
    sinkFile,
  );
  const quiet = new Writable({ write: (_c, _e, cb) => cb() });
  gateway = await startGateway(validated.config, { logDestination: quiet });
  const { token } = await gateway.store.identities.create({
    name: "audit-agent",
    kind: "agent",
    groups: ["agents"],
  });
  goodConfig = join(dir, "good.kubeconfig");
  badConfig = join(dir, "bad.kubeconfig");
  const kc = (t: string) =>
    buildKubeconfig({
      server: gateway!.url,
      caPem: gateway!.caPem,
      identity: "audit-agent",
      token: t,
      namespace: "default",
    });
  await writeFile(goodConfig, kc(token), { mode: 0o600 });
  await writeFile(badConfig, kc("airlock_not-a-real-token-000000000000000000000000"), { mode: 0o600 });
  const caFile = join(dir, "ca.crt");
  writeFileSync(caFile, gateway.caPem);
  env = {
    AIRLOCK_SERVER: gateway.url,
    AIRLOCK_TOKEN: readFileSync(gateway.adminTokenPath, "utf8").trim(),
    AIRLOCK_CA: caFile,
  };
});

after(async () => {
  await gateway?.close();
  await sim.close();
  await rm(dir, { recursive: true, force: true });
});

test("the signing key is created in the data directory, mode 0600, and pubkey serves its public half", async () => {
  const keyFile = join(dataDir, "audit-signing.key");
  assert.ok(existsSync(keyFile));
  assert.equal(statSync(keyFile).mode & 0o777, 0o600);
  const r = await airlock(["audit", "pubkey"], env);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^-----BEGIN PUBLIC KEY-----/);
  writeFileSync(join(dir, "audit.pub"), r.stdout);
  const offline = await airlock(["audit", "pubkey", "--data-dir", dataDir], {});
  assert.equal(offline.stdout, r.stdout);
});

test("kubectl requests, allowed and refused, are chained, signed and delivered to the file sink as k8s events", async () => {
  const ok = await kubectl(goodConfig, ["get", "pods"]);
  assert.equal(ok.code, 0, ok.stderr);
  const refused = await kubectl(badConfig, ["get", "pods"]);
  assert.notEqual(refused.code, 0);
  await eventually(
    "the refused request in the sink",
    () => existsSync(sinkFile) && readFileSync(sinkFile, "utf8"),
    {
      until: (text) => typeof text === "string" && /system:anonymous/.test(text),
    },
  );
  const events = readFileSync(sinkFile, "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
  const list = events.find((e) => e.verb === "list" && e.objectRef?.resource === "pods");
  assert.ok(list, "kubectl get pods is a list of pods");
  assert.equal(list.apiVersion, "audit.k8s.io/v1");
  assert.equal(list.stage, "ResponseComplete");
  assert.equal(list.user.username, "airlock:audit-agent");
  assert.deepEqual(list.user.groups, ["airlock:agents", "agents"]);
  assert.equal(list.responseStatus.code, 200);
  assert.equal(list.annotations["airlock.dev/decision"], "allow");
  assert.match(list.annotations["airlock.dev/kubectl-command"] ?? "", /kubectl get/);
  const denied = events.find((e) => e.user.username === "system:anonymous");
  assert.equal(denied.responseStatus.code, 401);
  assert.equal(denied.annotations["authorization.k8s.io/decision"], "forbid");
  // everyEvents: 4 — a checkpoint was written while requests ran.
  const checkpoints = await gateway!.store.audit.checkpoints();
  assert.ok(checkpoints.length >= 1);
  const v = await airlock(["audit", "verify"], env);
  assert.equal(v.code, 0, v.stdout + v.stderr);
  assert.match(v.stdout, /audit log verified/);
});

test("after shutdown the whole chain is signed and verifies offline from the database file", async () => {
  await gateway!.close();
  const head = await (async () => {
    const r = await airlock(
      ["audit", "verify", "--db", join(dataDir, "airlock.db"), "--pubkey", join(dir, "audit.pub"), "--json"],
      {},
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    return JSON.parse(r.stdout) as { toSeq: number; signedThrough: number; records: number };
  })();
  gateway = undefined;
  assert.ok(head.records >= 4);
  assert.equal(head.signedThrough, head.toSeq, "the shutdown checkpoint covers the last record");
});

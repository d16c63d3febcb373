// End to end, masking: the real kubectl through Airlock with a policy whose rules attach the `default` masking
// profile for agents and the break-glass profile `none` for the SRE group. Every output path the agent can reach —
// get -o yaml/json, Table, watch, exec, logs, the response of an apply, a protobuf Accept — shows markers where the
// simulator's admin sees the real values.
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type Simulator, startSimulator } from "@airlock/sim";
import { DEMO_DB_PASSWORD } from "@airlock/sim/seed.ts";
import { buildKubeconfig } from "../../src/admin/index.ts";
import { validateConfig } from "../../src/gateway/config.ts";
import { type Gateway, startGateway } from "../../src/server/index.ts";
import { eventuallyMatches } from "../helpers/eventually.ts";
import { kubectl, spawnKubectl } from "../helpers/kubectl.ts";

const POLICY = `
apiVersion: airlock.dev/v1alpha1
kind: Policy
metadata: { name: agents-masked }
spec:
  subjects: [{ group: agents }]
  rules:
    - name: everything-masked
      verbs: ["*"]
      effect: allow
      mask: default
---
apiVersion: airlock.dev/v1alpha1
kind: Policy
metadata: { name: sre-break-glass }
spec:
  subjects: [{ group: sre }]
  rules:
    - name: break-glass
      verbs: ["*"]
      effect: allow
      mask: none
`;

const b64 = (s: string) => Buffer.from(s).toString("base64");
const MARKER = /‹masked:[0-9a-f]{8}›/;
// A JWT-shaped bearer token the test makes a pod print.
const TOKEN =
  "eyJhbGciOiJSUzI1NiIsImtpZCI6InRlc3QifQ.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6cHJvZDp3ZWIifQ.c2lnbmF0dXJlLXRoYXQtaXMtbm90LXJlYWw";

let dir: string;
let sim: Simulator;
let gateway: Gateway;
let agent: string;
let agentToken: string;
let sre: string;
const admin = (args: string[], input?: string) =>
  kubectl(sim.kubeconfigPath, ["-n", "prod", ...args], input ? { input } : {});
const viaAgent = (args: string[], input?: string) =>
  kubectl(agent, ["-n", "prod", ...args], input ? { input } : {});

async function identity(name: string, groups: string[]) {
  const { token } = await gateway.store.identities.create({
    name,
    kind: groups.includes("sre") ? "human" : "agent",
    groups,
  });
  const path = join(dir, `${name}.kubeconfig`);
  await writeFile(
    path,
    buildKubeconfig({ server: gateway.url, caPem: gateway.caPem, identity: name, token, namespace: "prod" }),
    {
      mode: 0o600,
    },
  );
  return { path, token };
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "airlock-mask-e2e-"));
  sim = await startSimulator({ dir: join(dir, "sim"), port: 0, seed: "demo" });
  await writeFile(join(dir, "policy.yaml"), POLICY);
  const validated = validateConfig(
    {
      listen: { address: "127.0.0.1", port: 0 },
      dataDir: join(dir, "gateway"),
      clusters: [{ name: "sim", kubeconfig: { path: sim.kubeconfigPath } }],
      policy: { files: [join(dir, "policy.yaml")] },
      log: { level: "silent" },
    },
    dir,
  );
  if (!validated.ok) throw new Error(validated.errors.join("; "));
  gateway = await startGateway(validated.config);
  const a = await identity("demo-agent", ["agents"]);
  agent = a.path;
  agentToken = a.token;
  sre = (await identity("alice", ["sre"])).path;
});
after(async () => {
  await gateway?.close();
  await sim?.close();
  await rm(dir, { recursive: true, force: true });
});

describe("masking through Airlock with the default profile", () => {
  test("get secret -o yaml shows markers (valid base64) while the cluster admin sees the real value", async () => {
    const masked = await viaAgent(["get", "secret", "db-credentials", "-o", "yaml"]);
    assert.equal(masked.code, 0, masked.stderr);
    assert.ok(!masked.stdout.includes(b64(DEMO_DB_PASSWORD)), masked.stdout);
    const password = /password: (\S+)/.exec(masked.stdout)?.[1] ?? "";
    assert.match(Buffer.from(password, "base64").toString("utf8"), MARKER);
    assert.match(masked.stderr, /Warning: airlock: 2 values masked by profile default/);
    const real = await admin(["get", "secret", "db-credentials", "-o", "yaml"]);
    assert.ok(real.stdout.includes(b64(DEMO_DB_PASSWORD)));
  });

  test("get secret -o json shows the same marker on every read (keyed HMAC, stable)", async () => {
    const one = await viaAgent(["get", "secret", "db-credentials", "-o", "json"]);
    const two = await viaAgent(["get", "secret", "db-credentials", "-o", "json"]);
    assert.equal(one.code, 0, one.stderr);
    const data = (JSON.parse(one.stdout) as { data: Record<string, string> }).data;
    assert.match(Buffer.from(data.password ?? "", "base64").toString(), MARKER);
    assert.deepEqual(JSON.parse(two.stdout).data, data);
  });

  test("get secrets (Table) and get secrets -o json (list) work and leak nothing", async () => {
    const table = await viaAgent(["get", "secrets"]);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^db-credentials\s+Opaque\s+2\s/m);
    const list = await viaAgent(["get", "secrets", "-o", "json"]);
    assert.equal(list.code, 0, list.stderr);
    assert.ok(!list.stdout.includes(b64(DEMO_DB_PASSWORD)));
    const items = (
      JSON.parse(list.stdout) as { items: { metadata: { name: string }; data?: Record<string, string> }[] }
    ).items;
    const db = items.find((i) => i.metadata.name === "db-credentials");
    assert.ok(db, "db-credentials is in the list");
    assert.match(
      Buffer.from(db.data?.password ?? "", "base64").toString(),
      MARKER,
      "its password is a marker",
    );
  });

  test("get -w secrets masks each event as it arrives", async () => {
    const child = spawnKubectl(agent, [
      "-n",
      "prod",
      "get",
      "secrets",
      "-w",
      "-o",
      "json",
      "--output-watch-events",
    ]);
    let out = "";
    child.stdout?.setEncoding("utf8").on("data", (d: string) => {
      out += d;
    });
    await eventuallyMatches(() => out, /db-credentials/);
    const created = await admin([
      "create",
      "secret",
      "generic",
      "watched",
      "--from-literal=apiKey=watch-me-9f8e7d6c5b4a",
    ]);
    assert.equal(created.code, 0, created.stderr);
    await eventuallyMatches(() => out, /"name":\s*"watched"/);
    child.kill();
    assert.ok(!out.includes(b64("watch-me-9f8e7d6c5b4a")) && !out.includes("watch-me-9f8e7d6c5b4a"), out);
    assert.match(out, /"apiKey":\s*"4oC5bWFza2Vk[A-Za-z0-9+/=]+"/); // base64 of ‹masked:
  });

  test("exec deploy/web -- env shows DB_PASSWORD masked", async () => {
    const r = await viaAgent(["exec", "deploy/web", "--", "env"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^DB_PASSWORD=‹masked:[0-9a-f]{8}›$/m);
    assert.ok(!r.stdout.includes(DEMO_DB_PASSWORD));
    const direct = await admin(["exec", "deploy/web", "--", "env"]);
    assert.ok(direct.stdout.includes(`DB_PASSWORD=${DEMO_DB_PASSWORD}`));
  });

  test("logs of a pod that printed a bearer token mask it", async () => {
    const pods = await admin(["get", "pods", "-l", "app=web", "-o", "jsonpath={.items[0].metadata.name}"]);
    const pod = pods.stdout.trim();
    const attach = await admin(["attach", "-i", pod], `Authorization: Bearer ${TOKEN}\n`);
    assert.equal(attach.code, 0, attach.stderr);
    const direct = await admin(["logs", pod]);
    assert.ok(direct.stdout.includes(TOKEN), "the pod's log holds the token");
    const r = await viaAgent(["logs", pod]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(!r.stdout.includes(TOKEN));
    assert.ok(!r.stdout.includes(TOKEN.split(".")[2] ?? "x"));
    assert.match(r.stdout, /Authorization: Bearer ‹masked:[0-9a-f]{8}›/);
  });

  test("apply of a Secret returns a masked object, and the cluster stores the real value", async () => {
    const manifest = `apiVersion: v1\nkind: Secret\nmetadata: { name: applied, namespace: prod }\nstringData: { token: applied-value-31337-xyz }\n`;
    const r = await viaAgent(["apply", "-f", "-", "-o", "json"], manifest);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(
      !r.stdout.includes("applied-value-31337-xyz") && !r.stdout.includes(b64("applied-value-31337-xyz")),
      r.stdout,
    );
    assert.match(r.stdout, /‹masked|4oC5bWFza2Vk/);
    // The simulator keeps stringData as written (a real apiserver folds it into data): accept either.
    const real = JSON.parse((await admin(["get", "secret", "applied", "-o", "json"])).stdout) as {
      data?: { token?: string };
      stringData?: { token?: string };
    };
    const stored = real.stringData?.token ?? Buffer.from(real.data?.token ?? "", "base64").toString();
    assert.equal(stored, "applied-value-31337-xyz");
  });

  test("-o yaml of a Deployment masks the env value and the last-applied annotation", async () => {
    const manifest = `apiVersion: apps/v1
kind: Deployment
metadata: { name: tokened, namespace: prod }
spec:
  replicas: 1
  selector: { matchLabels: { app: tokened } }
  template:
    metadata: { labels: { app: tokened } }
    spec:
      containers:
        - name: app
          image: nginx:1.27
          env: [{ name: API_TOKEN, value: deploy-secret-5150-abc }]
`;
    const applied = await admin(["apply", "-f", "-"], manifest);
    assert.equal(applied.code, 0, applied.stderr);
    const r = await viaAgent(["get", "deployment", "tokened", "-o", "yaml"]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(!r.stdout.includes("deploy-secret-5150-abc"), r.stdout);
    assert.match(
      r.stdout,
      /kubectl.kubernetes.io\/last-applied-configuration: \|[\s\S]*API_TOKEN[\s\S]*‹masked:/,
    );
    assert.match(r.stdout, /value: ‹masked:[0-9a-f]{8}›/);
  });

  test("a protobuf Accept gets a masked JSON body, never an unmasked one", async () => {
    const url = new URL("/api/v1/namespaces/prod/secrets/db-credentials", gateway.url);
    const { status, type, body } = await new Promise<{ status: number; type: string; body: string }>(
      (resolve, reject) => {
        const req = request(
          url,
          {
            ca: gateway.caPem,
            headers: { Authorization: `Bearer ${agentToken}`, Accept: "application/vnd.kubernetes.protobuf" },
          },
          (res) => {
            let text = "";
            res.setEncoding("utf8").on("data", (d: string) => {
              text += d;
            });
            res.on("end", () =>
              resolve({ status: res.statusCode ?? 0, type: String(res.headers["content-type"]), body: text }),
            );
          },
        );
        req.on("error", reject);
        req.end();
      },
    );
    assert.equal(status, 200, body);
    assert.match(type, /application\/json/);
    assert.ok(!body.includes(b64(DEMO_DB_PASSWORD)));
    assert.match(
      Buffer.from((JSON.parse(body) as { data: { password: string } }).data.password, "base64").toString(),
      MARKER,
    );
  });

  test("the audit log records counts per rule and never the values", async () => {
    const records = await gateway.store.audit.records({ afterSeq: 0, limit: 10_000 });
    const notes = records.filter((r) => r.type === "masking.applied");
    assert.ok(notes.length > 0);
    assert.ok(
      notes.some((r) => /"secret-data":2/.test(r.body)),
      notes.map((n) => n.body).join("\n"),
    );
    for (const r of records) {
      assert.ok(!r.body.includes(DEMO_DB_PASSWORD) && !r.body.includes(b64(DEMO_DB_PASSWORD)), r.body);
    }
  });

  test("a human given the break-glass profile sees real values, and the audit says so", async () => {
    const r = await kubectl(sre, ["-n", "prod", "get", "secret", "db-credentials", "-o", "json"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      (JSON.parse(r.stdout) as { data: { password: string } }).data.password,
      b64(DEMO_DB_PASSWORD),
    );
    const records = await gateway.store.audit.records({ afterSeq: 0, limit: 10_000 });
    assert.ok(records.some((x) => x.type === "masking.break-glass" && x.body.includes('"profile":"none"')));
  });
});

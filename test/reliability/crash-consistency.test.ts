// Crash consistency: under sustained load, the gateway (`airlock serve`, a child process) is killed with SIGKILL and
// started again on the same data directory. Every request the cluster saw has its audit record (write-ahead), the
// audit chain verifies, and a review that was pending before the crash is still pending, so a wait-mode client can
// retry.
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { type Simulator, startSimulator } from "@airlock/sim";
import { openStore } from "../../src/store/index.ts";
import { serveAirlock } from "../helpers/cli.ts";
import { eventually } from "../helpers/eventually.ts";
import { httpsJson } from "../helpers/https-json.ts";
import { allAuditEvents } from "./support.ts";

const DEMO_POLICY = new URL("../../examples/policies/demo.yaml", import.meta.url).pathname;
let dir: string;
let sim: Simulator;
const children: ChildProcess[] = [];

async function serve(): Promise<{ child: ChildProcess; url: string; ca: string; admin: string }> {
  // Ready as soon as it says so; the deadline is only for a machine under heavy load (a whole suite, other work),
  // where starting Node and loading the gateway can take well over the helper's default 30 s.
  const { child, url } = await serveAirlock(join(dir, "airlock.yaml"), { timeoutMs: 180_000 });
  children.push(child);
  const ca = await readFile(join(dir, "data", "tls", "ca.crt"), "utf8");
  const admin = (await readFile(join(dir, "data", "admin.token"), "utf8")).trim();
  return { child, url, ca, admin };
}

const call = (gw: { url: string; ca: string }, method: string, path: string, token: string, body?: unknown) =>
  httpsJson(gw, method, path, token, body);

function simRequests(): Promise<{ seq: number; method: string; path: string; impersonatedUser?: string }[]> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${sim.url}/sim/v1/requests`,
      { ca: sim.caPem, headers: { authorization: `Bearer ${sim.adminToken}` } },
      (res) => {
        let text = "";
        res.setEncoding("utf8").on("data", (d: string) => {
          text += d;
        });
        res.on("end", () => resolve(JSON.parse(text).items));
      },
    );
    req.on("error", reject);
    req.end();
  });
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "airlock-crash-"));
  sim = await startSimulator({ dir: join(dir, "sim"), port: 0, seed: "demo" });
  await mkdir(join(dir, "policies"));
  await copyFile(DEMO_POLICY, join(dir, "policies", "demo.yaml"));
  await writeFile(
    join(dir, "airlock.yaml"),
    [
      "listen: { address: 127.0.0.1, port: 0 }",
      `dataDir: ${join(dir, "data")}`,
      `clusters: [{ name: sim, kubeconfig: { path: ${sim.kubeconfigPath} } }]`,
      `policy: { files: [${join(dir, "policies")}] }`,
      "log: { level: error }",
      "",
    ].join("\n"),
  );
});

after(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  await sim?.close();
  await rm(dir, { recursive: true, force: true });
});

test("SIGKILL under load: every request the cluster saw is audited, the chain verifies, reviews stay pending", async () => {
  const first = await serve();
  const created = await call(first, "POST", "/airlock/v1/identities", first.admin, {
    name: "crash-agent",
    kind: "agent",
    groups: ["agents"],
  });
  assert.equal(created.code, 201, JSON.stringify(created.body));
  const token: string = created.body.token;
  assert.ok(token);

  // A wait-mode review: the client waits for a human (demo policy: writes in prod, with the justification it requires).
  const held = httpsJson(first, "DELETE", "/apis/apps/v1/namespaces/prod/deployments/web", token, undefined, {
    "airlock-justification": encodeURIComponent("INC-7: crash-consistency test holds a review"),
  }).catch(() => undefined);

  // The review exists (and its preview — the gateway's own dry run and reads for the reviewer — is done) before the
  // load starts; what the cluster sees from here on is the load.
  await eventually(
    "the review to be pending",
    async () =>
      ((await call(first, "GET", "/airlock/v1/reviews?state=pending", first.admin)).body?.items ?? [])
        .length > 0,
    { timeoutMs: 60_000, intervalMs: 100 },
  );
  await new Promise((r) => setTimeout(r, 300));
  const baseline = Math.max(0, ...(await simRequests()).map((r) => r.seq));

  // Sustained load: reads and writes from 12 loops, killed mid-flight.
  let stop = false;
  let sent = 0;
  const loop = async (i: number) => {
    for (let n = 0; !stop; n++) {
      sent++;
      const write = n % 3 === 0;
      await (write
        ? call(first, "POST", "/api/v1/namespaces/default/configmaps", token, {
            apiVersion: "v1",
            kind: "ConfigMap",
            metadata: { name: `crash-${i}-${n}` },
          })
        : call(first, "GET", "/api/v1/namespaces/prod/pods", token)
      ).catch(() => undefined);
    }
  };
  const loops = Array.from({ length: 12 }, (_, i) => loop(i));
  await new Promise((r) => setTimeout(r, 1500));
  first.child.kill("SIGKILL");
  await new Promise((r) => first.child.once("close", r));
  stop = true;
  await Promise.all(loops);
  await held;
  assert.ok(sent > 24, `load was sustained (${sent} requests)`);

  // Restart on the same data directory: it starts, verifies, and still holds the pending review.
  const second = await serve();
  const verify = await call(second, "GET", "/airlock/v1/audit/verify", second.admin);
  assert.equal(verify.code, 200);
  assert.equal(verify.body.ok, true, JSON.stringify(verify.body.problems));
  assert.equal((await call(second, "GET", "/api/v1/namespaces/prod/pods", token)).code, 200);
  second.child.kill("SIGTERM");
  await new Promise((r) => second.child.once("close", r));

  const store = await openStore({ kind: "sqlite", path: join(dir, "data", "airlock.db") });
  try {
    const pending = await store.reviews.list({ state: "pending" });
    assert.equal(pending.length, 1, "the review pending before the crash is still pending");
    const events = await allAuditEvents(store);
    const begun = new Map<string, number>();
    for (const e of events) {
      if (e.decision !== "allow") continue;
      const key = `${e.method} ${e.path}`;
      begun.set(key, (begun.get(key) ?? 0) + 1);
    }
    const seen = (await simRequests()).filter(
      (r) => r.seq > baseline && r.impersonatedUser === "airlock:crash-agent",
    );
    assert.ok(seen.length > 12, `the cluster saw the load (${seen.length})`);
    const unaudited: string[] = [];
    for (const r of seen) {
      const key = `${r.method} ${r.path.split("?")[0]}`;
      const left = begun.get(key) ?? 0;
      if (left > 0) begun.set(key, left - 1);
      else unaudited.push(key);
    }
    assert.deepEqual(unaudited, [], "requests the cluster saw without an audit record");
  } finally {
    await store.close();
  }
});

// Faults in the store (SQLite): the database locked by another process for longer than the busy timeout. No request
// is forwarded without its audit record — the agent gets 503 with a message saying why, and the cluster sees
// nothing — and the gateway recovers by itself once the lock is released; `audit verify` passes afterwards.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { request } from "node:https";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { callGateway, startTestGateway, type TestGateway } from "../helpers/gateway.ts";

let gw: TestGateway;
let token: string;
let adminToken: string;

/** What the simulator answered (its request record), as its admin. */
function simRequests(): Promise<{ path: string; impersonatedUser?: string }[]> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${gw.sim.url}/sim/v1/requests`,
      { ca: gw.sim.caPem, headers: { authorization: `Bearer ${gw.sim.adminToken}` } },
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

/** Another process takes the database's write lock and holds it; resolves once it holds it, with its exit. */
async function lockDatabase(ms: number): Promise<{ released: Promise<unknown> }> {
  const db = join(gw.gateway.runtime.config.dataDir, "airlock.db");
  const script = `const { DatabaseSync } = require("node:sqlite"); const d = new DatabaseSync(${JSON.stringify(db)});
    d.exec("BEGIN EXCLUSIVE"); process.stdout.write("locked\\n");
    setTimeout(() => { d.exec("COMMIT"); d.close(); }, ${ms});`;
  const child = spawn(process.execPath, ["-e", script], { stdio: ["ignore", "pipe", "inherit"] });
  await new Promise<void>((resolve) => child.stdout.once("data", () => resolve()));
  return { released: new Promise((resolve) => child.once("exit", resolve)) };
}

before(async () => {
  gw = await startTestGateway();
  ({ token } = await gw.addIdentity("store-agent", "agent", ["agents"]));
  const { readFile } = await import("node:fs/promises");
  adminToken = (await readFile(gw.gateway.adminTokenPath, "utf8")).trim();
  assert.equal((await callGateway(gw, "GET", "/api/v1/namespaces/prod/pods", token)).code, 200);
});
after(() => gw.close());

test("the database locked by another process: 503 with a clear message, nothing forwarded, then recovery", async () => {
  const marker = "/api/v1/namespaces/prod/configmaps";
  // Longer than the store's busy timeout (BUSY_TIMEOUT_MS) for each write the request makes.
  const { released } = await lockDatabase(3000);
  const refused = await callGateway(gw, "GET", marker, token);
  assert.equal(refused.code, 503, JSON.stringify(refused.body));
  // Refused at the audit step, or at an earlier write (a new session): either way 503 naming the fault.
  assert.match(
    refused.body.message,
    /airlock: the (audit log cannot be written|store cannot be used) \(the SQLite database is locked by another process\), so the request was not sent/,
  );
  await released;
  const seen = (await simRequests()).filter((r) => r.path === marker);
  assert.deepEqual(seen, [], "the cluster saw no request without its audit record");

  // Recovery by itself: the next request is recorded and forwarded.
  assert.equal((await callGateway(gw, "GET", marker, token)).code, 200);
  assert.equal((await simRequests()).filter((r) => r.path === marker).length, 1);
  const verify = await callGateway(gw, "GET", "/airlock/v1/audit/verify", adminToken);
  assert.equal(verify.code, 200);
  assert.equal(verify.body.ok, true, JSON.stringify(verify.body.problems));
});

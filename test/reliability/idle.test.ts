// Idle is idle: a demo-shaped gateway (policy folder beside the data directory, no managed policy folder yet, the
// SQLite store in the data directory) that served some requests and then sits idle reloads nothing, writes no audit
// rows and touches no file in its data directory. Issue 16 found the opposite: the missing managed folder made the
// watcher watch its parent — the folder holding airlock.db — so every database write triggered a reload that wrote
// an audit note into that same folder, about ten times a second.
import assert from "node:assert/strict";
import { copyFile, mkdir, readdir, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { callGateway, startTestGateway, type TestGateway } from "../helpers/gateway.ts";

const DEMO_POLICY = new URL("../../examples/policies/demo.yaml", import.meta.url).pathname;
const IDLE_MS = 3000;

let gw: TestGateway;
let policyDir: string;
let token: string;

/** Every file under `dir` with its size and mtime. */
async function snapshot(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (d: string) => {
    for (const entry of await readdir(d, { withFileTypes: true })) {
      const full = join(d, entry.name);
      if (entry.isDirectory()) await walk(full);
      else {
        const s = await stat(full);
        out.set(full, `${s.size}:${s.mtimeMs}`);
      }
    }
  };
  await walk(dir);
  return out;
}

const reloads = () => gw.logs.filter((l) => l.includes('"policies reloaded"')).length;

before(async () => {
  // The demo's layout: <dir>/policies/demo.yaml and the gateway's data directory beside it.
  const { mkdtemp } = await import("node:fs/promises");
  const { tmpdir } = await import("node:os");
  policyDir = join(await mkdtemp(join(tmpdir(), "airlock-idle-policies-")), "policies");
  await mkdir(policyDir);
  await copyFile(DEMO_POLICY, join(policyDir, "demo.yaml"));
  gw = await startTestGateway({ policyFiles: [policyDir] });
  ({ token } = await gw.addIdentity("demo-agent", "agent", ["agents"]));
});
after(() => gw.close());

test("an idle demo-shaped gateway reloads nothing, writes no audit rows and touches no file", async () => {
  // Some traffic first: reads (masked), a write, a refusal, so every writer has been used once.
  for (const path of ["/api/v1/namespaces/prod/pods", "/api/v1/namespaces/prod/secrets", "/version"]) {
    assert.equal((await callGateway(gw, "GET", path, token)).code, 200);
  }
  await callGateway(gw, "POST", "/api/v1/namespaces/default/configmaps", token, {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: "idle-test" },
  });
  await callGateway(gw, "DELETE", "/api/v1/namespaces/staging", token);
  // Let the periodic writers (session flush, checkpoint of the traffic above) settle.
  await new Promise((r) => setTimeout(r, 1500));

  const dataDir = gw.gateway.runtime.config.dataDir;
  const filesBefore = await snapshot(dataDir);
  const headBefore = await gw.gateway.store.audit.head();
  const reloadsBefore = reloads();
  const logLinesBefore = gw.logs.length;

  await new Promise((r) => setTimeout(r, IDLE_MS));

  assert.equal(reloads() - reloadsBefore, 0, "policy reloads while idle");
  assert.deepEqual(await gw.gateway.store.audit.head(), headBefore, "audit rows written while idle");
  assert.deepEqual(gw.logs.slice(logLinesBefore), [], "log lines while idle");
  const filesAfter = await snapshot(dataDir);
  const changed = [...filesAfter].filter(([f, v]) => filesBefore.get(f) !== v).map(([f]) => f);
  const removed = [...filesBefore.keys()].filter((f) => !filesAfter.has(f));
  assert.deepEqual([...changed, ...removed], [], "files written in the data directory while idle");
});

test("a policy edit is still picked up once, and touching a file without changing it reloads nothing", async () => {
  const file = join(policyDir, "demo.yaml");
  const { readFile } = await import("node:fs/promises");
  const text = await readFile(file, "utf8");
  const before = reloads();
  await writeFile(file, text); // same bytes, new mtime
  await new Promise((r) => setTimeout(r, 2600)); // past the debounce and one poll
  assert.equal(reloads(), before, "rewriting the same bytes does not reload");

  await writeFile(file, `${text}\n# an edit\n`);
  for (let i = 0; i < 50 && reloads() === before; i++) await new Promise((r) => setTimeout(r, 100));
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(reloads(), before + 1, "one edit, one reload");
});

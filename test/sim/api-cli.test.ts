import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { AIRLOCK_BIN, airlock as run } from "../helpers/cli.ts";
import { kubectl } from "../helpers/kubectl.ts";

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "airlock-sim-cli-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Starts `airlock sim`, waits for its ready line, and returns the child plus the URL it printed. */
async function startSim() {
  const child = spawn(process.execPath, [AIRLOCK_BIN, "sim", "--port", "0", "--dir", dir, "--seed", "empty"]);
  let out = "";
  child.stdout.setEncoding("utf8");
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ready line: ${out}`)), 20_000);
    child.stdout.on("data", (d: string) => {
      out += d;
      if (/ready on https:\/\/127\.0\.0\.1:\d+/.test(out)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.on("close", () => reject(new Error(`exited early: ${out}`)));
  });
  return { child, out };
}

test("airlock sim --help says it is a test and demo tool", async () => {
  const r = await run(["sim", "--help"]);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /TEST AND DEMO TOOL/);
  assert.match(r.stdout, /--seed/);
});

test("airlock sim with a bad flag says what to do and exits 2", async () => {
  const unknown = await run(["sim", "--bogus"]);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /Unknown option '--bogus'/);
  const seed = await run(["sim", "--seed", "full"]);
  assert.equal(seed.code, 2);
  assert.match(seed.stderr, /--seed must be 'demo' or 'empty'/);
  const port = await run(["sim", "--port", "http"]);
  assert.equal(port.code, 2);
  assert.match(port.stderr, /--port must be a number/);
});

test("airlock sim prints ready, serves kubectl with its kubeconfig, reuses its CA and stops on SIGTERM", async () => {
  const first = await startSim();
  const kubeconfig = join(dir, "sim.kubeconfig");
  assert.match(first.out, new RegExp(`export KUBECONFIG=${kubeconfig}`));
  assert.equal((await stat(join(dir, "ca.key"))).mode & 0o777, 0o600);
  const r = await kubectl(kubeconfig, ["get", "namespaces", "-o", "name"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /namespace\/default/);
  const ca = await readFile(join(dir, "ca.crt"), "utf8");
  first.child.kill("SIGTERM");
  const [code] = await once(first.child, "close");
  assert.equal(code, 0);

  const second = await startSim();
  try {
    assert.equal(await readFile(join(dir, "ca.crt"), "utf8"), ca);
    const again = await kubectl(kubeconfig, ["get", "namespaces", "-o", "name"]);
    assert.equal(again.code, 0, again.stderr);
  } finally {
    second.child.kill("SIGINT");
    const [code2] = await once(second.child, "close");
    assert.equal(code2, 0);
  }
});

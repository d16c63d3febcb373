// bin/airlock on an older Node.js (the machine's own node, v20 here) prints the "needs Node 24" message and exits 1,
// instead of a TypeScript syntax error; on this Node 24 it runs the CLI.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const BIN = fileURLToPath(new URL("../../bin/airlock", import.meta.url));

/** Every `node` on PATH (and /usr/bin/node) older than 24: the ones a newcomer might run bin/airlock with. */
function olderNodes(): string[] {
  const found = new Set<string>(["/usr/bin/node"]);
  try {
    for (const p of execFileSync("which", ["-a", "node"], { encoding: "utf8" }).split("\n"))
      if (p) found.add(p);
  } catch {
    // `which` finds none: /usr/bin/node is still tried
  }
  return [...found].filter((p) => {
    const r = spawnSync(p, ["-p", "process.versions.node"], { encoding: "utf8" });
    return r.status === 0 && Number(r.stdout.split(".")[0]) < 24;
  });
}

test("bin/airlock on an older Node prints the needs-Node-24 message, not a syntax error", () => {
  const nodes = olderNodes();
  assert.ok(
    nodes.length > 0,
    "no Node.js older than 24 on this machine (Debian's nodejs package provides one)",
  );
  for (const node of nodes) {
    const r = spawnSync(node, [BIN, "--help"], { encoding: "utf8" });
    assert.equal(r.status, 1, node);
    assert.match(r.stderr, /airlock needs Node\.js 24 \(this is v\d+/, node);
    assert.doesNotMatch(r.stderr, /SyntaxError|ERR_UNKNOWN_FILE_EXTENSION/, node);
  }
});

test("bin/airlock on Node 24 runs the CLI", () => {
  const r = spawnSync(process.execPath, [BIN, "--help"], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /Usage: airlock <command>/);
});

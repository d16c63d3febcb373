// The independent verification recipes in docs/audit.md, run as written against a real log: they must accept an
// untouched log and reject a tampered one, or the documentation is wrong.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { type AuditFixture, auditFixture } from "./fixtures.ts";

const DOC = readFileSync(new URL("../../docs/audit.md", import.meta.url), "utf8");

function snippet(tag: string): string {
  const match = new RegExp("```" + tag.replace(/\./g, "\\.") + "\\n([\\s\\S]*?)\\n```").exec(DOC);
  assert.ok(match?.[1], `docs/audit.md has a \`\`\`${tag} block`);
  return match[1];
}

function run(cmd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

let f: AuditFixture;
let pub: string;
let script: string;
let shell: string;
before(async () => {
  f = await auditFixture();
  await f.checkpointer.checkpoint("manual");
  pub = join(f.dir, "audit.pub");
  writeFileSync(pub, f.key.publicKeyPem);
  script = join(f.dir, "verify-chain.mjs");
  writeFileSync(script, snippet("js verify-chain.mjs"));
  shell = join(f.dir, "verify-one.sh");
  writeFileSync(shell, snippet("sh verify-one.sh"));
});
after(() => f.close());

test("the sqlite3 + sha256sum + openssl recipe reproduces a record hash and verifies a checkpoint signature", async () => {
  const r = await run("sh", [shell, f.path, pub, "5", "1"]);
  assert.equal(r.code, 0, r.stderr);
  const [computed, stored, verdict] = r.stdout.trim().split("\n");
  assert.match(computed ?? "", /^[0-9a-f]{64}$/);
  assert.equal(computed, stored);
  assert.match(verdict ?? "", /Signature Verified Successfully/);
});

test("the Node-only script from the docs verifies an untouched log and rejects an edited record", async () => {
  const ok = await run(process.execPath, [script, f.path, pub]);
  assert.equal(ok.code, 0, ok.stdout + ok.stderr);
  assert.match(ok.stdout, /chain and checkpoints verify/);
  f.raw().prepare("UPDATE audit_chain SET body = replace(body, '\"deny\"', '\"allow\"') WHERE seq = 3").run();
  const bad = await run(process.execPath, [script, f.path, pub]);
  assert.equal(bad.code, 1);
  assert.match(bad.stdout, /FAIL seq 3: altered/);
});

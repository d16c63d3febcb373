// `airlock audit verify | export | pubkey | list` as real child processes: offline on the SQLite file, and through
// an HTTPS admin API that has the audit key.
import assert from "node:assert/strict";
import { once } from "node:events";
import { writeFileSync } from "node:fs";
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { createAdminApi } from "../../src/admin/api.ts";
import { generateSigningKey } from "../../src/audit/signing.ts";
import { createCertificateAuthority, issueServerCertificate } from "../../src/shared/tls.ts";
import { generateToken, hashToken } from "../../src/shared/tokens.ts";
import { airlock as run } from "../helpers/cli.ts";
import { type AuditFixture, auditFixture } from "./fixtures.ts";

let f: AuditFixture;
let pubkeyFile: string;
let env: Record<string, string>;
let close: () => Promise<void>;

before(async () => {
  f = await auditFixture();
  await f.checkpointer.checkpoint("manual");
  pubkeyFile = join(f.dir, "audit.pub");
  writeFileSync(pubkeyFile, f.key.publicKeyPem);
  const ca = createCertificateAuthority("airlock-audit-test-ca");
  const cert = issueServerCertificate(ca, {
    commonName: "airlock",
    dnsNames: ["localhost"],
    ipAddresses: ["127.0.0.1"],
  });
  const caFile = join(f.dir, "ca.crt");
  writeFileSync(caFile, ca.certPem);
  const adminToken = generateToken();
  const server = createServer({ cert: cert.certPem, key: cert.keyPem }, (req, res) => {
    void api.authenticate(req).then((principal) => api.handle(req, res, principal));
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const api = createAdminApi({
    store: f.store,
    adminTokenHash: hashToken(adminToken),
    gatewayUrl: url,
    caPem: ca.certPem,
    audit: { publicKey: f.key.publicKey, publicKeyPem: f.key.publicKeyPem },
  });
  env = { AIRLOCK_SERVER: url, AIRLOCK_TOKEN: adminToken, AIRLOCK_CA: caFile };
  close = async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await f.close();
  };
});
after(() => close());

test("audit verify through the gateway passes on an untouched log (exit 0)", async () => {
  const r = await run(["audit", "verify"], env);
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stdout,
    /audit log verified: records 1\.\.13 \(13\), 1 checkpoint\(s\), signed through seq 13/,
  );
});

test("audit pubkey prints the key that verifies checkpoints", async () => {
  const r = await run(["audit", "pubkey"], env);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, f.key.publicKeyPem);
});

test("audit export --format k8s streams one audit.k8s.io/v1 Event per request", async () => {
  const r = await run(["audit", "export", "--format", "k8s"], env);
  assert.equal(r.code, 0, r.stderr);
  const events = r.stdout
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
  assert.equal(events.length, 6);
  assert.ok(events.every((e) => e.apiVersion === "audit.k8s.io/v1" && e.kind === "Event"));
  assert.deepEqual(
    events.map((e) => e.responseStatus.code),
    [200, 403, 200, 200, 403, 200],
  );
});

test("audit list filters by verb and decision through the admin API", async () => {
  const r = await run(["audit", "list", "--verb", "delete", "--decision", "deny", "--json"], env);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(
    JSON.parse(r.stdout).map((e: { id: string }) => e.id),
    ["req-4", "req-1"],
  );
});

test("offline verify (--db --pubkey) passes, fails with another key, and names an altered row (exit 1)", async () => {
  const ok = await run(["audit", "verify", "--db", f.path, "--pubkey", pubkeyFile]);
  assert.equal(ok.code, 0, ok.stderr + ok.stdout);
  const otherKey = join(f.dir, "other.pub");
  writeFileSync(otherKey, generateSigningKey().publicKeyPem);
  const wrong = await run(["audit", "verify", "--db", f.path, "--pubkey", otherKey]);
  assert.equal(wrong.code, 1);
  assert.match(wrong.stdout, /FAILED.*\nfirst: checkpoint: checkpoint 1: its signature does not verify/);
  const usage = await run(["audit", "verify", "--db", f.path]);
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /--pubkey/);
  // Export offline, too, before the log is tampered with.
  const exported = await run(["audit", "export", "--format", "jsonl", "--db", f.path]);
  assert.equal(exported.code, 0, exported.stderr);
  assert.equal(exported.stdout.trim().split("\n").length, 7);

  f.raw().prepare("UPDATE audit_events SET user_agent = 'curl/8' WHERE id = 'req-3'").run();
  const bad = await run(["audit", "verify", "--db", f.path, "--pubkey", pubkeyFile, "--json"]);
  assert.equal(bad.code, 1);
  const report = JSON.parse(bad.stdout);
  assert.equal(report.ok, false);
  assert.equal(report.problems[0].id, "req-3");
  assert.equal(report.problems[0].kind, "altered");
  const viaApi = await run(["audit", "verify"], env);
  assert.equal(viaApi.code, 1);
  assert.match(viaApi.stdout, /first: altered: event req-3 \(seq 7\)/);
});

// The admin commands run as real child processes (bin/airlock.ts on this Node 24) against the admin API harness.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { parse } from "yaml";
import { hashToken } from "../../src/shared/tokens.ts";
import { type AdminServer, startAdminServer } from "../admin/harness.ts";
import { airlock as runCli } from "../helpers/cli.ts";
import { auditEvent } from "../store/contract.ts";

let srv: AdminServer;
before(async () => {
  srv = await startAdminServer();
});
after(() => srv.close());

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function airlock(args: string[], env: Record<string, string | undefined> = {}): Promise<Run> {
  const base: Record<string, string | undefined> = {
    PATH: process.env.PATH,
    HOME: srv.dir,
    AIRLOCK_SERVER: srv.url,
    AIRLOCK_TOKEN: srv.adminToken,
    AIRLOCK_CA: srv.caFile,
  };
  return runCli(args, { ...base, ...env });
}

function run(cmd: string, args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: { ...process.env, ...env } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c) => {
      stdout += c;
    });
    child.stderr.on("data", (c) => {
      stderr += c;
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

test("identity create prints the token once on stdout, with the shown-only-once warning on stderr", async () => {
  const r = await airlock([
    "identity",
    "create",
    "cli-agent",
    "--kind",
    "agent",
    "--group",
    "agents",
    "--group",
    "ci",
  ]);
  assert.equal(r.code, 0, r.stderr);
  const token = r.stdout.trim();
  assert.match(token, /^airlock_[A-Za-z0-9_-]{43}$/);
  assert.match(r.stderr, /shown only once/);
  assert.ok(!r.stderr.includes(token));
  const found = await srv.store.identities.authenticateToken(hashToken(token));
  assert.deepEqual(found?.identity.groups, ["agents", "ci"]);
});

test("identity create --label and --kubeconfig write a 0600 kubeconfig that kubectl reads", async () => {
  const file = join(srv.dir, "labelled.kubeconfig");
  const r = await airlock([
    "identity",
    "create",
    "labelled",
    "--kind",
    "human",
    "--label",
    "team=platform",
    "--kubeconfig",
    file,
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual((await srv.store.identities.get("labelled"))?.labels, { team: "platform" });
  assert.equal(statSync(file).mode & 0o777, 0o600);
  const view = await run("kubectl", [
    "config",
    "view",
    "--raw",
    "--kubeconfig",
    file,
    "--cache-dir",
    join(srv.dir, "kcache"),
    "-o",
    "jsonpath={.users[0].user.token} {.clusters[0].cluster.server}",
  ]);
  assert.equal(view.code, 0, view.stderr);
  assert.equal(view.stdout, `${r.stdout.trim()} ${srv.url}`);
});

test('identity create/update --default-namespace sets the namespace MCP tools use; "" clears it; a bad name is refused', async () => {
  const made = await airlock([
    "identity",
    "create",
    "ns-agent",
    "--kind",
    "agent",
    "--default-namespace",
    "prod",
  ]);
  assert.equal(made.code, 0, made.stderr);
  assert.equal((await srv.store.identities.get("ns-agent"))?.defaultNamespace, "prod");
  const moved = await airlock(["identity", "update", "ns-agent", "--default-namespace", "staging"]);
  assert.equal(moved.code, 0, moved.stderr);
  assert.equal((await srv.store.identities.get("ns-agent"))?.defaultNamespace, "staging");
  const cleared = await airlock(["identity", "update", "ns-agent", "--default-namespace", ""]);
  assert.equal(cleared.code, 0, cleared.stderr);
  assert.equal((await srv.store.identities.get("ns-agent"))?.defaultNamespace, null);
  const bad = await airlock(["identity", "update", "ns-agent", "--default-namespace", "Not_A_Namespace"]);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /defaultNamespace/);
});

test("identity list shows a table with NAME KIND GROUPS CREATED LAST-USED STATE, and --json the objects", async () => {
  await srv.store.identities.create({ name: "listed", kind: "agent", groups: ["g1", "g2"] });
  const r = await airlock(["identity", "list"]);
  assert.equal(r.code, 0, r.stderr);
  const [header, ...rows] = r.stdout.trimEnd().split("\n");
  assert.deepEqual(header?.split(/\s{2,}/), ["NAME", "KIND", "GROUPS", "CREATED", "LAST-USED", "STATE"]);
  const row = rows.find((l) => l.startsWith("listed "));
  assert.deepEqual(row?.split(/\s{2,}/), [
    "listed",
    "agent",
    "g1,g2",
    row?.split(/\s{2,}/)[3],
    "never",
    "active",
  ]);
  const json = await airlock(["identity", "list", "--json"]);
  const items = JSON.parse(json.stdout) as { name: string; groups: string[] }[];
  assert.deepEqual(items.find((i) => i.name === "listed")?.groups, ["g1", "g2"]);
});

test("identity revoke cuts the identity off and the list shows it revoked", async () => {
  const { token } = await srv.store.identities.create({ name: "doomed", kind: "agent", groups: [] });
  const r = await airlock(["identity", "revoke", "doomed"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /identity "doomed" revoked/);
  assert.equal(await srv.store.identities.authenticateToken(hashToken(token)), undefined);
  assert.ok(srv.revoked.some((i) => i.name === "doomed"));
  const list = await airlock(["identity", "list"]);
  assert.match(list.stdout, /^doomed\s.*\srevoked$/m);
  const again = await airlock(["identity", "revoke", "ghost"]);
  assert.equal(again.code, 1);
  assert.equal(again.stderr, 'airlock: Error from server (NotFound): identity "ghost" not found\n');
});

test("audit list shows TIME IDENTITY VERB RESOURCE NAMESPACE/NAME DECISION CODE CLIENT SAYS and filters", async () => {
  const old = new Date(Date.now() - 3 * 3600_000).toISOString();
  await srv.store.audit.begin(
    auditEvent({ id: "cli-old", time: old, identityName: "auditee", verb: "list" }),
  );
  await srv.store.audit.begin(
    auditEvent({
      id: "cli-new",
      identityName: "auditee",
      verb: "create",
      resource: "pods",
      subresource: "exec",
      name: "web-0",
      decision: "deny",
    }),
  );
  await srv.store.audit.complete("cli-new", { status: 403, bytesIn: 0, bytesOut: 100, durationMs: 3 });
  await srv.store.audit.begin(auditEvent({ id: "cli-other", identityName: "someone-else" }));
  const r = await airlock(["audit", "list", "--identity", "auditee", "--since", "1h"]);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trimEnd().split("\n");
  assert.deepEqual(lines[0]?.split(/\s{2,}/), [
    "TIME",
    "IDENTITY",
    "VERB",
    "RESOURCE",
    "NAMESPACE/NAME",
    "DECISION",
    "CODE",
    "CLIENT SAYS",
  ]);
  assert.equal(lines.length, 2, r.stdout);
  assert.deepEqual(lines[1]?.split(/\s{2,}/).slice(1), [
    "auditee",
    "create",
    "pods/exec",
    "default/web-0",
    "deny",
    "403",
    // the fixture claims "kubectl get" for a create: listed as the create it is, the claim flagged
    "kubectl get ⟨CLAIM CONTRADICTED⟩",
  ]);
  const json = await airlock(["audit", "list", "--json", "--identity", "auditee", "--limit", "5"]);
  assert.deepEqual(
    (JSON.parse(json.stdout) as { id: string }[]).map((e) => e.id),
    ["cli-new", "cli-old"],
  );
  const one = await airlock(["audit", "list", "--json", "--limit", "1"]);
  assert.equal((JSON.parse(one.stdout) as unknown[]).length, 1);
});

test("kubeconfig --cluster --output writes a 0600 kubeconfig for /k8s/<cluster> with the CA embedded", async () => {
  const file = join(srv.dir, "prod.kubeconfig");
  writeFileSync(file, "old", { mode: 0o644 });
  const r = await airlock([
    "kubeconfig",
    "--identity",
    "cli-agent",
    "--token",
    "airlock_example",
    "--cluster",
    "prod",
    "--output",
    file,
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(statSync(file).mode & 0o777, 0o600, "an existing file is narrowed to 0600");
  const config = parse(readFileSync(file, "utf8"));
  assert.equal(config.clusters[0].cluster.server, `${srv.url}/k8s/prod`);
  assert.equal(
    Buffer.from(config.clusters[0].cluster["certificate-authority-data"], "base64").toString(),
    srv.caPem,
  );
  assert.equal(config.users[0].user.token, "airlock_example");
  assert.equal(config.contexts[0].name, config["current-context"]);
});

test("errors say what to do next", async () => {
  const cases: [string[], Record<string, string | undefined>, number, RegExp][] = [
    [
      ["identity", "list"],
      { AIRLOCK_SERVER: undefined },
      1,
      /^airlock: no server given\. Set AIRLOCK_SERVER or pass --server \(source DIR\/admin\.env from the demo\)\.\n$/,
    ],
    [
      ["identity", "list"],
      { AIRLOCK_TOKEN: undefined },
      1,
      /no token given\. Set AIRLOCK_TOKEN or pass --token/,
    ],
    [["identity", "list"], { AIRLOCK_SERVER: "http://127.0.0.1:1" }, 1, /must be an https:\/\/ URL/],
    [
      ["identity", "list"],
      { AIRLOCK_CA: undefined },
      1,
      /certificate .* is not trusted .* Set AIRLOCK_CA or pass --ca/,
    ],
    [["identity", "list"], { AIRLOCK_CA: "/nonexistent/ca.crt" }, 1, /cannot read the CA file .*ENOENT/],
    [["identity", "list"], { AIRLOCK_TOKEN: "airlock_wrong" }, 1, /refused the token .* Check AIRLOCK_TOKEN/],
    [
      ["identity", "list"],
      { AIRLOCK_SERVER: "https://127.0.0.1:1" },
      1,
      /cannot reach the gateway .*ECONNREFUSED/,
    ],
    [["identity", "create", "x"], {}, 2, /needs --kind agent or --kind human/],
    [["identity", "list", "--bogus"], {}, 2, /Unknown option '--bogus'/],
    [["audit", "list", "--since", "soon"], {}, 2, /neither a duration/],
    [["audit", "list", "--limit", "0"], {}, 2, /--limit must be a whole number/],
    [["kubeconfig", "--identity", "x"], {}, 2, /needs --token TOKEN/],
    [["identity", "create", "Bad_Name", "--kind", "agent"], {}, 1, /Error from server \(Invalid\): .*name/],
  ];
  for (const [args, env, code, pattern] of cases) {
    const r = await airlock(args, env);
    assert.equal(r.code, code, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, pattern, args.join(" "));
  }
});

test("an agent's token gets Forbidden from every admin command", async () => {
  const { token } = await srv.store.identities.create({ name: "cli-sneaky", kind: "agent", groups: [] });
  const r = await airlock(["identity", "list"], { AIRLOCK_TOKEN: token });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^airlock: Error from server \(Forbidden\): .*is an agent/);
});

// The refusal catalogue and docs/errors.md say the same thing: every entry is documented with its code and reason,
// the doc names no entry that does not exist, every entry has a builder, and every builder's Status is well formed.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import * as refusals from "../../src/kube/refusals.ts";
import { REASONS, reasonPhrase } from "../../src/kube/status.ts";

const doc = readFileSync(new URL("../../docs/errors.md", import.meta.url), "utf8");

/** `| \`name\` | code | Reason | when | what to do |` rows of the table. */
function documented(): Map<string, { code: string; reason: string; when: string; todo: string }> {
  const rows = new Map<string, { code: string; reason: string; when: string; todo: string }>();
  for (const line of doc.split("\n")) {
    const m = /^\| `(\w+)` \| ([^|]+) \| ([^|]+) \| ([^|]+) \| ([^|]+) \|$/.exec(line);
    if (m)
      rows.set(m[1]!, { code: m[2]!.trim(), reason: m[3]!.trim(), when: m[4]!.trim(), todo: m[5]!.trim() });
  }
  return rows;
}

test("every catalogue entry is documented in docs/errors.md with its code, reason, when and what to do", () => {
  const rows = documented();
  for (const [name, entry] of Object.entries(refusals.CATALOGUE)) {
    const row = rows.get(name);
    assert.ok(row, `docs/errors.md has no row for the catalogue entry ${name}`);
    if (entry.code === 0) {
      assert.equal(row.code, "the cluster's", `${name}: a relayed code is documented as the cluster's`);
    } else {
      assert.equal(row.code, String(entry.code), `${name}: code`);
      assert.equal(row.reason, entry.reason, `${name}: reason`);
    }
    assert.ok(row.when.length > 10, `${name}: the doc says when it is sent`);
    assert.ok(row.todo.length > 0, `${name}: the doc says what the client should do`);
  }
});

test("docs/errors.md documents no entry the catalogue does not have", () => {
  for (const name of documented().keys()) {
    assert.ok(
      Object.hasOwn(refusals.CATALOGUE, name),
      `docs/errors.md documents ${name}, which is not in the catalogue`,
    );
  }
});

test("every catalogue entry has a builder of the same name, and every reason is a Kubernetes reason", () => {
  const builders = refusals as unknown as Record<string, unknown>;
  for (const [name, entry] of Object.entries(refusals.CATALOGUE)) {
    assert.equal(typeof builders[name], "function", `src/kube/refusals.ts exports no builder ${name}`);
    assert.ok(
      Object.hasOwn(REASONS, entry.reason),
      `${name}: ${entry.reason} is not a Kubernetes StatusReason`,
    );
  }
});

test("each code the catalogue sends has an HTTP reason phrase for the raw status line", () => {
  for (const { code } of Object.values(refusals.CATALOGUE)) {
    if (code === 0) continue;
    assert.notEqual(reasonPhrase(code), "", `code ${code}`);
    assert.doesNotMatch(reasonPhrase(code), /^Error$/);
  }
  assert.equal(reasonPhrase(413), "Payload Too Large");
  assert.equal(reasonPhrase(415), "Unsupported Media Type");
  assert.equal(reasonPhrase(405), "Method Not Allowed");
  assert.equal(reasonPhrase(499), "Client Closed Request");
});

const kube = {
  action: "delete",
  info: { isResourceRequest: true, apiGroup: "apps", resource: "deployments", name: "web" },
};
const rule = { policy: "agents", rule: "no-deletes", message: "deleting is for humans" };

test("a policy denial says what was refused and why, in Kubernetes' wording, built once", () => {
  const s = refusals.deniedByPolicy(kube, rule);
  assert.deepEqual(
    { kind: s.kind, apiVersion: s.apiVersion, status: s.status, reason: s.reason, code: s.code },
    { kind: "Status", apiVersion: "v1", status: "Failure", reason: "Forbidden", code: 403 },
  );
  assert.equal(
    s.message,
    'deployments.apps "web" is forbidden: airlock: delete denied by policy agents rule no-deletes: deleting is for humans',
  );
  // the same wording as a generic forbidden with the same reason (one builder for the message)
  assert.equal(
    refusals.forbidden(kube.info, `airlock: delete ${refusals.policyDenial(rule)}`).message,
    s.message,
  );
  const path = refusals.forbidden(
    { isResourceRequest: false, apiGroup: "", resource: "", name: "" },
    "airlock: no",
  );
  assert.equal(path.message, "forbidden: airlock: no");
});

test("a rate limit names the rule and carries Retry-After seconds in details", () => {
  const s = refusals.rateLimited("create", rule, 7);
  assert.equal(s.code, 429);
  assert.equal(s.details?.retryAfterSeconds, 7);
  assert.match(s.message ?? "", /rate-limited by policy agents rule no-deletes/);
});

test("a relayed cluster refusal keeps the cluster's code, and its reason only when it is a Kubernetes one", () => {
  assert.deepEqual(
    [
      refusals.clusterRefused("m", 409, "Conflict").reason,
      refusals.clusterRefused("m", 409, "Conflict").code,
    ],
    ["Conflict", 409],
  );
  assert.equal(refusals.clusterRefused("m", 422, "made-up").reason, "Invalid");
  assert.equal(refusals.clusterRefused("m", 502, undefined).reason, "InternalError");
});

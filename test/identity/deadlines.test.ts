// Stream deadlines when an identity's expiry moves: later expiry extends a stream only up to its credential's (or
// session's, or workload token's) own limit; an unknown limit never extends anything.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { CredentialLimits, newDeadline, setCredentialLimit } from "../../src/identity/deadlines.ts";
import type { Principal } from "../../src/identity/types.ts";

const INF = Number.POSITIVE_INFINITY;

describe("newDeadline", () => {
  const cases: [string, number | undefined, number, number | undefined, number | undefined][] = [
    ["later identity expiry extends up to the credential's limit", 100, 500, 300, 300],
    ["later identity expiry extends fully when the credential has no limit", 100, 500, INF, 500],
    ["removing the identity's expiry leaves the credential's limit", 100, INF, 300, 300],
    ["removing it with no other limit leaves no deadline", 100, INF, INF, undefined],
    ["an unknown limit never extends", 100, 500, undefined, 100],
    ["an unknown limit still lets a shorter expiry in", 100, 50, undefined, 50],
    ["a shorter identity expiry wins over the credential's limit", 100, 50, 300, 50],
    ["a stream without a deadline gets the identity's", undefined, 500, INF, 500],
  ];
  for (const [name, current, identity, limit, want] of cases) {
    test(name, () => assert.equal(newDeadline(current, identity, limit), want));
  }
});

function principal(credentialId: string, expiresAt?: number): Principal {
  const p: Principal = { identityId: "i", kind: "agent", name: "a", groups: [], labels: {}, credentialId };
  if (expiresAt !== undefined) p.expiresAt = new Date(expiresAt).toISOString();
  return p;
}

describe("CredentialLimits", () => {
  test("a principal's non-identity limit is found again by its stream's credential id and deadline", () => {
    const limits = new CredentialLimits();
    const p = principal("c1", 1_000_000);
    setCredentialLimit(p, new Date(2_000_000).toISOString(), null, undefined);
    limits.note(p);
    assert.equal(limits.limitOf("c1", 1_000_000), 2_000_000);
    assert.equal(limits.limitOf("c1", 999_999), undefined, "another deadline is another stream");
    assert.equal(limits.limitOf("c2", 1_000_000), undefined);
    assert.equal(limits.limitOf(undefined, 1_000_000), undefined);
  });

  test("two principals with the same key keep the earlier limit (closing early is safe)", () => {
    const limits = new CredentialLimits();
    for (const limit of [3_000_000, 2_500_000, 4_000_000]) {
      const p = principal("c1", 1_000_000);
      setCredentialLimit(p, limit);
      limits.note(p);
    }
    assert.equal(limits.limitOf("c1", 1_000_000), 2_500_000);
  });

  test("a principal no authenticator described, or without a deadline, is not noted", () => {
    const limits = new CredentialLimits();
    limits.note(principal("c1", 1_000_000));
    const open = principal("c2");
    setCredentialLimit(open);
    limits.note(open);
    assert.equal(limits.size, 0);
  });

  test("a principal without any limit records Infinity", () => {
    const limits = new CredentialLimits();
    const p = principal("c1", 1_000_000);
    setCredentialLimit(p, null, "not a date");
    limits.note(p);
    assert.equal(limits.limitOf("c1", 1_000_000), INF);
  });

  test("carry moves a limit to a stream's new deadline; prune drops passed deadlines", () => {
    const limits = new CredentialLimits();
    limits.carry("c1", 1_500_000, 2_000_000);
    limits.carry("c1", 500, 9_000);
    assert.equal(limits.limitOf("c1", 1_500_000), 2_000_000);
    limits.prune(1_000);
    assert.equal(limits.limitOf("c1", 500), undefined);
    assert.equal(limits.limitOf("c1", 1_500_000), 2_000_000);
  });
});

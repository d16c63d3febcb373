// The store contract: behaviour every engine (SQLite now, PostgreSQL later) must show. Call `storeContract` from an
// engine's test file with a factory that opens a fresh, empty store.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { AuditEvent } from "../../src/audit/types.ts";
import { StatusError } from "../../src/kube/status.ts";
import { hashToken } from "../../src/shared/tokens.ts";
import type { Store } from "../../src/store/types.ts";
import { auditChainContract } from "./contract-audit.ts";
import { replicaStateContract } from "./contract-replica-state.ts";
import { reviewContract } from "./contract-reviews.ts";
import { sessionContract } from "./contract-sessions.ts";

export interface StoreFactory {
  /** A fresh, empty store. `clock` is the time the store sees, in epoch milliseconds. */
  open(clock: () => number): Promise<Store>;
}

export function auditEvent(overrides: Partial<AuditEvent> = {}): AuditEvent {
  return {
    id: `req-${Math.random().toString(36).slice(2)}`,
    time: new Date().toISOString(),
    identityId: "id-1",
    identityName: "agent-1",
    identityKind: "agent",
    credentialId: "cred-1",
    sourceAddress: "127.0.0.1",
    userAgent: "kubectl/v1.32.0",
    kubectlCommand: "kubectl get",
    kubectlSession: "session-1",
    cluster: "default",
    method: "GET",
    path: "/api/v1/namespaces/default/pods",
    verb: "list",
    apiGroup: "",
    apiVersion: "v1",
    namespace: "default",
    resource: "pods",
    subresource: "",
    name: "",
    execCommand: null,
    decision: "allow",
    policy: "p",
    rule: "r",
    reason: null,
    status: null,
    bytesIn: null,
    bytesOut: null,
    durationMs: null,
    completedAt: null,
    ...overrides,
  };
}

export function storeContract(engine: string, factory: StoreFactory): void {
  describe(`store contract: ${engine}`, () => {
    let now = Date.parse("2026-03-01T10:00:00.000Z");
    const clock = () => now;
    const withStore = async (fn: (store: Store) => Promise<void>) => {
      const store = await factory.open(clock);
      try {
        await fn(store);
      } finally {
        await store.close();
      }
    };

    test("a created identity is stored with its groups and labels, and only the token's hash is kept", () =>
      withStore(async (store) => {
        const { identity, token } = await store.identities.create({
          name: "mcp-agent",
          kind: "agent",
          groups: ["agents", "readers"],
          labels: { team: "platform" },
        });
        assert.match(token, /^airlock_[A-Za-z0-9_-]{43}$/);
        assert.equal(identity.name, "mcp-agent");
        assert.deepEqual(await store.identities.get("mcp-agent"), identity);
        assert.deepEqual(identity.groups, ["agents", "readers"]);
        assert.deepEqual(identity.labels, { team: "platform" });
        assert.equal(identity.revokedAt, null);
        assert.equal(identity.lastUsedAt, null);
        assert.equal(identity.createdAt, new Date(now).toISOString());
        const found = await store.identities.authenticateToken(hashToken(token));
        assert.equal(found?.credential.tokenHash, hashToken(token));
        assert.ok(!JSON.stringify(found).includes(token), "the token itself is never returned by the store");
      }));

    test("a second identity with the same name is refused with AlreadyExists", () =>
      withStore(async (store) => {
        await store.identities.create({ name: "dup", kind: "agent", groups: [] });
        const attempts = await Promise.allSettled([
          store.identities.create({ name: "dup", kind: "human", groups: [] }),
          store.identities.create({ name: "dup", kind: "agent", groups: [] }),
        ]);
        for (const attempt of attempts) {
          assert.equal(attempt.status, "rejected");
          const reason = (attempt as PromiseRejectedResult).reason;
          assert.ok(reason instanceof StatusError);
          assert.equal(reason.status.reason, "AlreadyExists");
          assert.equal(reason.status.code, 409);
        }
        assert.equal((await store.identities.list()).length, 1);
      }));

    test("identities are listed by name and an unknown name is undefined", () =>
      withStore(async (store) => {
        for (const name of ["zeta", "alpha", "mid"])
          await store.identities.create({ name, kind: "agent", groups: [] });
        assert.deepEqual(
          (await store.identities.list()).map((i) => i.name),
          ["alpha", "mid", "zeta"],
        );
        assert.equal(await store.identities.get("nobody"), undefined);
        assert.equal(await store.identities.revoke("nobody"), undefined);
      }));

    test("a valid token authenticates and marks the identity used", () =>
      withStore(async (store) => {
        const { identity, token } = await store.identities.create({
          name: "a",
          kind: "human",
          groups: ["sre"],
        });
        now += 5000;
        const found = await store.identities.authenticateToken(hashToken(token));
        assert.equal(found?.identity.id, identity.id);
        assert.equal(found?.identity.kind, "human");
        assert.equal(found?.credential.identityId, identity.id);
        assert.equal(found?.identity.lastUsedAt, new Date(now).toISOString());
        assert.equal((await store.identities.get("a"))?.lastUsedAt, new Date(now).toISOString());
      }));

    test("an unknown, malformed or empty token hash does not authenticate", () =>
      withStore(async (store) => {
        const { token } = await store.identities.create({ name: "a", kind: "agent", groups: [] });
        assert.equal(await store.identities.authenticateToken(hashToken(`${token}x`)), undefined);
        assert.equal(
          await store.identities.authenticateToken(token),
          undefined,
          "the raw token is not a hash",
        );
        assert.equal(await store.identities.authenticateToken(hashToken(token).toUpperCase()), undefined);
        assert.equal(await store.identities.authenticateToken(""), undefined);
        assert.equal(await store.identities.authenticateToken("' OR 1=1 --"), undefined);
      }));

    test("revoking an identity stops its tokens on the very next authentication", () =>
      withStore(async (store) => {
        const { token } = await store.identities.create({ name: "a", kind: "agent", groups: [] });
        const second = await store.credentials.create("a");
        assert.ok(second);
        assert.ok(await store.identities.authenticateToken(hashToken(token)));
        now += 1000;
        const revoked = await store.identities.revoke("a");
        assert.equal(revoked?.revokedAt, new Date(now).toISOString());
        assert.equal(await store.identities.authenticateToken(hashToken(token)), undefined);
        assert.equal(await store.identities.authenticateToken(second.credential.tokenHash), undefined);
        assert.equal(await store.credentials.create("a"), undefined, "a revoked identity gets no new token");
        now += 1000;
        const again = await store.identities.revoke("a");
        assert.equal(again?.revokedAt, revoked?.revokedAt, "a second revoke keeps the first time");
      }));

    test("revoking one credential leaves the identity's other credentials working", () =>
      withStore(async (store) => {
        const { token } = await store.identities.create({ name: "a", kind: "agent", groups: [] });
        const first = await store.identities.authenticateToken(hashToken(token));
        const rotated = await store.credentials.create("a");
        assert.ok(first && rotated);
        assert.notEqual(rotated.token, token);
        const revoked = await store.credentials.revoke(first.credential.id);
        assert.ok(revoked?.revokedAt);
        assert.equal(await store.identities.authenticateToken(hashToken(token)), undefined);
        assert.equal(
          (await store.identities.authenticateToken(hashToken(rotated.token)))?.identity.name,
          "a",
        );
        assert.equal(await store.credentials.revoke("no-such-credential"), undefined);
        assert.equal(await store.credentials.create("nobody"), undefined);
      }));

    // ── The identity lifecycle and credentials (issue 7) ──

    test("disabling an identity stops every credential path, enabling restores them, and a revoked one stays revoked", () =>
      withStore(async (store) => {
        const { token, credential } = await store.identities.create({ name: "a", kind: "agent", groups: [] });
        const cert = await store.credentials.addCertificate("a", {
          fingerprint: "ab".repeat(32),
          serial: "01",
          expiresAt: new Date(now + 86_400_000).toISOString(),
        });
        assert.ok(cert);
        const disabled = await store.identities.setDisabled("a", true);
        assert.equal(disabled?.state, "disabled");
        assert.equal(disabled?.disabledAt, new Date(now).toISOString());
        assert.equal(await store.identities.authenticateToken(hashToken(token)), undefined);
        assert.equal(await store.identities.authenticateCertificate("ab".repeat(32)), undefined);
        assert.equal(await store.identities.authenticateCredentialId(credential.id), undefined);
        const enabled = await store.identities.setDisabled("a", false);
        assert.equal(enabled?.state, "active");
        assert.equal(enabled?.disabledAt, null);
        assert.equal((await store.identities.authenticateToken(hashToken(token)))?.identity.name, "a");
        assert.equal(
          (await store.identities.authenticateCertificate("ab".repeat(32)))?.credential.id,
          cert.id,
        );
        assert.equal((await store.identities.authenticateCredentialId(credential.id))?.identity.name, "a");
        await store.identities.revoke("a");
        await assert.rejects(store.identities.setDisabled("a", false), (err: unknown) => {
          assert.ok(err instanceof StatusError);
          assert.equal(err.status.reason, "Conflict");
          return true;
        });
        assert.equal((await store.identities.get("a"))?.state, "revoked");
        assert.equal(await store.identities.setDisabled("nobody", true), undefined);
      }));

    test("an identity's expiry refuses its credentials once passed, and moving it later lets them in again", () =>
      withStore(async (store) => {
        const { token, credential } = await store.identities.create({
          name: "a",
          kind: "agent",
          groups: [],
          expiresAt: new Date(now + 60_000).toISOString(),
        });
        assert.ok(await store.identities.authenticateToken(hashToken(token)));
        now += 60_000;
        assert.equal(
          await store.identities.authenticateToken(hashToken(token)),
          undefined,
          "expired at the instant",
        );
        assert.equal(await store.identities.authenticateCredentialId(credential.id), undefined);
        const moved = await store.identities.update("a", { expiresAt: new Date(now + 60_000).toISOString() });
        assert.equal(moved?.expiresAt, new Date(now + 60_000).toISOString());
        assert.ok(await store.identities.authenticateToken(hashToken(token)));
        const cleared = await store.identities.update("a", { expiresAt: null });
        assert.equal(cleared?.expiresAt, null);
        now += 10 * 365 * 86_400_000;
        assert.ok(await store.identities.authenticateToken(hashToken(token)), "no expiry, no end");
      }));

    test("identityUpdate changes only what it names; unknown is undefined and a revoked identity is Conflict", () =>
      withStore(async (store) => {
        await store.identities.create({ name: "h", kind: "human", groups: [] });
        await store.identities.create({
          name: "a",
          kind: "agent",
          groups: ["agents"],
          labels: { team: "x" },
          description: "first",
        });
        const updated = await store.identities.update("a", { groups: ["agents", "readers"], owner: "h" });
        assert.deepEqual(updated?.groups, ["agents", "readers"]);
        assert.equal(updated?.owner, "h");
        assert.deepEqual(updated?.labels, { team: "x" });
        assert.equal(updated?.description, "first");
        const relabelled = await store.identities.update("a", { labels: {}, description: "second" });
        assert.deepEqual(relabelled?.labels, {});
        assert.deepEqual(relabelled?.groups, ["agents", "readers"]);
        assert.deepEqual(await store.identities.get("a"), relabelled);
        assert.equal(await store.identities.update("nobody", { groups: [] }), undefined);
        await store.identities.revoke("a");
        await assert.rejects(store.identities.update("a", { groups: [] }), (err: unknown) => {
          assert.ok(err instanceof StatusError);
          assert.equal(err.status.reason, "Conflict");
          return true;
        });
      }));

    test("a credential's own expiry refuses it; credentialExpireAt only ever brings it forward", () =>
      withStore(async (store) => {
        await store.identities.create({ name: "a", kind: "agent", groups: [] });
        const later = new Date(now + 600_000).toISOString();
        const issued = await store.credentials.create("a", { expiresAt: later, name: "ci" });
        assert.ok(issued);
        assert.equal(issued.credential.expiresAt, later);
        assert.equal(issued.credential.name, "ci");
        const forward = new Date(now + 60_000).toISOString();
        assert.equal((await store.credentials.expireAt(issued.credential.id, forward))?.expiresAt, forward);
        const back = await store.credentials.expireAt(issued.credential.id, later);
        assert.equal(back?.expiresAt, forward, "never later than it was");
        assert.ok(await store.identities.authenticateToken(hashToken(issued.token)));
        now += 60_000;
        assert.equal(await store.identities.authenticateToken(hashToken(issued.token)), undefined);
        assert.equal(await store.identities.authenticateCredentialId(issued.credential.id), undefined);
        assert.equal(await store.credentials.expireAt("no-such-credential", forward), undefined);
      }));

    test("credentials are listed oldest first and fetched by id, with scopes and never a token", () =>
      withStore(async (store) => {
        const { token, credential } = await store.identities.create({ name: "a", kind: "agent", groups: [] });
        now += 1000;
        const scoped = await store.credentials.create("a", {
          scopes: { clusters: ["prod"], readOnly: true },
        });
        assert.ok(scoped);
        const list = await store.credentials.list("a");
        assert.deepEqual(
          list?.map((c) => c.id),
          [credential.id, scoped.credential.id],
        );
        assert.ok(!JSON.stringify(list).includes(token) && !JSON.stringify(list).includes(scoped.token));
        const got = await store.credentials.get(scoped.credential.id);
        assert.deepEqual(got?.scopes, { clusters: ["prod"], readOnly: true });
        assert.equal(got?.kind, "token");
        assert.equal(
          (await store.identities.authenticateToken(hashToken(scoped.token)))?.credential.scopes.readOnly,
          true,
        );
        assert.equal(await store.credentials.get("no-such-credential"), undefined);
        assert.equal(await store.credentials.list("nobody"), undefined);
      }));

    test("a client certificate authenticates by fingerprint until revoked or expired", () =>
      withStore(async (store) => {
        await store.identities.create({ name: "a", kind: "agent", groups: [] });
        const fingerprint = "cd".repeat(32);
        const cert = await store.credentials.addCertificate("a", {
          fingerprint,
          serial: "0a1b",
          expiresAt: new Date(now + 60_000).toISOString(),
        });
        assert.equal(cert?.kind, "certificate");
        assert.equal(cert?.serial, "0a1b");
        assert.equal((await store.identities.authenticateCertificate(fingerprint))?.identity.name, "a");
        assert.equal(await store.identities.authenticateCertificate("ef".repeat(32)), undefined);
        now += 60_000;
        assert.equal(await store.identities.authenticateCertificate(fingerprint), undefined, "expired");
        now -= 60_000;
        await store.credentials.revoke(cert?.id ?? "");
        assert.equal(await store.identities.authenticateCertificate(fingerprint), undefined, "revoked");
        await store.identities.revoke("a");
        const late = await store.credentials.addCertificate("a", {
          fingerprint: "12".repeat(32),
          serial: "02",
          expiresAt: new Date(now + 60_000).toISOString(),
        });
        assert.equal(late, undefined, "a revoked identity gets no certificate");
      }));

    test("a begun audit event is listed at once and completion fills in status, bytes and duration", () =>
      withStore(async (store) => {
        const event = auditEvent({ execCommand: ["sh", "-c", "ls"] });
        await store.audit.begin(event);
        assert.deepEqual(await store.audit.list({}), [event]);
        now += 250;
        await store.audit.complete(event.id, { status: 200, bytesIn: 10, bytesOut: 2048, durationMs: 250 });
        const [completed] = await store.audit.list({});
        assert.deepEqual(completed, {
          ...event,
          status: 200,
          bytesIn: 10,
          bytesOut: 2048,
          durationMs: 250,
          completedAt: new Date(now).toISOString(),
        });
      }));

    test("completing an audit event twice, or one never begun, is refused", () =>
      withStore(async (store) => {
        const event = auditEvent();
        await store.audit.begin(event);
        await store.audit.complete(event.id, {
          status: 403,
          bytesIn: 0,
          bytesOut: 1,
          durationMs: 1,
          reason: "no",
        });
        assert.equal((await store.audit.list({}))[0]?.reason, "no");
        await assert.rejects(
          store.audit.complete(event.id, { status: 200, bytesIn: 0, bytesOut: 0, durationMs: 0 }),
        );
        await assert.rejects(
          store.audit.complete("nope", { status: 200, bytesIn: 0, bytesOut: 0, durationMs: 0 }),
        );
      }));

    test("an audit event with a duplicate id or an unparseable time is refused, not stored", () =>
      withStore(async (store) => {
        const event = auditEvent();
        await store.audit.begin(event);
        await assert.rejects(store.audit.begin({ ...event, path: "/other" }));
        await assert.rejects(store.audit.begin(auditEvent({ time: "yesterday" })));
        assert.deepEqual(
          (await store.audit.list({})).map((e) => e.path),
          [event.path],
        );
      }));

    test("the audit list is newest first and filters by identity, since and limit", () =>
      withStore(async (store) => {
        const base = Date.parse("2026-03-01T00:00:00.000Z");
        const at = (minutes: number) => new Date(base + minutes * 60_000).toISOString();
        const events = [
          auditEvent({ id: "e1", time: at(1), identityName: "alice" }),
          auditEvent({ id: "e2", time: at(2), identityName: "bot" }),
          auditEvent({ id: "e3", time: at(3), identityName: "alice" }),
          auditEvent({ id: "e4", time: at(3), identityName: "bot" }),
          auditEvent({ id: "e5", time: at(5), identityName: null, identityKind: null, decision: "deny" }),
        ];
        // Inserted out of order: the list orders by event time, and by arrival among equal times.
        for (const e of [events[2], events[0], events[4], events[1], events[3]]) await store.audit.begin(e!);
        const ids = async (q: Parameters<Store["audit"]["list"]>[0]) =>
          (await store.audit.list(q)).map((e) => e.id);
        assert.deepEqual(await ids({}), ["e5", "e4", "e3", "e2", "e1"]);
        assert.deepEqual(await ids({ identityName: "alice" }), ["e3", "e1"]);
        assert.deepEqual(await ids({ since: at(3) }), ["e5", "e4", "e3"]);
        assert.deepEqual(await ids({ since: at(2), identityName: "bot" }), ["e4", "e2"]);
        assert.deepEqual(await ids({ limit: 2 }), ["e5", "e4"]);
        assert.deepEqual(await ids({ identityName: "nobody" }), []);
      }));

    test("a closed store rejects audit writes instead of pretending they happened", async () => {
      const store = await factory.open(clock);
      await store.close();
      await assert.rejects(store.audit.begin(auditEvent()));
      await store.close(); // closing twice is harmless
    });

    reviewContract(withStore);
    auditChainContract(withStore);
    sessionContract(withStore);
    replicaStateContract(withStore);
  });
}

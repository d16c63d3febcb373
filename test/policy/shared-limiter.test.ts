// Rate limits counted across replicas (src/policy/shared-limiter.ts): two limiters stand for two gateway replicas on
// one PostgreSQL store. The budget is one budget (N admitted in total, never 2N), also when both replicas race for
// the last places; the window slides; several limits are all or nothing; an unreachable store refuses (fail closed).
// Needs PostgreSQL (test/helpers/postgres.ts); fails, never skips.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { RequestContext } from "../../src/gateway/context.ts";
import { decide } from "../../src/gateway/stages/decide.ts";
import { DONE, type Flow } from "../../src/gateway/stages/types.ts";
import { classifyRequest } from "../../src/kube/classify/index.ts";
import type { Limit } from "../../src/policy/ratelimit.ts";
import { SharedRateLimiter } from "../../src/policy/shared-limiter.ts";
import { openStore } from "../../src/store/index.ts";
import type { Store } from "../../src/store/types.ts";
import { startTestPostgres, type TestPostgres } from "../helpers/postgres.ts";
import { engineOf } from "./support.ts";

let pg: TestPostgres | undefined;
const stores: Store[] = [];
let n = 0;

before(async () => {
  pg = await startTestPostgres();
});
after(async () => {
  for (const s of stores) await s.close();
  await pg?.stop();
});

/** Two replicas: each its own store connection pool and limiter, one schema. */
async function twoReplicas(): Promise<[SharedRateLimiter, SharedRateLimiter, Store]> {
  const schema = `lim${process.pid}_${++n}`;
  const url = (pg as TestPostgres).url;
  const a = await openStore({ kind: "postgres", url, schema });
  const b = await openStore({ kind: "postgres", url, schema });
  stores.push(a, b);
  return [new SharedRateLimiter(a), new SharedRateLimiter(b), b];
}

const limit = (key: string, requests: number, perMs = 60_000, cost = 1): Limit => ({
  key,
  requests,
  perMs,
  cost,
});

test("an agent with a limit of 5 per minute gets 5 in total through two replicas, then Retry-After", async () => {
  const [a, b] = await twoReplicas();
  const l = limit("agent-1\u0000p\u0000deletes", 5);
  const t0 = 1_000_000;
  const admitted: boolean[] = [];
  for (let i = 0; i < 8; i++) {
    const v = await (i % 2 ? b : a).admit([l], t0 + i * 1000);
    admitted.push(v.ok);
  }
  assert.deepEqual(admitted, [true, true, true, true, true, false, false, false]);
  const refused = await a.admit([l], t0 + 8000);
  assert.equal(refused.ok, false);
  if (!refused.ok) {
    assert.equal(refused.unavailable, undefined);
    // The first request leaves the window 60 s after it (rounded up to 1/64 of the window): ~52-53 s from now.
    assert.ok(
      refused.retryAfterSeconds >= 52 && refused.retryAfterSeconds <= 54,
      String(refused.retryAfterSeconds),
    );
  }
  // The window slides: once the first request is older than a minute, one more place opens, on either replica.
  assert.equal((await b.admit([l], t0 + 61_000)).ok, true);
  assert.equal((await a.admit([l], t0 + 61_500)).ok, false);
  // Another identity's budget is its own.
  assert.equal((await b.admit([limit("agent-2\u0000p\u0000deletes", 5)], t0 + 8000)).ok, true);
});

test("two replicas racing for the last places admit exactly the limit", async () => {
  const [a, b] = await twoReplicas();
  const l = limit("racer\u0000p\u0000r", 7);
  const now = 5_000_000;
  const verdicts = await Promise.all(Array.from({ length: 30 }, (_, i) => (i % 2 ? a : b).admit([l], now)));
  assert.equal(verdicts.filter((v) => v.ok).length, 7);
});

test("a burst for one key on one replica is written in a few round trips, not one per request", async () => {
  const [, , store] = await twoReplicas();
  let swaps = 0;
  const counted = new SharedRateLimiter({
    counters: {
      get: (key) => store.counters.get(key),
      swap: (...args) => {
        swaps++;
        return store.counters.swap(...args);
      },
    },
  });
  const l = limit("burst\u0000p\u0000r", 10);
  const verdicts = await Promise.all(Array.from({ length: 16 }, () => counted.admit([l], 7_000_000)));
  assert.equal(verdicts.filter((v) => v.ok).length, 10, "the limit still holds inside a batch");
  assert.ok(swaps <= 3, `16 admits took ${swaps} writes`);
});

test("a request counts against several limits all or nothing, and its cost counts whole", async () => {
  const [a, b] = await twoReplicas();
  const wide = limit("x\u0000p\u0000wide", 10);
  const narrow = limit("x\u0000p\u0000narrow", 1);
  const now = 9_000_000;
  assert.equal((await a.admit([wide, narrow], now)).ok, true);
  const refused = await b.admit([wide, narrow], now + 10);
  assert.ok(!refused.ok && refused.limit === narrow, "the narrow rule is exhausted");
  // The refused request gave its place in `wide` back: 9 more fit, not 8.
  for (let i = 0; i < 9; i++)
    assert.equal((await (i % 2 ? a : b).admit([wide], now + 20 + i)).ok, true, `#${i}`);
  assert.equal((await a.admit([wide], now + 40)).ok, false);
  // A deletecollection of 3 objects needs 3 places at once.
  const batch = limit("x\u0000p\u0000batch", 4);
  assert.equal((await a.admit([{ ...batch, cost: 3 }], now)).ok, true);
  assert.equal((await b.admit([{ ...batch, cost: 2 }], now)).ok, false);
  assert.equal((await b.admit([{ ...batch, cost: 1 }], now)).ok, true);
});

test("when the store cannot be reached the limiter refuses, saying so, instead of admitting uncounted", async () => {
  const [a, , store] = await twoReplicas();
  const l = limit("down\u0000p\u0000r", 100);
  assert.equal((await a.admit([l], 1_000)).ok, true);
  const closed = new SharedRateLimiter(store);
  await store.close();
  const v = await closed.admit([l], 2_000);
  assert.ok(!v.ok && v.unavailable === true && v.retryAfterSeconds > 0);
});

test("a rate-limited rule whose shared counters cannot be read is answered 503 naming the rule, not 429", async () => {
  const [, , store] = await twoReplicas();
  const engine = engineOf(`apiVersion: airlock.dev/v1alpha1
kind: Policy
metadata: { name: p }
spec:
  subjects: [{ group: agents }]
  rules:
    - name: few-reads
      verbs: [get]
      effect: allow
      rateLimit: { requests: 5, per: 1m }
`);
  await store.close();
  const counted = engine.withLimiter(new SharedRateLimiter(store));
  const principal = { identityId: "x", kind: "agent", name: "a", groups: ["agents"], labels: {} } as const;
  const classified = classifyRequest("GET", "/api/v1/namespaces/staging/pods/p", "sim");
  assert.ok(classified.ok);
  const ctx = { principal, kube: classified.value, headers: {} } as unknown as RequestContext;
  const flow = { gw: { decider: counted }, ctx, upstream: {} } as unknown as Flow;
  const status = await decide(flow);
  assert.ok(status && status !== DONE);
  assert.equal(status.code, 503);
  assert.equal(status.reason, "ServiceUnavailable");
  assert.ok((status.details?.retryAfterSeconds ?? 0) > 0, "Retry-After is set");
  assert.match(
    status.message ?? "",
    /refused by policy p rule few-reads: the rate-limit counters .* cannot be read/,
  );
});

import assert from "node:assert/strict";
import { test } from "node:test";
import { RateLimiter } from "../../src/policy/ratelimit.ts";
import { AGENT, decide, engineOf, policy } from "./support.ts";

test("a rate-limited rule allows N requests per window per identity, then denies with Retry-After", () => {
  let now = 1_000_000;
  const rules =
    "    - name: deletes\n      verbs: [delete]\n      effect: allow\n      rateLimit: { requests: 2, per: 1m }";
  const engine = engineOf(policy("p", "[{ identity: '*' }]", rules), () => now);
  const del = { verb: "delete", resource: "pods", namespace: "d", name: "w" };
  assert.equal(decide(engine, del).effect, "allow");
  now += 10_000;
  assert.equal(decide(engine, del).effect, "allow");
  now += 10_000;
  const third = decide(engine, del);
  assert.equal(third.effect, "deny");
  assert.equal(
    third.effect === "deny" && third.retryAfterSeconds,
    40,
    "the oldest request leaves the window in 40s",
  );
  assert.match(third.effect === "deny" ? third.message : "", /at most 2 requests per 1m for demo-agent/);
  assert.equal(
    decide(engine, del, { ...AGENT, name: "other-agent" }).effect,
    "allow",
    "limits are per identity",
  );
  now += 40_001;
  assert.equal(decide(engine, del).effect, "allow", "the window slid past the first request");
});

test("a refused request uses no budget, and every limit that applies must have room", () => {
  const limiter = new RateLimiter();
  const a = { key: "a", requests: 1, perMs: 1000 };
  const b = { key: "b", requests: 5, perMs: 1000 };
  assert.equal(limiter.admit([a, b], 0).ok, true);
  const refused = limiter.admit([a, b], 100);
  assert.equal(!refused.ok && refused.limit.key, "a");
  for (let i = 0; i < 4; i++) assert.equal(limiter.admit([b], 200 + i).ok, true, "b still has 4 left");
  assert.equal(limiter.admit([b], 300).ok, false);
  limiter.sweep(5000);
  assert.equal(limiter.size, 0, "idle keys are swept");
});

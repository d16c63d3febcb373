// The sign-in and minting throttle (src/identity/throttle.ts) with a fake clock: per-source failures and
// per-identity attempts, Retry-After counting down, one throttled event per key and window, recovery.
import assert from "node:assert/strict";
import { test } from "node:test";
import { AttemptThrottle, type ThrottledEvent, throttledMessage } from "../../src/identity/throttle.ts";
import { StatusError } from "../../src/kube/status.ts";

test("failures per source and attempts per identity are limited per window; one event per key and window", async () => {
  let now = 1_000_000;
  const events: ThrottledEvent[] = [];
  const t = new AttemptThrottle({
    limits: { failuresPerSource: 2, attemptsPerIdentity: 2, windowSeconds: 10 },
    now: () => now,
    onThrottled: (e) => events.push(e),
  });
  assert.equal((await t.checkSource("sign-in", "10.0.0.1")).ok, true);
  await t.failed("sign-in", "10.0.0.1");
  await t.failed("sign-in", "10.0.0.1");
  now += 3000;
  const blocked = await t.checkSource("sign-in", "10.0.0.1");
  assert.deepEqual(blocked, { ok: false, retryAfterSeconds: 7, scope: "source", limit: 2 });
  assert.equal((await t.checkSource("sign-in", "10.0.0.2")).ok, true, "another address is not affected");
  assert.equal((await t.checkSource("minting", "10.0.0.1")).ok, true, "another endpoint is not affected");
  await t.checkSource("sign-in", "10.0.0.1");
  assert.equal(events.length, 1, "one event for the window");
  assert.equal(events[0]?.key, "10.0.0.1");
  assert.equal(
    throttledMessage("console sign-in", blocked as Extract<typeof blocked, { ok: false }>, 10),
    "console sign-in is throttled: at most 2 failed attempts from one address per 10s; retry in 7s",
  );
  assert.equal((await t.attempt("minting", "demo-agent")).ok, true);
  assert.equal((await t.attempt("minting", "demo-agent")).ok, true);
  assert.equal((await t.attempt("minting", "demo-agent")).ok, false);
  now += 10_000;
  assert.equal((await t.checkSource("sign-in", "10.0.0.1")).ok, true, "recovered after the window");
  assert.equal((await t.attempt("minting", "demo-agent")).ok, true);
  await t.failed("sign-in", "10.0.0.1");
  await t.failed("sign-in", "10.0.0.1");
  assert.equal((await t.checkSource("sign-in", "10.0.0.1")).ok, false);
  assert.equal(events.length, 3, "a new window notes again");
});

test("with shared windows, an unreachable store refuses sign-in with 503 rather than letting attempts through uncounted", async () => {
  const down = () => Promise.reject(new Error("connection refused"));
  const t = new AttemptThrottle({ shared: { counters: { get: down, swap: down } } });
  await assert.rejects(t.checkSource("sign-in", "10.0.0.1"), (err: unknown) => {
    assert.ok(err instanceof StatusError);
    assert.equal(err.status.code, 503);
    assert.match(
      err.status.message ?? "",
      /throttles cannot be checked: the store the gateway replicas share is unavailable/,
    );
    return true;
  });
  await assert.rejects(t.attempt("minting", "demo-agent"), StatusError);
  await assert.rejects(t.failed("sign-in", "10.0.0.1"), StatusError);
});

// The secret-value matcher is compiled once per SET of values (src/gateway/transform/stage.ts cachedMatcher): the
// same values in another order or repeated — as the remembered values are after one is masked again — reuse it.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { GatewayRuntime } from "../../src/gateway/runtime.ts";
import { cachedMatcher } from "../../src/gateway/transform/stage.ts";

const gw = {} as GatewayRuntime;
const v = (s: string) => Buffer.from(s);

test("the same set of values in another order, or with repeats, gets the same compiled matcher", () => {
  const first = cachedMatcher(gw, [v("alpha-secret"), v("bravo-secret"), v("charlie-secret")], 6);
  assert.ok(first);
  assert.equal(cachedMatcher(gw, [v("charlie-secret"), v("alpha-secret"), v("bravo-secret")], 6), first);
  assert.equal(
    cachedMatcher(gw, [v("bravo-secret"), v("alpha-secret"), v("charlie-secret"), v("alpha-secret")], 6),
    first,
  );
  assert.equal(first.values, 3);
});

test("another set, or another minimum length, gets its own matcher", () => {
  const a = cachedMatcher(gw, [v("alpha-secret"), v("bravo-secret")], 6);
  assert.notEqual(cachedMatcher(gw, [v("alpha-secret"), v("delta-secret")], 6), a);
  assert.notEqual(cachedMatcher(gw, [v("alpha-secret"), v("bravo-secret")], 8), a);
});

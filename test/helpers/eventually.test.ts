// The shared wait helper: returns what arrived, and a timeout names what was awaited and the last value seen.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { eventually, eventuallyMatches } from "./eventually.ts";

describe("eventually", () => {
  test("returns the probe's value once it arrives, trying again in between", async () => {
    let calls = 0;
    const value = await eventually("the third call", () => (++calls >= 3 ? { calls } : undefined), {
      intervalMs: 1,
    });
    assert.deepEqual(value, { calls: 3 });
  });

  test("a custom `until` decides; a probe that throws has not arrived yet", async () => {
    let n = 0;
    const got = await eventually(
      "n to reach 2",
      () => {
        n++;
        if (n === 1) throw new Error("not ready");
        return n;
      },
      { until: (v) => v >= 2, intervalMs: 1 },
    );
    assert.equal(got, 2);
  });

  test("a timeout names what was awaited and the last value seen", async () => {
    await assert.rejects(
      eventually("the watch to print NAME", () => "no header yet", {
        timeoutMs: 30,
        intervalMs: 5,
        until: (s) => s.includes("NAME"),
      }),
      /timed out after 30 ms waiting for the watch to print NAME; last value seen: 'no header yet'/,
    );
  });

  test("a timeout after a throwing probe carries the probe's last error", async () => {
    await assert.rejects(
      eventually(
        "the store to answer",
        () => {
          throw new Error("connection refused");
        },
        { timeoutMs: 20, intervalMs: 5 },
      ),
      /waiting for the store to answer; the probe last threw: connection refused/,
    );
  });

  test("eventuallyMatches waits for output to match and shows the output on timeout", async () => {
    let out = "";
    setTimeout(() => {
      out += "NAME  READY\n";
    }, 10);
    assert.equal(await eventuallyMatches(() => out, /NAME/), "NAME  READY\n");
    await assert.rejects(
      eventuallyMatches(() => out, /web-1/, 30),
      /output matching \/web-1\/; last value seen: 'NAME {2}READY\\n'/,
    );
  });
});

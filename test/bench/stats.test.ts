// The arithmetic behind docs/benchmarks.md: percentiles, per-watch memory, number formatting, table rows.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { kib, markdownTable, ms, percentile, perWatchBytes, summarize } from "../../bench/stats.ts";

describe("bench stats", () => {
  it("percentiles use the nearest rank and do not depend on input order", () => {
    const hundred = Array.from({ length: 100 }, (_, i) => 100 - i); // 100..1, unsorted
    const cases: [number[], number, number][] = [
      [hundred, 0.5, 50],
      [hundred, 0.99, 99],
      [hundred, 1, 100],
      [hundred, 0, 1],
      [[7], 0.99, 7],
      [[3, 1, 2], 0.5, 2],
    ];
    for (const [samples, p, want] of cases)
      assert.equal(percentile(samples, p), want, `p${p * 100} of ${samples.length}`);
    assert.ok(Number.isNaN(percentile([], 0.5)));
  });

  it("summarize leaves the samples in their order", () => {
    const samples = [5, 1, 4];
    assert.deepEqual(summarize(samples), { count: 3, p50: 4, p99: 5, max: 5 });
    assert.deepEqual(samples, [5, 1, 4]);
  });

  it("memory per watch is the growth spread over the watches, never negative", () => {
    assert.equal(perWatchBytes(1000, 1000 + 200 * 4096, 200), 4096);
    assert.equal(perWatchBytes(5000, 4000, 10), 0);
    assert.throws(() => perWatchBytes(0, 1, 0), RangeError);
  });

  it("figures are formatted with the digits that matter", () => {
    assert.equal(ms(0.41234), "0.412");
    assert.equal(ms(23.14), "23.1");
    assert.equal(ms(236.4), "236");
    assert.equal(ms(Number.NaN), "n/a");
    assert.equal(kib(65536), "64.0");
  });

  it("a Markdown table has a header, a separator and escaped cells", () => {
    assert.equal(markdownTable(["a", "b"], [["1", "x|y"]]), "| a | b |\n| --- | --- |\n| 1 | x\\|y |");
  });
});

import assert from "node:assert/strict";
import { test } from "node:test";
import {
  CliError,
  formatAge,
  formatTable,
  parseDuration,
  resolveServer,
  sinceToIso,
} from "../../src/cli/client.ts";

test("durations are sums of s, m, h and d parts; anything else is not a duration", () => {
  const cases: [string, number | undefined][] = [
    ["90s", 90_000],
    ["30m", 1_800_000],
    ["1h", 3_600_000],
    ["2d", 172_800_000],
    ["1h30m", 5_400_000],
    ["", undefined],
    ["1", undefined],
    ["1w", undefined],
    ["-1h", undefined],
    ["1.5h", undefined],
    ["h", undefined],
  ];
  for (const [text, ms] of cases) assert.equal(parseDuration(text), ms, text);
});

test("--since takes a duration back from now or an RFC 3339 time", () => {
  const now = Date.parse("2026-03-01T12:00:00Z");
  assert.equal(sinceToIso("1h", now), "2026-03-01T11:00:00.000Z");
  assert.equal(sinceToIso("2026-02-28T10:00:00+01:00", now), "2026-02-28T09:00:00.000Z");
  assert.throws(() => sinceToIso("last week", now), CliError);
  assert.throws(() => sinceToIso("2026-13-45T00:00:00Z", now), CliError);
});

test("ages read like kubectl's", () => {
  const now = Date.parse("2026-03-01T12:00:00Z");
  const ago = (s: number) => new Date(now - s * 1000).toISOString();
  const cases: [string | null, string][] = [
    [null, "never"],
    [ago(5), "5s"],
    [ago(600), "10m"],
    [ago(3 * 3600), "3h"],
    [ago(5 * 86400), "5d"],
  ];
  for (const [iso, age] of cases) assert.equal(formatAge(iso, now), age);
});

test("tables pad every column but the last", () => {
  assert.equal(
    formatTable(
      ["NAME", "KIND"],
      [
        ["a", "agent"],
        ["longer-name", "human"],
      ],
    ),
    "NAME          KIND\na             agent\nlonger-name   human\n",
  );
});

test("the server must be an https URL and loses its trailing slash", () => {
  assert.equal(resolveServer("https://gw.example:8443/", {}), "https://gw.example:8443");
  assert.equal(resolveServer(undefined, { AIRLOCK_SERVER: "https://127.0.0.1:1" }), "https://127.0.0.1:1");
  assert.throws(() => resolveServer("http://gw", {}), /https:\/\//);
  assert.throws(() => resolveServer("not a url", {}), /not a URL/);
  assert.throws(() => resolveServer(undefined, {}), /AIRLOCK_SERVER/);
});

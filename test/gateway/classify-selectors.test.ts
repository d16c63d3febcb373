import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  exactMatch,
  isGoInt64,
  isLabelValue,
  isQualifiedName,
  isValidLabelSelector,
  parseFieldSelector,
} from "../../src/kube/classify/selectors.ts";

describe("isValidLabelSelector agrees with labels.Parse", () => {
  const good = [
    "",
    "   ",
    "x=a,y=b,z=c",
    "x!=a,y=b",
    "x==a",
    "x=",
    "x= ",
    "x=,z= ",
    "!x",
    "!x,y",
    "x",
    "x>1",
    "x>1,z<5",
    "x in (a,b)",
    "x in(a)",
    "x notin (a)",
    "x in ()",
    "x in (,)",
    "x in (a,,b)",
    "x in (a,)",
    "in in (in,notin)",
    "example.com/app=web",
    "app.kubernetes.io/name in (nginx, web)",
    "tier notin (frontend),!canary",
  ];
  const bad = [
    "x=a||y=b",
    "x==a==b",
    "!x=a",
    "x<a",
    "x>-1",
    "x=a b",
    "x=a,",
    ",x=a",
    "x in a",
    "x in (a",
    "x in (a b)",
    "x notin",
    "=a",
    "!",
    "x=-a",
    "x=a/b",
    "/x=a",
    "a/b/c=d",
    "Example.com/app=web",
    `x=${"a".repeat(64)}`,
    `${"k".repeat(64)}=a`,
    "x=é",
    "x>99999999999999999999",
  ];
  for (const s of good)
    test(`accepts ${JSON.stringify(s)}`, () => assert.equal(isValidLabelSelector(s), true));
  for (const s of bad)
    test(`rejects ${JSON.stringify(s)}`, () => assert.equal(isValidLabelSelector(s), false));
});

describe("parseFieldSelector agrees with fields.ParseSelector", () => {
  const table: [string, string | undefined | null][] = [
    // [selector, metadata.name exact match (undefined: none), or null when parsing fails]
    ["", undefined],
    ["metadata.name=nginx", "nginx"],
    ["metadata.name==nginx", "nginx"],
    ["metadata.name!=nginx", undefined],
    ["status.phase=Running,metadata.name=web", "web"],
    ["metadata.name=b,metadata.name=a", "a"],
    ["metadata.name=", ""],
    [",", undefined],
    ["metadata.name=a\\,b", "a,b"],
    ["metadata.name=a\\=b", "a=b"],
    ["metadata.name=a\\\\b", "a\\b"],
    ["metadata.name=a,foo", null],
    ["metadata.name=a=b", null],
    ["metadata.name=a\\x", null],
    ["metadata.name=a\\", null],
    ["metadata.name", null],
    ["metadata.name =nginx", undefined],
  ];
  for (const [s, want] of table) {
    test(`${JSON.stringify(s)} → ${want === null ? "error" : JSON.stringify(want)}`, () => {
      const terms = parseFieldSelector(s);
      if (want === null) return assert.equal(terms, undefined);
      assert.ok(terms);
      assert.equal(exactMatch(terms, "metadata.name"), want);
    });
  }
});

describe("Go number and name validation", () => {
  const ints: [string, boolean][] = [
    ["0", true],
    ["-5", true],
    ["+5", true],
    ["9223372036854775807", true],
    ["9223372036854775808", false],
    ["-9223372036854775808", true],
    ["-9223372036854775809", false],
    ["", false],
    ["1_000", false],
    ["0x10", false],
    [" 1", false],
    ["1.0", false],
  ];
  for (const [s, want] of ints)
    test(`ParseInt(${JSON.stringify(s)}) ok=${want}`, () => assert.equal(isGoInt64(s), want));

  test("qualified names and label values", () => {
    assert.equal(isQualifiedName("app"), true);
    assert.equal(isQualifiedName("k8s.io/app"), true);
    assert.equal(isQualifiedName("k8s.io/"), false);
    assert.equal(isQualifiedName("-app"), false);
    assert.equal(isLabelValue(""), true);
    assert.equal(isLabelValue("a_b.c-d"), true);
    assert.equal(isLabelValue("a_"), false);
  });
});

// Per-item filtering in the streaming maskers (policy's item filter, issue 13 §4): lists, Tables and watch events
// lose exactly the elements the filter refuses, at every chunk boundary, still masked; what cannot be filtered
// (rows without their object, unknown shapes) throws instead of passing.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  BUILTIN_PROFILES,
  createPlaceholders,
  ItemRefused,
  JsonDocumentMasker,
  type MaskContext,
  MaskingError,
  WatchStreamMasker,
} from "../../src/mask/index.ts";

const ph = createPlaceholders(Buffer.alloc(32, 7));
const ctx = (): MaskContext => ({ profile: BUILTIN_PROFILES.get("default") as never, ph, counts: new Map() });
const notProd = (obj: unknown) =>
  (obj as { metadata?: { namespace?: string } })?.metadata?.namespace !== "prod";

const secret = (namespace: string, name: string) => ({
  metadata: { name, namespace, labels: { app: "x" } },
  type: "Opaque",
  data: { password: Buffer.from(`pw-${name}`).toString("base64") },
});

function run(masker: { push(b: Buffer): Buffer[]; end(): Buffer[] }, text: string, split: number): string {
  const bytes = Buffer.from(text);
  const out: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += split) out.push(...masker.push(bytes.subarray(i, i + split)));
  out.push(...masker.end());
  return Buffer.concat(out).toString("utf8");
}

const LIST = JSON.stringify({
  kind: "SecretList",
  apiVersion: "v1",
  metadata: { resourceVersion: "9", continue: "abc", remainingItemCount: 7 },
  items: [secret("dev", "a"), secret("prod", "b"), secret("dev", "c"), secret("prod", "d")],
});

test("a List loses the refused items at every chunk size, keeps continue, drops remainingItemCount, still masks", () => {
  for (const split of [1, 2, 3, 7, 64, 100_000]) {
    const out = JSON.parse(run(new JsonDocumentMasker(ctx(), "Secret", undefined, notProd), LIST, split));
    assert.deepEqual(
      out.items.map((i: { metadata: { name: string } }) => i.metadata.name),
      ["a", "c"],
      `split ${split}`,
    );
    assert.equal(out.metadata.continue, "abc");
    assert.equal(out.metadata.remainingItemCount, undefined);
    assert.doesNotMatch(JSON.stringify(out), /cHctYQ|pw-a/, "kept items are still masked");
  }
});

test("a list whose items are not the last key (buffered whole) is filtered too", () => {
  const odd = `{"kind":"SecretList","items":[${JSON.stringify(secret("prod", "p"))},${JSON.stringify(secret("dev", "q"))}],"apiVersion":"v1","metadata":{}}`;
  const out = JSON.parse(run(new JsonDocumentMasker(ctx(), "Secret", undefined, notProd), odd, 5));
  assert.deepEqual(
    out.items.map((i: { metadata: { name: string } }) => i.metadata.name),
    ["q"],
  );
});

test("a Table loses the rows whose object is refused; a row without its object cannot be filtered", () => {
  const table = (rows: unknown[]) =>
    JSON.stringify({
      kind: "Table",
      apiVersion: "meta.k8s.io/v1",
      metadata: {},
      columnDefinitions: [{ name: "Name", type: "string" }],
      rows,
    });
  const rows = [
    { cells: ["a"], object: { kind: "PartialObjectMetadata", metadata: { name: "a", namespace: "dev" } } },
    { cells: ["b"], object: { kind: "PartialObjectMetadata", metadata: { name: "b", namespace: "prod" } } },
  ];
  for (const split of [1, 9, 1000]) {
    const out = JSON.parse(
      run(new JsonDocumentMasker(ctx(), "Secret", undefined, notProd), table(rows), split),
    );
    assert.deepEqual(
      out.rows.map((r: { cells: string[] }) => r.cells[0]),
      ["a"],
    );
  }
  assert.throws(
    () => run(new JsonDocumentMasker(ctx(), "Secret", undefined, notProd), table([{ cells: ["a"] }]), 4),
    MaskingError,
  );
});

test("one object (a GET by name) is refused whole when the filter refuses it; shapes without metadata throw", () => {
  const masker = () => new JsonDocumentMasker(ctx(), "Secret", undefined, notProd);
  assert.throws(() => run(masker(), JSON.stringify(secret("prod", "a")), 8), ItemRefused);
  assert.equal(JSON.parse(run(masker(), JSON.stringify(secret("dev", "a")), 8)).metadata.name, "a");
  assert.throws(() => run(masker(), JSON.stringify({ spec: {} }), 3), MaskingError);
  const status = JSON.stringify({ kind: "Status", apiVersion: "v1", status: "Failure", code: 410 });
  assert.equal(JSON.parse(run(masker(), status, 3)).code, 410);
});

test("a watch stream drops refused events at every chunk size; bookmarks and errors pass; unknown types throw", () => {
  const events = [
    { type: "ADDED", object: secret("dev", "a") },
    { type: "ADDED", object: secret("prod", "b") },
    { type: "BOOKMARK", object: { kind: "Secret", metadata: { resourceVersion: "12" } } },
    { type: "MODIFIED", object: secret("prod", "b") },
    { type: "DELETED", object: secret("dev", "a") },
    { type: "ERROR", object: { kind: "Status", code: 410 } },
  ];
  const stream = events.map((e) => JSON.stringify(e)).join("\n");
  for (const split of [1, 5, 50, 100_000]) {
    const out = run(new WatchStreamMasker(ctx(), "Secret", undefined, notProd), stream, split)
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { type: string; object: { data?: { password?: string } } });
    assert.deepEqual(
      out.map((e) => e.type),
      ["ADDED", "BOOKMARK", "DELETED", "ERROR"],
      `split ${split}`,
    );
    // A Secret's data is base64: `pw-a` can only leak as cHctYQ==, so that is what must be absent.
    assert.doesNotMatch(JSON.stringify(out), /"prod"|pw-a|cHctYQ/);
    const marker = ph.base64Marker(Buffer.from("pw-a"));
    for (const kept of [out[0], out[2]])
      assert.equal(kept?.object.data?.password, marker, "the value became its marker");
  }
  const tableEvent = {
    type: "ADDED",
    object: {
      kind: "Table",
      rows: [{ cells: ["b"], object: { metadata: { name: "b", namespace: "prod" } } }],
    },
  };
  assert.equal(
    run(new WatchStreamMasker(ctx(), "Secret", undefined, notProd), JSON.stringify(tableEvent), 3),
    "",
  );
  assert.throws(
    () =>
      run(
        new WatchStreamMasker(ctx(), "Secret", undefined, notProd),
        JSON.stringify({ type: "ODD", object: {} }),
        4,
      ),
    MaskingError,
  );
});

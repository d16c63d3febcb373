// The layers of src/ (README "Layout"): kube and shared at the bottom; the domain modules above them, importing no
// gateway, store, admin, MCP or console code; the store above the domain modules whose shares it implements; the
// gateway, then admin, MCP and console; server/ (the composition root) above all of those; cli last. And no import
// cycle between folders. On failure the folder graph is printed.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import {
  folderCycles,
  folderGraph,
  type ImportEdge,
  importEdges,
  layerViolations,
  printGraph,
  specifiers,
} from "./import-graph.ts";

const SRC = fileURLToPath(new URL("../../src", import.meta.url));

describe("the import graph of src/", () => {
  const edges = importEdges(SRC);
  const graph = folderGraph(edges);

  test("is read from the sources (every folder of the layers imports something or is imported)", () => {
    assert.ok(edges.length > 500, `only ${edges.length} import edges found: the parser misses imports`);
    for (const folder of ["kube", "gateway", "identity", "server", "cli"])
      assert.ok(graph.has(folder), folder);
  });

  test("imports point down the layers only", () => {
    const bad = layerViolations(edges);
    assert.deepEqual(
      bad,
      [],
      `imports against the layers:\n${bad.join("\n")}\nfolder graph:\n${printGraph(graph)}`,
    );
  });

  test("no file outside gateway, admin, mcp, console, server and cli imports src/gateway", () => {
    const allowed = new Set(["gateway", "admin", "mcp", "console", "server", "cli"]);
    const bad = edges.filter((e) => e.to.startsWith("gateway/") && !allowed.has(e.from.split("/")[0]!));
    assert.deepEqual(bad, [], `folder graph:\n${printGraph(graph)}`);
  });

  test("no import cycle between folders", () => {
    const cycles = folderCycles(graph);
    assert.deepEqual(
      cycles,
      [],
      `folder cycles: ${JSON.stringify(cycles)}\nfolder graph:\n${printGraph(graph)}`,
    );
  });
});

describe("the checker itself", () => {
  const edge = (from: string, to: string): ImportEdge => ({ from, to });

  test("finds every kind of import specifier, and none in comments", () => {
    const text = [
      'import type { A } from "./a.ts";',
      'import {\n  B,\n  type C,\n} from "../b/c.ts";',
      'export { D } from "./d.ts";',
      'import "./side-effect.ts";',
      'const e = await import("./e.ts");',
      'type F = import("../f.ts").F;',
      'import { z } from "zod";',
      '// import { x } from "./commented.ts";',
      '/* import { y } from "./block.ts"; */',
    ].join("\n");
    assert.deepEqual(specifiers(text), [
      "./a.ts",
      "../b/c.ts",
      "./d.ts",
      "./side-effect.ts",
      "./e.ts",
      "../f.ts",
    ]);
  });

  test("reports a domain module importing the gateway, and an unplaced folder", () => {
    const bad = layerViolations([
      edge("identity/service.ts", "gateway/runtime.ts"),
      edge("newthing/x.ts", "kube/request.ts"),
    ]);
    assert.deepEqual(bad, [
      "src/identity/service.ts imports src/gateway/runtime.ts: identity (layer 3) may not import gateway (layer 5)",
      "src/newthing/ is in no layer (test/architecture/import-graph.ts)",
    ]);
  });

  test("reports a cycle between folders of one layer, and none for imports within a folder", () => {
    const graph = folderGraph([
      edge("policy/a.ts", "review/b.ts"),
      edge("review/b.ts", "audit/c.ts"),
      edge("audit/c.ts", "policy/d.ts"),
      edge("mask/a.ts", "mask/b.ts"),
      edge("mask/b.ts", "mask/a.ts"),
    ]);
    assert.deepEqual(folderCycles(graph), [["audit", "policy", "review"]]);
    assert.deepEqual(
      layerViolations([edge("policy/a.ts", "review/b.ts"), edge("review/b.ts", "policy/a.ts")]),
      [],
    );
  });
});

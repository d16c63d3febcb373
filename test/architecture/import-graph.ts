// The import graph of src/: which file imports which, folded into folders (src/<folder>/...), checked against the
// layers the code is built in (README "Layout"). Used by imports.test.ts; kept apart so its own tests can feed it
// made-up graphs and see it fail.
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

/**
 * The layers, lowest first. A folder may import its own layer and the layers below; within one layer, folders may
 * import each other as long as no cycle forms. A folder of src/ that is not listed fails the check: place it first.
 */
export const LAYERS: readonly (readonly string[])[] = [
  ["shared"],
  ["kube"],
  ["upstream"],
  ["identity", "policy", "review", "audit", "recording", "mask", "agent"],
  ["store"],
  ["gateway"],
  ["admin", "mcp", "console"],
  ["server"],
  ["cli"],
];

export interface ImportEdge {
  /** Paths relative to src/. */
  from: string;
  to: string;
}

/** Every relative import specifier of a TypeScript text: import/export … from, side-effect imports, import(). */
export function specifiers(text: string): string[] {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:"'`\\])\/\/.*$/gm, "$1");
  const found: string[] = [];
  const pattern =
    /(?:^|[;\s])(?:import|export)\s+(?:type\s+)?(?:[\w*{}\s,$]*?\s+from\s+)?["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g;
  for (const m of code.matchAll(pattern)) {
    const spec = m[1] ?? m[2];
    if (spec?.startsWith(".")) found.push(spec);
  }
  return found;
}

/** The file-level edges inside src/ (imports that leave src/ or name a package are not edges). */
export function importEdges(srcDir: string): ImportEdge[] {
  const edges: ImportEdge[] = [];
  for (const file of readdirSync(srcDir, { recursive: true, encoding: "utf8" })) {
    if (!/\.tsx?$/.test(file)) continue;
    const abs = join(srcDir, file);
    for (const spec of specifiers(readFileSync(abs, "utf8"))) {
      const target = resolve(dirname(abs), spec);
      if (target.startsWith(srcDir + "/")) edges.push({ from: file, to: relative(srcDir, target) });
    }
  }
  return edges;
}

export const folderOf = (path: string): string => (path.includes("/") ? path.split("/")[0]! : "(src root)");

/** Folder → folders it imports, with how many import lines. */
export function folderGraph(edges: readonly ImportEdge[]): Map<string, Map<string, number>> {
  const graph = new Map<string, Map<string, number>>();
  for (const { from, to } of edges) {
    const a = folderOf(from);
    const b = folderOf(to);
    if (!graph.has(a)) graph.set(a, new Map());
    if (a !== b) graph.get(a)!.set(b, (graph.get(a)!.get(b) ?? 0) + 1);
  }
  return graph;
}

export function printGraph(graph: Map<string, Map<string, number>>): string {
  return [...graph]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([a, bs]) => `  ${a} -> ${[...bs].map(([b, n]) => `${b}(${n})`).join(" ") || "(nothing)"}`)
    .join("\n");
}

/** The folder cycles (strongly connected components of more than one folder). */
export function folderCycles(graph: Map<string, Map<string, number>>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v)?.keys() ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) cycles.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return cycles;
}

/** Imports that point up the layers (or out of an unplaced folder), each with the file and what it imports. */
export function layerViolations(edges: readonly ImportEdge[], layers = LAYERS): string[] {
  const rank = new Map<string, number>();
  layers.forEach((folders, i) => {
    for (const f of folders) rank.set(f, i);
  });
  const problems = new Set<string>();
  for (const { from, to } of edges) {
    const a = folderOf(from);
    const b = folderOf(to);
    if (a === b) continue;
    for (const f of [a, b])
      if (!rank.has(f)) problems.add(`src/${f}/ is in no layer (test/architecture/import-graph.ts)`);
    const ra = rank.get(a);
    const rb = rank.get(b);
    if (ra !== undefined && rb !== undefined && rb > ra) {
      problems.add(`src/${from} imports src/${to}: ${a} (layer ${ra}) may not import ${b} (layer ${rb})`);
    }
  }
  return [...problems].sort();
}

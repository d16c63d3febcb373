// A unified diff of two texts, line by line (LCS), with three lines of context, as `diff -u` prints it. Pure.
//
// Objects shown to reviewers are small; beyond MAX_CELLS of comparison the diff degrades to "all removed, all added"
// rather than spend seconds of CPU on the request path.
const MAX_CELLS = 4_000_000;

type Op = { kind: " " | "-" | "+"; line: string };

function splitLines(text: string): string[] {
  if (text === "") return [];
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  return lines;
}

function lcsOps(a: string[], b: string[]): Op[] {
  if (a.length * b.length > MAX_CELLS) {
    return [...a.map((line): Op => ({ kind: "-", line })), ...b.map((line): Op => ({ kind: "+", line }))];
  }
  const w = b.length + 1;
  const table = new Uint32Array((a.length + 1) * w);
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      table[i * w + j] =
        a[i] === b[j]
          ? (table[(i + 1) * w + j + 1] ?? 0) + 1
          : Math.max(table[(i + 1) * w + j] ?? 0, table[i * w + j + 1] ?? 0);
    }
  }
  const ops: Op[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) {
      ops.push({ kind: " ", line: a[i] ?? "" });
      i++;
      j++;
    } else if ((table[(i + 1) * w + j] ?? 0) >= (table[i * w + j + 1] ?? 0)) {
      ops.push({ kind: "-", line: a[i++] ?? "" });
    } else {
      ops.push({ kind: "+", line: b[j++] ?? "" });
    }
  }
  while (i < a.length) ops.push({ kind: "-", line: a[i++] ?? "" });
  while (j < b.length) ops.push({ kind: "+", line: b[j++] ?? "" });
  return ops;
}

export interface DiffResult {
  text: string;
  added: number;
  removed: number;
}

export function unifiedDiff(
  before: string,
  after: string,
  labels = { a: "current", b: "proposed" },
  context = 3,
): DiffResult {
  const ops = lcsOps(splitLines(before), splitLines(after));
  const added = ops.filter((o) => o.kind === "+").length;
  const removed = ops.filter((o) => o.kind === "-").length;
  if (added === 0 && removed === 0) return { text: "", added, removed };
  const out = [`--- ${labels.a}`, `+++ ${labels.b}`];
  let k = 0;
  while (k < ops.length) {
    if (ops[k]?.kind === " ") {
      k++;
      continue;
    }
    // A hunk: from `context` lines before this change to `context` lines after the last change close to it.
    const start = Math.max(0, k - context);
    let end = k;
    let quiet = 0;
    for (let m = k; m < ops.length; m++) {
      if (ops[m]?.kind === " ") {
        quiet++;
        if (quiet > context * 2) break;
      } else {
        quiet = 0;
        end = m;
      }
    }
    const stop = Math.min(ops.length, end + context + 1);
    let aStart = 1;
    let bStart = 1;
    for (let m = 0; m < start; m++) {
      if (ops[m]?.kind !== "+") aStart++;
      if (ops[m]?.kind !== "-") bStart++;
    }
    const hunk = ops.slice(start, stop);
    const aLen = hunk.filter((o) => o.kind !== "+").length;
    const bLen = hunk.filter((o) => o.kind !== "-").length;
    out.push(`@@ -${aLen ? aStart : aStart - 1},${aLen} +${bLen ? bStart : bStart - 1},${bLen} @@`);
    for (const o of hunk) out.push(`${o.kind}${o.line}`);
    k = stop;
  }
  return { text: `${out.join("\n")}\n`, added, removed };
}

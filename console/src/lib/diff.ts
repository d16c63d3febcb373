// A unified diff (as the review service writes it) laid out side by side: left is the live object, right what the
// dry run returned. Pure, so it is table-tested; the diff text is already masked by the gateway.
export type Cell = { text: string; kind: "same" | "removed" | "added" | "empty" };
export type DiffRow = { kind: "hunk"; text: string } | { kind: "line"; left: Cell; right: Cell };

const EMPTY: Cell = { text: "", kind: "empty" };

export function sideBySide(unified: string): DiffRow[] {
  const rows: DiffRow[] = [];
  let removed: string[] = [];
  let added: string[] = [];
  // Removals and additions that follow each other are paired line by line, like a change of those lines.
  const flush = () => {
    for (let i = 0; i < Math.max(removed.length, added.length); i++) {
      const l = removed[i];
      const r = added[i];
      rows.push({
        kind: "line",
        left: l === undefined ? EMPTY : { text: l, kind: "removed" },
        right: r === undefined ? EMPTY : { text: r, kind: "added" },
      });
    }
    removed = [];
    added = [];
  };
  for (const line of unified.split("\n")) {
    if (line.startsWith("---") || line.startsWith("+++")) continue;
    if (line.startsWith("@@")) {
      flush();
      rows.push({ kind: "hunk", text: line });
    } else if (line.startsWith("-")) {
      removed.push(line.slice(1));
    } else if (line.startsWith("+")) {
      added.push(line.slice(1));
    } else if (line.startsWith(" ")) {
      flush();
      const text = line.slice(1);
      rows.push({ kind: "line", left: { text, kind: "same" }, right: { text, kind: "same" } });
    } else if (line.startsWith("\\")) {
      flush();
      rows.push({ kind: "hunk", text: line });
    }
  }
  flush();
  return rows;
}

// The dry-run diff side by side: the live object on the left, what the request would leave on the right.
import { sideBySide } from "../lib/diff.ts";
import { U } from "./Untrusted.tsx";

export function DiffView({ diff }: { diff: string }) {
  const rows = sideBySide(diff);
  if (rows.length === 0) return <p className="empty">The dry run changes nothing.</p>;
  return (
    <table className="diff" aria-label="Dry-run diff: current object and result side by side">
      <thead>
        <tr>
          <th scope="col">Now</th>
          <th scope="col">After the request</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((row, i) =>
          row.kind === "hunk" ? (
            // biome-ignore lint/suspicious/noArrayIndexKey: rows are positional and never reordered
            <tr key={i} className="hunk">
              <td colSpan={2}>
                <U text={row.text} />
              </td>
            </tr>
          ) : (
            // biome-ignore lint/suspicious/noArrayIndexKey: rows are positional and never reordered
            <tr key={i}>
              <td className={`cell ${row.left.kind}`}>
                <span className="sign">{row.left.kind === "removed" ? "-" : " "}</span>
                <U text={row.left.text} max={2000} />
              </td>
              <td className={`cell ${row.right.kind}`}>
                <span className="sign">{row.right.kind === "added" ? "+" : " "}</span>
                <U text={row.right.text} max={2000} />
              </td>
            </tr>
          ),
        )}
      </tbody>
    </table>
  );
}

// Untrusted text on a console page (issue 14): the one rendering rule of src/shared/render.ts (pure and
// browser-safe, so the console, the CLI and the webhooks show the same thing). React escapes HTML, but bidi controls,
// zero-width and other invisible characters would still reorder or hide what the reviewer reads: they become
// markers such as ⟨U+202E⟩, styled so they stand out, and long values are cut with a marker giving the full size.
import { argvLines, renderBlock, renderInline, renderName, segments } from "../../../src/shared/render.ts";

function Marked({ text }: { text: string }) {
  let at = 0;
  return (
    <>
      {segments(text).map((s) => {
        const offset = at;
        at += s.text.length;
        return s.mark ? (
          <mark key={offset} className="esc" title="Shown escaped by Airlock: not displayed as itself">
            {s.text}
          </mark>
        ) : (
          s.text
        );
      })}
    </>
  );
}

const MORE = "the CLI's 'airlock review show ID --full' or --json shows it all";

/** One line of untrusted text (a name, a header, a justification): markers for controls, cut at `max`. */
export function U({ text, max = 1000 }: { text: string; max?: number }) {
  return <Marked text={renderInline(text, { max, more: MORE })} />;
}

/** A name (identity, namespace, object): as U, and flagged when it holds non-ASCII (a possible look-alike). */
export function UName({ text }: { text: string }) {
  return <Marked text={renderName(text, { max: 200 })} />;
}

/** A block (a body): newlines kept, each altered line marked, cut at `max`. */
export function UBlock({ text, max = 8000, testId }: { text: string; max?: number; testId?: string }) {
  return (
    <pre className="untrusted-block" data-testid={testId}>
      <Marked text={renderBlock(text, { max, more: MORE })} />
    </pre>
  );
}

/** An exec argv: one argument per line, quoted as a shell reads it. */
export function UArgv({ argv }: { argv: string[] }) {
  return (
    <pre className="untrusted-block" data-testid="argv">
      <Marked text={argvLines(argv, { max: 2000, more: MORE }).join("\n")} />
    </pre>
  );
}

/**
 * A session's summary: what the gateway decoded first; the client's Kubectl-Command values after it, labelled as a
 * claim, and flagged when the decoded actions contradict them.
 */
export function SessionSummary({
  s,
}: {
  s: { kind: string; commands: string[]; actions?: string[]; claimMismatches?: string[] };
}) {
  return (
    <span data-testid="session-summary">
      {s.actions?.length ? (
        <U text={s.actions.join(", ")} max={300} />
      ) : (
        <span className="muted">{s.kind}</span>
      )}
      {s.commands.length > 0 && (
        <span className="claim muted">
          {" "}
          (client says: <U text={s.commands.join(", ")} max={300} />)
        </span>
      )}
      {(s.claimMismatches ?? []).map((m) => (
        <span key={m} className="claim-flag">
          {" "}
          ⚠ claim contradicted: <U text={m} max={300} />
        </span>
      ))}
    </span>
  );
}

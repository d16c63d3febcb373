// Justifications: the reason a client gives for a request (issue 21). Untrusted text from the agent, shown to
// reviewers and auditors, so it is held to one strict shape wherever it enters — the `Airlock-Justification` header,
// a session credential's reason (`airlock credential --reason`, AIRLOCK_REASON), the MCP `justification` argument:
//
//   - one line of at most 500 characters (code points), not empty or only spaces;
//   - no character the rendering rule would not show as itself (src/shared/render.ts: controls, newlines, bidi and
//     other format characters, line/paragraph separators, non-ASCII spaces, private-use, unassigned) — refused, not
//     cleaned, so what the client sent, what the audit event stores and what the reviewer reads are the same text;
//   - in the header: percent-encoded UTF-8 (RFC 3986 style, `%20` for a space; `+` is a plus), printable ASCII
//     otherwise; a malformed escape or bytes that are not UTF-8 are refused, never guessed at.
//
// Pure and dependency-free. Fail closed: anything this cannot read one way is refused with a reason saying why.
import { isEscaped } from "./render.ts";

/** The longest justification accepted, in characters (code points). */
export const MAX_JUSTIFICATION_CHARS = 500;
/** The header a client sends one request's justification in. */
export const JUSTIFICATION_HEADER = "airlock-justification";

export type JustificationCheck = { ok: true; value: string } | { ok: false; why: string };

function codePointName(ch: string): string {
  const cp = ch.codePointAt(0) ?? 0;
  return `U+${cp.toString(16).toUpperCase().padStart(4, "0")}`;
}

/** Checks a decoded justification: one printable line of at most 500 characters. */
export function checkJustification(text: string): JustificationCheck {
  let count = 0;
  for (const ch of text) {
    count++;
    if (count > MAX_JUSTIFICATION_CHARS) {
      return {
        ok: false,
        why: `the justification is longer than ${MAX_JUSTIFICATION_CHARS} characters; give one line, at most ${MAX_JUSTIFICATION_CHARS} characters`,
      };
    }
    // `⟨` is only escaped by the renderer (so data cannot fake its markers); it is harmless text otherwise.
    if (ch !== "⟨" && isEscaped(ch)) {
      const what =
        ch === "\n" || ch === "\r" || ch === "\u2028" || ch === "\u2029"
          ? "a line break"
          : /[\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069]/.test(ch)
            ? "a bidirectional-text control"
            : /\p{Cc}/u.test(ch)
              ? "a control character"
              : "a character that is not shown as itself";
      return {
        ok: false,
        why: `the justification contains ${what} (${codePointName(ch)} at character ${count}); give one line of printable text`,
      };
    }
  }
  if (text.trim() === "") return { ok: false, why: "the justification is empty" };
  return { ok: true, value: text };
}

const HEX = /^[0-9A-Fa-f]{2}$/;
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * Decodes the `Airlock-Justification` header value: percent-encoded UTF-8, strictly, then checkJustification.
 * Node hands header values over as latin1, one character per byte.
 */
export function decodeJustificationHeader(raw: string): JustificationCheck {
  // 4 bytes per code point, 3 characters per escaped byte: anything longer cannot decode to 500 characters.
  if (raw.length > MAX_JUSTIFICATION_CHARS * 12) {
    return {
      ok: false,
      why: `the Airlock-Justification header is longer than ${MAX_JUSTIFICATION_CHARS} characters can be when encoded`,
    };
  }
  const bytes: number[] = [];
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c === 0x25) {
      const hex = raw.slice(i + 1, i + 3);
      if (!HEX.test(hex)) {
        return {
          ok: false,
          why: `the Airlock-Justification header has a malformed percent-escape at position ${i + 1} ("%" must be followed by two hex digits; send a literal "%" as %25)`,
        };
      }
      bytes.push(Number.parseInt(hex, 16));
      i += 2;
    } else if (c >= 0x20 && c <= 0x7e) {
      bytes.push(c);
    } else {
      return {
        ok: false,
        why: `the Airlock-Justification header holds a raw byte 0x${c.toString(16).padStart(2, "0")} at position ${i + 1}; send the justification as percent-encoded UTF-8 (encodeURIComponent)`,
      };
    }
  }
  let text: string;
  try {
    text = utf8.decode(Uint8Array.from(bytes));
  } catch {
    return {
      ok: false,
      why: "the Airlock-Justification header does not decode to UTF-8 (its percent-escapes must encode UTF-8 bytes)",
    };
  }
  return checkJustification(text);
}

/** The header value for a justification (what clients send): percent-encoded UTF-8. */
export function encodeJustificationHeader(text: string): string {
  return encodeURIComponent(text);
}

/** How a client gives a justification, for refusal messages (the same wording on every surface). */
export const HOW_TO_JUSTIFY =
  "give one per request with the Airlock-Justification header (percent-encoded UTF-8, one line, at most 500 characters), " +
  'per kubectl command with AIRLOCK_REASON="…" kubectl … (read by the airlock credential exec plugin), ' +
  'per credential with airlock credential --reason "…", or as the justification argument of an MCP tool call';

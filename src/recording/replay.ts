// What `airlock session play` writes to the viewer's terminal (issue 14 §1, §4). Pure.
//
// A recording's output is the agent's (and the cluster's) text, and the viewer's terminal would obey it. The filter
// passes what a replay needs — printable text, LF/CR/TAB/BS, colours (SGR), cursor movement, erase, scroll regions,
// modes such as the alternate screen — and drops, counting them, every sequence that talks to the terminal rather
// than draws on it: OSC (titles, OSC 52 clipboard writes, OSC 8 hyperlinks, colour queries), DCS (DECRQSS, sixel,
// tmux passthrough), APC, PM, SOS, terminal queries (DA, DSR/CPR, DECRQM, window reports, DECID), ENQ (answerback),
// BEL and other controls. C1 controls (the one-byte CSI U+009B …) are read as their ESC forms, so they are filtered
// the same way. Bidi and invisible format characters in the text become visible markers (src/shared/render.ts).
//
// Replays show what was typed: stdin ("i" events, typed on a TTY or piped) is shown as its own dim lines starting
// `⟩ `, escaped by the rendering rule, so `printf 'echo x\nid -u\n' | kubectl exec -i … -- sh` shows both commands.

import { isEscaped, markerFor, renderInline } from "../shared/render.ts";
import type { AsciicastEvent } from "./asciicast.ts";

export const STDIN_MARK = "⟩ ";
const DIM = "\x1b[0m\x1b[2m";
const RESET = "\x1b[0m";

/** CSI final bytes that draw: cursor movement, erase, insert/delete, scroll, SGR, modes, margins, save/restore. */
const CSI_DRAW = new Set([..."ABCDEFGHIJKLMPSTXZ@`abdefghlmrsu"]);
/** CSI final bytes that ask the terminal to answer (DSR/CPR, DA, window reports, DECREQTPARM). */
const CSI_QUERY = new Set([..."nctx"]);
/** ESC + one byte that draws (save/restore cursor, index, keypad modes, reset). */
const ESC_DRAW = new Set([..."78DEMH=>c"]);

type State = "text" | "esc" | "csi" | "string" | "stringEsc" | "charset";
type StringKind = "OSC" | "DCS" | "APC" | "PM" | "SOS";

export class TerminalFilter {
  #state: State = "text";
  #seq = "";
  #string: StringKind = "OSC";
  #charsetIntro = "";
  /** What was dropped, by kind. */
  readonly dropped = new Map<string, number>();
  /** True when the last character written ended a line (so an input line can start at the left). */
  atLineStart = true;

  #drop(kind: string): void {
    this.dropped.set(kind, (this.dropped.get(kind) ?? 0) + 1);
  }

  #startString(kind: StringKind): void {
    this.#state = "string";
    this.#string = kind;
    this.#seq = "";
  }

  #endString(): void {
    let kind: string = this.#string;
    if (this.#string === "OSC") {
      const n = /^(\d+)/.exec(this.#seq)?.[1];
      kind =
        n === "52"
          ? "OSC 52 (clipboard write)"
          : n === "8"
            ? "OSC 8 (hyperlink)"
            : n === "0" || n === "1" || n === "2"
              ? "OSC 0-2 (window title)"
              : `OSC ${n ?? "?"}`;
    } else if (this.#string === "DCS" && /^\$q/.test(this.#seq)) kind = "DCS (DECRQSS query)";
    this.#drop(kind);
    this.#state = "text";
    this.#seq = "";
  }

  /** Filters one chunk of output; state carries over, so a sequence may be split across chunks. */
  feed(data: string): string {
    let out = "";
    for (const ch of data) {
      const c = ch.codePointAt(0) ?? 0;
      // CAN and SUB abort any sequence in progress, as terminals do.
      if ((c === 0x18 || c === 0x1a) && this.#state !== "text") {
        if (this.#state === "string" || this.#state === "stringEsc") this.#endString();
        else this.#drop("aborted sequence");
        this.#state = "text";
        continue;
      }
      switch (this.#state) {
        case "text":
          out += this.#text(ch, c);
          break;
        case "esc":
          out += this.#escape(ch);
          break;
        case "csi":
          out += this.#csi(ch, c);
          break;
        case "charset":
          this.#state = "text";
          if (this.#charsetIntro === "(" && (ch === "B" || ch === "0")) out += `\x1b(${ch}`;
          else this.#drop("charset switch");
          break;
        case "string":
          if (c === 0x07 || c === 0x9c) this.#endString();
          else if (c === 0x1b) this.#state = "stringEsc";
          else if (this.#seq.length < 16) this.#seq += ch;
          break;
        case "stringEsc":
          if (ch === "\\") this.#endString();
          else {
            // ESC inside a string ends it (as xterm does) and starts a new sequence.
            this.#endString();
            this.#state = "esc";
            out += this.#escape(ch);
          }
          break;
      }
    }
    if (out) {
      const plain = out.replace(/\x1b\[[0-9;?>= ]*[@-~]|\x1b[78DEMH=>c]|\x1b\([B0]/g, "");
      if (plain) this.atLineStart = plain.endsWith("\n");
    }
    return out;
  }

  #text(ch: string, c: number): string {
    if (c === 0x1b) {
      this.#state = "esc";
      return "";
    }
    if (c === 0x9b) {
      this.#state = "csi";
      this.#seq = "";
      return "";
    }
    const c1 = { 144: "DCS", 157: "OSC", 159: "APC", 158: "PM", 152: "SOS" } as const;
    const kind = c1[c as keyof typeof c1];
    if (kind) {
      this.#startString(kind);
      return "";
    }
    if (ch === "\n" || ch === "\r" || ch === "\t" || ch === "\b") return ch;
    if (c === 0x05) {
      this.#drop("ENQ (answerback)");
      return "";
    }
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) {
      this.#drop(c === 0x07 ? "BEL" : "other control");
      return "";
    }
    // Bidi, zero-width and other invisible characters: a visible marker, as everywhere else.
    return isEscaped(ch) ? markerFor(ch) : ch;
  }

  #escape(ch: string): string {
    this.#state = "text";
    switch (ch) {
      case "[":
        this.#state = "csi";
        this.#seq = "";
        return "";
      case "]":
        this.#startString("OSC");
        return "";
      case "P":
        this.#startString("DCS");
        return "";
      case "_":
        this.#startString("APC");
        return "";
      case "^":
        this.#startString("PM");
        return "";
      case "X":
        this.#startString("SOS");
        return "";
      case "(":
      case ")":
      case "*":
      case "+":
        this.#state = "charset";
        this.#charsetIntro = ch;
        return "";
      case "Z":
        this.#drop("terminal query (DECID)");
        return "";
      case "\x1b":
        this.#state = "esc";
        return "";
      default:
        if (ESC_DRAW.has(ch)) return `\x1b${ch}`;
        this.#drop("other escape");
        return "";
    }
  }

  #csi(ch: string, c: number): string {
    if (c === 0x1b) {
      this.#drop("aborted sequence");
      this.#state = "esc";
      return "";
    }
    if (c >= 0x20 && c <= 0x3f) {
      if (this.#seq.length < 64) this.#seq += ch;
      else this.#seq = "\u0000"; // too long: dropped at its final byte
      return "";
    }
    this.#state = "text";
    const seq = this.#seq;
    this.#seq = "";
    if (c < 0x40 || c > 0x7e) {
      this.#drop("malformed CSI");
      return "";
    }
    const intermediates = /[ -/]/.test(seq);
    const paramsOk = /^[0-9;:?>=<]*$/.test(seq);
    if (CSI_QUERY.has(ch) || (intermediates && ch === "p")) {
      this.#drop("terminal query (DA/DSR/CPR/DECRQM/window report)");
      return "";
    }
    if (paramsOk && CSI_DRAW.has(ch)) return `\x1b[${seq}${ch}`;
    if (/^\d* $/.test(seq) && ch === "q") return `\x1b[${seq}${ch}`; // cursor style
    this.#drop("other CSI");
    return "";
  }

  /** One line saying what was dropped, or "" when nothing was. Rendered for the terminal (no raw controls). */
  summary(): string {
    if (this.dropped.size === 0) return "";
    const parts = [...this.dropped].map(([k, n]) => `${n} ${k}`);
    return `${DIM}⟨session play dropped terminal sequences: ${parts.join(", ")}⟩${RESET}\r\n`;
  }
}

export interface ReplayStep {
  delayMs: number;
  data: string;
}

/**
 * The replay of a recording as timed writes: output filtered, input shown as marked lines (one per line typed or
 * piped), the exit marker rendered, and a closing line naming what was dropped.
 */
export function replaySteps(
  events: AsciicastEvent[],
  speed = 1,
  idleLimitSeconds?: number,
  filter = new TerminalFilter(),
): ReplayStep[] {
  const steps: ReplayStep[] = [];
  let previous = 0;
  let typed = "";
  const inputLines = (final: boolean): string => {
    let out = "";
    let nl = typed.search(/[\r\n]/);
    while (nl >= 0 || (final && typed)) {
      const line = nl >= 0 ? typed.slice(0, nl) : typed;
      typed = nl >= 0 ? typed.slice(nl + (typed[nl] === "\r" && typed[nl + 1] === "\n" ? 2 : 1)) : "";
      out += `${filter.atLineStart ? "" : "\r\n"}${DIM}${STDIN_MARK}${renderInline(line, { max: 2000 })}${RESET}\r\n`;
      filter.atLineStart = true;
      nl = typed.search(/[\r\n]/);
    }
    return out;
  };
  for (const [t, type, data] of events) {
    let gap = Math.max(0, t - previous);
    previous = t;
    if (idleLimitSeconds !== undefined && gap > idleLimitSeconds) gap = idleLimitSeconds;
    const delayMs = (gap * 1000) / speed;
    let out = "";
    if (type === "i") {
      typed += data;
      out = inputLines(false);
    } else if (type === "o") {
      out = filter.feed(data);
    } else if (type === "m") {
      out = `${inputLines(true)}${filter.atLineStart ? "" : "\r\n"}${DIM}⟨${renderInline(data, { max: 200 })}⟩${RESET}\r\n`;
      filter.atLineStart = true;
    }
    if (out || delayMs > 0) steps.push({ delayMs, data: out });
  }
  const tail = inputLines(true) + filter.summary();
  steps.push({ delayMs: 0, data: `${RESET}${tail}` });
  return steps;
}

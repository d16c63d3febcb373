// `exec.stdin: inspect` on the wire: the client's stdin channel is cut into shell lines, each checked (policy's
// inspect.ts) before it is sent on; a refused line is dropped and the agent reads why on the stderr channel.
//
// What is a line: text up to a newline, extended over the following newlines while it is not complete shell text —
// a trailing backslash continuation, an open quote, substitution or here-document (the shell would read those lines
// as one command). A unit is checked as a whole and delivered byte for byte or not at all. A unit that grows past
// MAX_PENDING bytes or MAX_UNIT_LINES lines without completing is refused (both bound the work: a unit is parsed again
// at each of its newlines, and frames are joined only when a newline or the size limit needs it). When the client closes stdin (v5's close signal) or the connection,
// what remains is checked as a last line (delivered only on a close signal: a dropped connection delivers nothing).
//
// Fail closed: only the binary channel protocols are read (v5/v4/v3/v2/channel.k8s.io); the base64 ones are refused
// before any frame flows (upgrade.ts). Frames on other channels (resize) pass unchanged.
import type { LineVerdict } from "../policy/inspect.ts";
import { scriptIncomplete } from "../policy/shell.ts";

const STDIN = 0;
const STDERR = 2;
const CLOSE = 255;
const MAX_PENDING = 64 * 1024;
/** Lines one unit (an open quote, a continuation, a here-document) may span before it is refused. */
const MAX_UNIT_LINES = 256;

export interface GateOutput {
  /** Frames for the cluster, in order. */
  forward: Buffer[];
  /** Frames for the client (stderr messages about refused lines). */
  reply: Buffer[];
}

export interface LineRefusal {
  line: string;
  policy: string;
  rule: string;
  message: string;
}

export class StdinLineGate {
  readonly #check: (line: string) => LineVerdict;
  #pending: Buffer = Buffer.alloc(0);
  /** Frames received after #pending that hold no newline yet (joined when one arrives or the size limit is passed). */
  #tail: Buffer[] = [];
  #tailBytes = 0;
  /** Where to look for the next newline in #pending (what is before it is known incomplete). */
  #scanFrom = 0;
  /** How many newlines the unit at the head of #pending spans so far. */
  #unitLines = 0;
  readonly refused: LineRefusal[] = [];
  delivered = 0;

  constructor(check: (line: string) => LineVerdict) {
    this.#check = check;
  }

  /** One client frame (binary channel protocols). */
  frame(data: Buffer): GateOutput {
    const out: GateOutput = { forward: [], reply: [] };
    const channel = data[0];
    if (channel === STDIN) {
      const bytes = data.subarray(1);
      this.#tail.push(Buffer.from(bytes));
      this.#tailBytes += bytes.length;
      // Nothing to decide until a newline arrives or the unit is too long: keep the frame without copying the rest.
      if (bytes.indexOf(0x0a) < 0 && this.#pending.length + this.#tailBytes <= MAX_PENDING) return out;
      this.#join();
      this.#drain(out);
    } else if (channel === CLOSE && data[1] === STDIN) {
      this.#join();
      this.#flushLast(out);
      out.forward.push(data);
    } else out.forward.push(data);
    return out;
  }

  /** The connection ended without a close signal: what is pending is not delivered. */
  abandon(): void {
    this.#join();
    if (this.#pending.length) {
      this.#refuse(this.#pending.toString("utf8"), {
        ok: false,
        policy: "",
        rule: "",
        message: "stdin ended before the line was complete",
      });
    }
    this.#pending = Buffer.alloc(0);
  }

  #join(): void {
    if (this.#tail.length === 0) return;
    this.#pending = Buffer.concat([this.#pending, ...this.#tail]);
    this.#tail = [];
    this.#tailBytes = 0;
  }

  #drain(out: GateOutput): void {
    for (;;) {
      const nl = this.#pending.indexOf(0x0a, this.#scanFrom);
      if (nl < 0) {
        this.#scanFrom = this.#pending.length;
        if (this.#pending.length > MAX_PENDING) {
          this.#decide(this.#pending, out, `a line longer than ${MAX_PENDING} bytes`);
          this.#pending = Buffer.alloc(0);
          this.#scanFrom = 0;
          this.#unitLines = 0;
        }
        return;
      }
      const unit = this.#pending.subarray(0, nl + 1);
      this.#unitLines++;
      const tooLong =
        unit.length > MAX_PENDING
          ? `a line longer than ${MAX_PENDING} bytes`
          : this.#unitLines > MAX_UNIT_LINES
            ? `a command spanning more than ${MAX_UNIT_LINES} lines`
            : undefined;
      if (!tooLong && scriptIncomplete(unit.toString("utf8"))) {
        this.#scanFrom = nl + 1;
        continue;
      }
      this.#decide(unit, out, tooLong);
      this.#pending = this.#pending.subarray(nl + 1);
      this.#scanFrom = 0;
      this.#unitLines = 0;
    }
  }

  #flushLast(out: GateOutput): void {
    if (this.#pending.length) this.#decide(this.#pending, out);
    this.#pending = Buffer.alloc(0);
    this.#scanFrom = 0;
    this.#unitLines = 0;
  }

  #decide(unit: Buffer, out: GateOutput, tooLong?: string): void {
    const text = unit.toString("utf8");
    // Shells drop NUL bytes (`r\0m` runs rm) and read bytes, not UTF-8: a line the check would read another way
    // than the shell is refused rather than inspected.
    const unreadable = tooLong ?? unreadableLine(unit, text);
    const verdict: LineVerdict = unreadable
      ? { ok: false, policy: "", rule: "", message: `${unreadable} is not inspected` }
      : this.#check(text);
    if (verdict.ok) {
      this.delivered++;
      out.forward.push(Buffer.concat([Buffer.from([STDIN]), unit]));
      return;
    }
    this.#refuse(text, verdict);
    const by = verdict.policy ? ` by policy ${verdict.policy} rule ${verdict.rule}` : "";
    const shown = text
      .replace(/\n$/, "")
      .replace(/[\u0000-\u001f\u007f-\u009f]/g, "?")
      .slice(0, 200);
    out.reply.push(
      Buffer.concat([
        Buffer.from([STDERR]),
        Buffer.from(`airlock: line not run${by}: ${verdict.message}: ${shown}\n`, "utf8"),
      ]),
    );
  }

  #refuse(text: string, verdict: Extract<LineVerdict, { ok: false }>): void {
    if (this.refused.length < 100)
      this.refused.push({
        line: text.slice(0, 500),
        policy: verdict.policy,
        rule: verdict.rule,
        message: verdict.message,
      });
  }

  /** For the audit note: how many lines were refused and the first reason. */
  summary(): string | undefined {
    const first = this.refused[0];
    if (!first) return undefined;
    const by = first.policy ? `policy ${first.policy} rule ${first.rule}` : "the gateway";
    return `stdin inspection: ${this.refused.length} line(s) not run (first by ${by}: ${first.message}); ${this.delivered} delivered`;
  }
}

/** Why a piped line cannot be read as the shell will read it: control bytes (NUL above all) or invalid UTF-8. */
function unreadableLine(unit: Buffer, text: string): string | undefined {
  if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(text)) return "a line with control characters";
  if (!Buffer.from(text, "utf8").equals(unit)) return "a line that is not valid UTF-8";
  return undefined;
}

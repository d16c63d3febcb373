// The recorder of one exec or attach: it sees each WebSocket message the client received (after the masker) and
// each one the client sent, and writes them as asciicast v2 — output on stdout/stderr as "o", stdin as "i" (run
// through the masking profile's text detectors first, so a typed password is masked like printed output), resizes
// as "r", and the exit status as a final "m" marker `exit N`. A `kubectl cp` (an exec whose argv is exactly one of
// kubectl's cp forms, cp.ts) is recorded as the raw tar stream instead, up to a size cap (past it the stream is noted
// as truncated), plus its size, SHA-256 and listing.
//
// Failure stance: the recorder never throws into the relay. A write failure is reported once through `onFailure`;
// the caller ends the stream when recording is required (fail closed) or carries on unrecorded otherwise.
import { isAscii } from "node:buffer";
import { eventLine, headerLine, incompleteUtf8Tail } from "./asciicast.ts";
import {
  CLOSE,
  decodeChannelMessage,
  ERROR,
  exitCodeOf,
  parseResize,
  RESIZE,
  STDERR,
  STDIN,
  STDOUT,
} from "./channels.ts";
import { TarSummary } from "./cp.ts";
import type { AppendFile } from "./file.ts";

/** What the relay calls: messages as the client received them, messages the client sent, and the end. */
export interface StreamTap {
  toClient(data: Buffer | string, binary: boolean): void;
  fromClient(data: Buffer, binary: boolean): void;
  /** A gateway event in the stream (a stdin line not run under `exec.stdin: inspect`): an "m" marker. */
  marker?(text: string): void;
  end(): void;
}

/** A byte-stream masker (TextStreamMasker fits): emits what may go out now, holds a possible secret's start. */
export interface InputMasker {
  push(chunk: Uint8Array): Buffer;
  end(): Buffer;
}

export interface RecorderOutcome {
  exitCode: number | null;
  exitMessage: string;
  truncated: boolean;
  /** Messages the recorder could not read (reported, not fatal). */
  unreadable: number;
  width: number;
  height: number;
}

interface Common {
  file: AppendFile;
  /** Text subprotocols (base64.channel.k8s.io …) carry base64 payloads in text frames. */
  base64: boolean;
  /** performance.now() at the start; event times are seconds since then. */
  startedAt: number;
}

export class AsciicastRecorder implements StreamTap {
  readonly #o: Common & {
    title: string;
    timestamp: number;
    env: Record<string, string>;
    input?: InputMasker;
  };
  /** Per stream ("o" per output channel, "i"): the start of a UTF-8 character whose rest has not arrived yet. */
  readonly #carry = new Map<string, Buffer>();
  #headerWritten = false;
  #width = 80;
  #height = 24;
  #exit: { code: number | undefined; message: string } | undefined;
  #unreadable = 0;
  #ended = false;
  #headerTimer: NodeJS.Timeout | undefined;

  constructor(
    opts: Common & { title: string; timestamp: number; env: Record<string, string>; input?: InputMasker },
  ) {
    this.#o = opts;
    // An idle session still leaves a playable file: the header goes out within a second even with no events.
    this.#headerTimer = setTimeout(() => this.#header(), 1000);
    this.#headerTimer.unref();
  }

  #t(): number {
    return (performance.now() - this.#o.startedAt) / 1000;
  }

  #header(): void {
    if (this.#headerWritten) return;
    this.#headerWritten = true;
    if (this.#headerTimer) clearTimeout(this.#headerTimer);
    this.#o.file.append(
      headerLine({
        version: 2,
        width: this.#width,
        height: this.#height,
        timestamp: this.#o.timestamp,
        title: this.#o.title,
        env: this.#o.env,
      }),
    );
  }

  #event(type: "o" | "i" | "r" | "m", data: string): void {
    if (data === "") return;
    this.#header();
    this.#o.file.append(eventLine(this.#t(), type, data));
  }

  marker(text: string): void {
    this.#event("m", text);
  }

  /** Output or input bytes: whole UTF-8 characters only (a split one waits for its rest), ASCII on the fast path. */
  #bytes(type: "o" | "i", stream: string, payload: Buffer, final = false): void {
    const held = this.#carry.get(stream);
    let bytes = held ? Buffer.concat([held, payload]) : payload;
    this.#carry.delete(stream);
    const tail = final ? 0 : incompleteUtf8Tail(bytes);
    if (tail > 0) {
      this.#carry.set(stream, Buffer.from(bytes.subarray(bytes.length - tail)));
      bytes = bytes.subarray(0, bytes.length - tail);
    }
    if (bytes.length === 0) return;
    this.#header();
    // ASCII (nearly all terminal output) takes the one-byte-string path: latin1 decode and encode are copies.
    if (isAscii(bytes))
      this.#o.file.append(Buffer.from(eventLine(this.#t(), type, bytes.toString("latin1")), "latin1"));
    else this.#o.file.append(eventLine(this.#t(), type, bytes.toString("utf8")));
  }

  toClient(data: Buffer | string, binary: boolean): void {
    const m = decodeChannelMessage(data, binary, this.#o.base64);
    if (!m) return void this.#unreadable++;
    if (m.channel === STDOUT || m.channel === STDERR) {
      this.#bytes("o", String(m.channel), m.payload);
    } else if (m.channel === ERROR) {
      this.#exit = exitCodeOf(m.payload);
    }
  }

  fromClient(data: Buffer, binary: boolean): void {
    const m = decodeChannelMessage(data, binary, this.#o.base64);
    if (!m) return void this.#unreadable++;
    if (m.channel === STDIN) {
      this.#bytes("i", "i", this.#o.input ? this.#o.input.push(m.payload) : m.payload);
    } else if (m.channel === RESIZE) {
      const size = parseResize(m.payload);
      if (!size) return void this.#unreadable++;
      this.#width = size.width;
      this.#height = size.height;
      // The first size, before anything else happened, is the terminal the header describes.
      if (!this.#headerWritten) this.#header();
      else this.#event("r", `${size.width}x${size.height}`);
    } else if (m.channel === CLOSE) {
      this.#flushInput();
    }
  }

  #flushInput(): void {
    this.#bytes("i", "i", this.#o.input ? this.#o.input.end() : Buffer.alloc(0), true);
  }

  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#flushInput();
    for (const stream of [...this.#carry.keys()])
      if (stream !== "i") this.#bytes("o", stream, Buffer.alloc(0), true);
    this.#header();
    if (this.#exit) {
      const code = this.#exit.code;
      this.#event("m", code === undefined ? `exit ? ${this.#exit.message}` : `exit ${code}`);
    }
    void this.#o.file.close();
  }

  outcome(): RecorderOutcome {
    return {
      exitCode: this.#exit?.code ?? null,
      exitMessage: this.#exit?.message ?? "",
      truncated: false,
      unreadable: this.#unreadable,
      width: this.#width,
      height: this.#height,
    };
  }
}

/**
 * `kubectl cp` (an exec whose argv is one of kubectl's exact cp forms, cp.ts): the tar stream on stdout (download) or
 * stdin (upload), kept as a tar file up to a cap, and summarised — size, SHA-256, listing — whatever its length.
 */
export class TarRecorder implements StreamTap {
  readonly #o: Common & { direction: "download" | "upload"; limitBytes: number };
  #bytes = 0;
  #truncated = false;
  #stderr = "";
  #exit: { code: number | undefined; message: string } | undefined;
  #unreadable = 0;
  #ended = false;

  /** Size, SHA-256 and listing of the whole stream, kept past the byte cap. */
  readonly summary = new TarSummary();

  constructor(opts: Common & { direction: "download" | "upload"; limitBytes: number }) {
    this.#o = opts;
  }

  #tar(payload: Buffer): void {
    this.summary.push(payload);
    if (this.#truncated) return;
    const room = this.#o.limitBytes - this.#bytes;
    const part = payload.length > room ? payload.subarray(0, room) : payload;
    if (part.length > 0) this.#o.file.append(Buffer.from(part));
    this.#bytes += part.length;
    if (payload.length > room) this.#truncated = true;
  }

  toClient(data: Buffer | string, binary: boolean): void {
    const m = decodeChannelMessage(data, binary, this.#o.base64);
    if (!m) return void this.#unreadable++;
    if (m.channel === STDOUT && this.#o.direction === "download") this.#tar(m.payload);
    else if (m.channel === STDERR || m.channel === STDOUT) {
      if (this.#stderr.length < 4096) this.#stderr += m.payload.toString("utf8").slice(0, 4096);
    } else if (m.channel === ERROR) this.#exit = exitCodeOf(m.payload);
  }

  fromClient(data: Buffer, binary: boolean): void {
    const m = decodeChannelMessage(data, binary, this.#o.base64);
    if (!m) return void this.#unreadable++;
    if (m.channel === STDIN && this.#o.direction === "upload") this.#tar(m.payload);
  }

  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    void this.#o.file.close();
  }

  get bytes(): number {
    return this.#bytes;
  }

  get stderr(): string {
    return this.#stderr;
  }

  outcome(): RecorderOutcome {
    return {
      exitCode: this.#exit?.code ?? null,
      exitMessage: this.#exit?.message ?? "",
      truncated: this.#truncated,
      unreadable: this.#unreadable,
      width: 0,
      height: 0,
    };
  }
}

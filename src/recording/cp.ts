// What counts as `kubectl cp`, and what a cp recording keeps of the tar stream. Pure.
//
// Security stance (docs/recordings.md "kubectl cp"): a `tar` exec is recorded as a cp — its stream kept as a tar
// file instead of a terminal recording — only when its argv is exactly one of the forms kubectl 1.32 sends
// (staging/src/k8s.io/kubectl/pkg/cmd/cp/cp.go), with no tty and the stdin flag the direction implies, and with paths
// that do not begin with `-` (so they cannot be read as options). Anything else — extra options such as
// `--checkpoint-action`, `--to-command`, `--use-compress-program`, `-I` — is an ordinary exec: recorded as a terminal
// session with its stdin, and checked by policy as one (src/policy/shell.ts counts those options as running a
// command).
import { createHash, type Hash } from "node:crypto";

export type CpDirection = "download" | "upload";

/** A path operand as kubectl writes it: not empty, not an option. */
function isPath(word: string | undefined): boolean {
  return word !== undefined && word !== "" && !word.startsWith("-");
}

function same(argv: readonly string[], form: readonly string[]): boolean {
  return argv.length === form.length && form.every((w, i) => argv[i] === w);
}

const UPLOAD_FORMS: readonly (readonly string[])[] = [
  ["tar", "-xmf", "-"],
  ["tar", "--no-same-permissions", "--no-same-owner", "-xmf", "-"],
];

/**
 * The forms kubectl 1.32 sends for cp:
 *   download (no stdin):  tar cf - SRC
 *   upload (stdin):       tar -xmf - [-C DIR]
 *                         tar --no-same-permissions --no-same-owner -xmf - [-C DIR]      (--no-preserve)
 * (`kubectl cp --retries` downloads with `sh -c 'tar cf - SRC | tail -c+N'`, and uploads first run `test -d DEST`:
 * both are ordinary execs.)
 */
export function cpForm(argv: readonly string[], stdin: boolean, tty: boolean): CpDirection | undefined {
  if (tty) return undefined;
  if (
    !stdin &&
    argv.length === 4 &&
    argv[0] === "tar" &&
    argv[1] === "cf" &&
    argv[2] === "-" &&
    isPath(argv[3])
  )
    return "download";
  if (!stdin) return undefined;
  for (const form of UPLOAD_FORMS) {
    if (same(argv, form)) return "upload";
    if (argv.length === form.length + 2 && same(argv.slice(0, form.length), form)) {
      if (argv[form.length] === "-C" && isPath(argv[form.length + 1])) return "upload";
    }
  }
  return undefined;
}

/**
 * Whether an exec's stdout is a file kubectl unpacks: a cp download, or its `--retries` form
 * (`sh -c 'tar cf - SRC | tail -c+N'`). Its masking may refuse but never alter (src/mask/frames.ts `intact`);
 * recognising more forms here only makes masking stricter.
 */
export function isCpDownload(argv: readonly string[], stdin: boolean, tty: boolean): boolean {
  if (cpForm(argv, stdin, tty) === "download") return true;
  return (
    !tty &&
    !stdin &&
    argv.length === 3 &&
    argv[0] === "sh" &&
    argv[1] === "-c" &&
    /^tar cf - [^-\s]\S* \| tail -c\+\d+$/.test(argv[2] ?? "")
  );
}

export interface TarEntry {
  name: string;
  type: "file" | "dir" | "symlink" | "hardlink" | "other";
  size: number;
  mode: string;
  linkname?: string;
}

const MAX_ENTRIES = 1000;
const MAX_NAME = 4096;

/**
 * Reads a tar stream as it passes: its size, SHA-256 and listing (bounded), whatever the recording's byte cap.
 * Understands ustar, GNU long names (`L`/`K`) and PAX `path`/`linkpath`; anything unreadable ends the listing with
 * a note instead of throwing.
 */
export class TarSummary {
  #hash: Hash = createHash("sha256");
  #bytes = 0;
  #pending: Buffer = Buffer.alloc(0);
  /** Bytes of entry data still to skip, then the padding up to the next 512-byte block. */
  #skip = 0;
  #collect: { kind: "longname" | "longlink" | "pax"; left: number; chunks: Buffer[] } | undefined;
  #nextName: string | undefined;
  #nextLink: string | undefined;
  #ended = false;
  readonly entries: TarEntry[] = [];
  entriesTruncated = false;
  note: string | undefined;

  push(chunk: Buffer): void {
    this.#hash.update(chunk);
    this.#bytes += chunk.length;
    if (this.#ended) return;
    let buf = this.#pending.length ? Buffer.concat([this.#pending, chunk]) : chunk;
    for (;;) {
      if (this.#skip > 0) {
        const n = Math.min(this.#skip, buf.length);
        if (this.#collect) {
          const take = Math.min(n, this.#collect.left);
          if (take > 0) this.#collect.chunks.push(Buffer.from(buf.subarray(0, take)));
          this.#collect.left -= take;
        }
        buf = buf.subarray(n);
        this.#skip -= n;
        if (this.#skip > 0) break;
        if (this.#collect) this.#finishCollect();
        continue;
      }
      if (buf.length < 512) break;
      const header = buf.subarray(0, 512);
      buf = buf.subarray(512);
      if (header.every((b) => b === 0)) {
        this.#ended = true;
        break;
      }
      this.#header(header);
      if (this.#ended) break;
    }
    this.#pending = Buffer.from(buf);
  }

  #header(h: Buffer): void {
    const text = (from: number, len: number) => {
      const raw = h.subarray(from, from + len);
      const end = raw.indexOf(0);
      return raw.subarray(0, end < 0 ? len : end).toString("utf8");
    };
    const sizeField = h.subarray(124, 136);
    let size: number;
    if ((sizeField[0] ?? 0) & 0x80) {
      // base-256 (GNU) for sizes over 8 GiB
      size = 0;
      for (let i = 1; i < 12; i++) size = size * 256 + (sizeField[i] ?? 0);
    } else size = Number.parseInt(text(124, 12).trim() || "0", 8);
    if (!Number.isFinite(size) || size < 0) {
      this.note = "the tar stream could not be read past this point";
      this.#ended = true;
      return;
    }
    const flag = String.fromCharCode(h[156] ?? 48);
    const padded = Math.ceil(size / 512) * 512;
    if (flag === "L" || flag === "K" || flag === "x") {
      this.#collect = {
        kind: flag === "L" ? "longname" : flag === "K" ? "longlink" : "pax",
        left: Math.min(size, 64 * 1024),
        chunks: [],
      };
      this.#skip = padded;
      if (padded === 0) this.#finishCollect();
      return;
    }
    if (flag === "g") {
      this.#skip = padded;
      return;
    }
    const prefix = text(257, 6).startsWith("ustar") ? text(345, 155) : "";
    const name = this.#nextName ?? (prefix ? `${prefix}/${text(0, 100)}` : text(0, 100));
    const link = this.#nextLink ?? text(157, 100);
    this.#nextName = undefined;
    this.#nextLink = undefined;
    const type: TarEntry["type"] =
      flag === "0" || flag === "\u0000" || flag === "7"
        ? "file"
        : flag === "5"
          ? "dir"
          : flag === "2"
            ? "symlink"
            : flag === "1"
              ? "hardlink"
              : "other";
    if (this.entries.length < MAX_ENTRIES) {
      const entry: TarEntry = {
        name: name.slice(0, MAX_NAME),
        type,
        size,
        mode: text(100, 8)
          .trim()
          .replace(/^0+(?=.)/, ""),
      };
      if ((type === "symlink" || type === "hardlink") && link) entry.linkname = link.slice(0, MAX_NAME);
      this.entries.push(entry);
    } else this.entriesTruncated = true;
    this.#skip = type === "file" || type === "other" ? padded : 0;
  }

  #finishCollect(): void {
    const c = this.#collect;
    this.#collect = undefined;
    if (!c) return;
    const data = Buffer.concat(c.chunks).toString("utf8");
    if (c.kind === "longname") this.#nextName = data.replace(/\u0000+$/, "");
    else if (c.kind === "longlink") this.#nextLink = data.replace(/\u0000+$/, "");
    else {
      // PAX records: "LEN key=value\n"
      for (const m of data.matchAll(/\d+ (path|linkpath)=([^\n]*)\n/g)) {
        if (m[1] === "path") this.#nextName = m[2];
        else this.#nextLink = m[2];
      }
    }
  }

  summary(): { bytes: number; sha256: string; entries: TarEntry[]; entriesTruncated?: true; note?: string } {
    return {
      bytes: this.#bytes,
      sha256: this.#hash.copy().digest("hex"),
      entries: this.entries,
      ...(this.entriesTruncated ? { entriesTruncated: true as const } : {}),
      ...(this.note ? { note: this.note } : {}),
    };
  }
}

// Exec and attach output: the remote-command channel protocol (§2.8) seen from the gateway. Server→client binary
// messages are `[channel, …payload]`; stdout (1) and stderr (2) each get their own TextStreamMasker, so a secret
// split across two frames of one channel is still found, and output of one channel never delays the other. The
// error channel (3) carries one Status JSON at the end: its strings go through the detectors too. The base64
// subprotocols (text frames: ASCII channel digit + base64 payload) are decoded, masked and re-encoded.
//
// Before a frame that ends the session (the error channel, a v5 close of an output channel) the held tail of each
// output channel is flushed, so nothing is lost. Fail closed: a frame the transformer cannot read (a base64 frame
// that does not decode) is an error; the caller closes the session rather than relay it.
//
// Files (`intact`, a `kubectl cp` download: stdout is a tar archive): a marker in place of a match would change the
// archive's bytes and length — kubectl would unpack a different file, or fail on a misaligned tar header, after
// reporting success. Random binary data matches a text pattern often enough (`pwd=` + 4 bytes: about one 4 MiB file
// in 20), so such a stream is never altered: output the detectors would mask is an error instead (the copy fails
// with a Status naming the rule; nothing of the match is sent).
import type { MaskCounts } from "./counts.ts";
import type { DetectorSet } from "./detectors.ts";
import { MaskingError } from "./json-stream.ts";
import { maskObject } from "./object.ts";
import type { Placeholders } from "./placeholder.ts";
import type { MaskingProfile } from "./profile.ts";
import { TextStreamMasker } from "./text-stream.ts";

export interface OutFrame {
  data: Buffer | string;
  binary: boolean;
}

const STDOUT = 1;
const STDERR = 2;
const ERROR = 3;
const CLOSE = 255;

export class ChannelFrameMasker {
  readonly #profile: MaskingProfile;
  readonly #ph: Placeholders;
  readonly #counts: MaskCounts;
  readonly #base64: boolean;
  readonly #detectors: DetectorSet;
  readonly #streams = new Map<number, TextStreamMasker>();
  readonly #intact: boolean;

  /**
   * `detectors`: the profile's, or those plus the session's known secret values (values.ts). `intact`: output is a
   * file (a cp download) and must reach the client unchanged or not at all.
   */
  constructor(
    profile: MaskingProfile,
    ph: Placeholders,
    counts: MaskCounts,
    subprotocol: string,
    detectors: DetectorSet = profile.detectors,
    intact = false,
  ) {
    this.#intact = intact;
    this.#profile = profile;
    this.#detectors = detectors;
    this.#ph = ph;
    this.#counts = counts;
    this.#base64 = subprotocol.includes("base64");
  }

  #stream(channel: number): TextStreamMasker {
    let s = this.#streams.get(channel);
    if (!s) {
      s = new TextStreamMasker(this.#detectors, this.#ph, this.#counts);
      this.#streams.set(channel, s);
    }
    return s;
  }

  #frame(channel: number, payload: Buffer): OutFrame {
    if (this.#base64) return { data: String(channel) + payload.toString("base64"), binary: false };
    const data = Buffer.allocUnsafe(payload.length + 1);
    data[0] = channel;
    payload.copy(data, 1);
    return { data, binary: true };
  }

  /** Output of one channel's masker, which must be the bytes it was given when the stream is a file. */
  #checked(emit: () => Buffer): Buffer {
    if (!this.#intact) return emit();
    const before = new Map(this.#counts);
    const out = emit();
    for (const [rule, n] of this.#counts) {
      if (n === (before.get(rule) ?? 0)) continue;
      throw new MaskingError(
        `the copied file holds text that rule ${rule} of the masking profile masks; masking it would change the ` +
          "file, so the copy was stopped (copy it with a policy whose masking profile lets it through, or read it " +
          "with exec to see it masked)",
      );
    }
    return out;
  }

  /** Frames to send for everything still held (the session is ending). */
  flush(): OutFrame[] {
    const out: OutFrame[] = [];
    for (const [channel, s] of this.#streams) {
      const rest = channel === STDOUT ? this.#checked(() => s.end()) : s.end();
      if (rest.length > 0) out.push(this.#frame(channel, rest));
      this.#streams.delete(channel);
    }
    return out;
  }

  /** One server→client message in; the messages to relay out (zero, one or several). */
  transform(message: Buffer, isBinary: boolean): OutFrame[] {
    let channel: number;
    let payload: Buffer;
    if (this.#base64) {
      if (isBinary || message.length === 0) throw new MaskingError("a base64 channel frame must be text");
      channel = (message[0] as number) - 0x30;
      const text = message.subarray(1).toString("latin1");
      if (!/^[A-Za-z0-9+/]*=*$/.test(text)) throw new MaskingError("a base64 channel frame does not decode");
      payload = Buffer.from(text, "base64");
    } else {
      if (!isBinary || message.length === 0)
        throw new MaskingError("a channel frame must be binary and non-empty");
      channel = message[0] as number;
      payload = message.subarray(1);
    }
    if (channel === STDOUT) {
      const s = this.#stream(channel);
      const out = this.#checked(() => s.push(payload));
      return out.length > 0 ? [this.#frame(channel, out)] : [];
    }
    if (channel === STDERR) {
      const out = this.#stream(channel).push(payload);
      return out.length > 0 ? [this.#frame(channel, out)] : [];
    }
    if (channel === ERROR) {
      const flushed = this.flush();
      return [...flushed, this.#frame(ERROR, this.#maskStatus(payload))];
    }
    if (channel === CLOSE && !this.#base64) {
      const target = payload[0];
      const s = target === undefined ? undefined : this.#streams.get(target);
      const out: OutFrame[] = [];
      if (s && target !== undefined) {
        const rest = target === STDOUT ? this.#checked(() => s.end()) : s.end();
        if (rest.length > 0) out.push(this.#frame(target, rest));
        this.#streams.delete(target);
      }
      return [...out, { data: message, binary: true }];
    }
    // Any other channel from the server (none is defined): its bytes are text like any output.
    const out = this.#stream(channel).push(payload);
    return out.length > 0 ? [this.#frame(channel, out)] : [];
  }

  /** Every string of a decoded value through this session's detectors (its known values included). */
  #deep(value: unknown): unknown {
    if (typeof value === "string") return this.#detectors.maskString(value, this.#ph, this.#counts);
    if (Array.isArray(value)) return value.map((v) => this.#deep(v));
    if (value === null || typeof value !== "object") return value;
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.#deep(v)]));
  }

  #maskStatus(payload: Buffer): Buffer {
    const text = payload.toString("utf8");
    try {
      const status: unknown = JSON.parse(text);
      const masked = maskObject(status, { profile: this.#profile, ph: this.#ph, counts: this.#counts });
      // The message of a failed command may quote its output: the known values are searched there too.
      return Buffer.from(JSON.stringify(this.#deep(masked)));
    } catch {
      // Before v4 the error channel carries a bare message.
      return Buffer.from(this.#detectors.maskString(text, this.#ph, this.#counts));
    }
  }
}

// The recording service: opens the recording of an exec, attach, cp or port-forward before it is forwarded, hands
// the relay a tap that writes what passes, and closes it with its outcome. Files live under
// <dataDir>/recordings/<session>/<recording>.{cast,tar,jsonl}, one per stream, append-only; their metadata is in
// the store.
//
// Fail closed when configured (`recording.required`): a recording that cannot be opened refuses the stream before
// anything is forwarded, and one that stops being writable ends the stream. Otherwise the failure is logged, noted
// on the recording, and the stream goes on unrecorded. Recordings hold what the client received (after masking)
// and never a credential: nothing from the request's headers is written.
import { randomUUID } from "node:crypto";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { AuditStore } from "../audit/types.ts";
import type { KubeRequest } from "../kube/request.ts";
import type { Logger } from "../shared/log.ts";
import type { RecordingConfig } from "./config.ts";
import { cpForm } from "./cp.ts";
import {
  AsciicastRecorder,
  type InputMasker,
  type RecorderOutcome,
  type StreamTap,
  TarRecorder,
} from "./exec-recorder.ts";
import { AppendFile } from "./file.ts";
import { PortForwardRecorder } from "./portforward.ts";
import { SessionTracker } from "./sessions.ts";
import type { RecordingKind, RecordingRecord, SessionStore } from "./types.ts";

export const RECORDINGS_DIR = "recordings";

export interface OpenInput {
  requestId: string;
  sessionId: string;
  identityName: string;
  kube: KubeRequest;
  /** Runs the masking profile's detectors over stdin, when masking applies. */
  inputMasker?: InputMasker | undefined;
}

const EXT = { asciicast: "cast", tar: "tar", jsonl: "jsonl" } as const;

export class ActiveRecording {
  readonly record: RecordingRecord;
  readonly #file: AppendFile;
  readonly #svc: RecordingService;
  readonly #input: OpenInput;
  readonly #startedAt = performance.now();
  #recorder: (StreamTap & { outcome?: () => RecorderOutcome }) | undefined;
  #pf: PortForwardRecorder | undefined;
  #abort: ((reason: string) => void) | undefined;
  #error: string | undefined;

  constructor(svc: RecordingService, record: RecordingRecord, file: AppendFile, input: OpenInput) {
    this.#svc = svc;
    this.record = record;
    this.#file = file;
    this.#input = input;
  }

  /** Called by the file on its first failed write. */
  failed(err: Error): void {
    this.#error = `recording write failed: ${err.message}`;
    this.#svc.log.error({ recording: this.record.id, err: err.message }, "recording write failed");
    if (this.#svc.config.required) this.#abort?.(`airlock: the recording cannot be written (${err.message})`);
  }

  /** The tap for the relay, once the subprotocol is known; `abort` ends the stream (required recordings). */
  tap(subprotocol: string, abort: (reason: string) => void): StreamTap {
    this.#abort = abort;
    const base64 = subprotocol.includes("base64");
    const common = { file: this.#file, base64, startedAt: this.#startedAt };
    this.record.detail.subprotocol = subprotocol;
    const kube = this.#input.kube;
    if (this.record.kind === "portforward") {
      this.#pf = new PortForwardRecorder({
        file: this.#file,
        startedAt: this.#startedAt,
        protocol: subprotocol,
      });
      this.#recorder = this.#pf;
    } else if (this.record.kind === "cp") {
      const direction = this.record.detail.direction === "upload" ? "upload" : "download";
      this.#recorder = new TarRecorder({ ...common, direction, limitBytes: this.#svc.config.cpMaxBytes });
    } else {
      const argv = kube.exec?.command ?? [];
      const target = `${kube.info.namespace}/${kube.info.name}`;
      this.#recorder = new AsciicastRecorder({
        ...common,
        title: `${this.#input.identityName}: ${kube.action} ${target}${argv.length ? ` -- ${argv.join(" ")}` : ""}`,
        timestamp: Math.floor(Date.parse(this.record.startedAt) / 1000),
        env: { AIRLOCK_SESSION: this.record.sessionId, AIRLOCK_REQUEST: this.record.requestId },
        ...(this.#input.inputMasker ? { input: this.#input.inputMasker } : {}),
      });
    }
    // A fault in the recorder must never break the relay: it is caught, reported and (when required) ends it.
    const recorder = this.#recorder;
    const guard =
      <A extends unknown[]>(fn: (...a: A) => void) =>
      (...a: A) => {
        try {
          fn(...a);
        } catch (err) {
          this.failed(err as Error);
        }
      };
    return {
      toClient: guard((d: Buffer | string, b: boolean) => recorder.toClient(d, b)),
      fromClient: guard((d: Buffer, b: boolean) => recorder.fromClient(d, b)),
      marker: guard((text: string) => recorder.marker?.(text)),
      end: guard(() => recorder.end()),
    };
  }

  /** Ends the recording (idempotent with the relay's end) and saves its outcome. */
  async finish(): Promise<void> {
    try {
      this.#recorder?.end();
    } catch (err) {
      this.failed(err as Error);
    }
    await this.#file.close();
    const r = this.record;
    r.endedAt = new Date().toISOString();
    r.bytes = this.#file.written;
    const outcome = this.#recorder?.outcome?.();
    if (outcome) {
      r.exitCode = outcome.exitCode;
      r.truncated = outcome.truncated;
      if (outcome.exitMessage) r.detail.exitMessage = outcome.exitMessage.slice(0, 1000);
      if (outcome.unreadable) r.detail.unreadableMessages = outcome.unreadable;
      if (r.kind !== "cp") Object.assign(r.detail, { width: outcome.width, height: outcome.height });
    }
    if (this.#recorder instanceof TarRecorder) {
      r.detail.tarBytes = this.#recorder.bytes;
      // What was copied, even past the byte cap: total size, SHA-256 and the listing (names, types, sizes).
      r.detail.tar = this.#recorder.summary.summary();
      if (this.#recorder.stderr) r.detail.stderr = this.#recorder.stderr;
    }
    if (this.#pf) Object.assign(r.detail, this.#pf.summary());
    if (this.#error ?? this.#file.failed) r.detail.error = this.#error ?? this.#file.failed?.message;
    if (!this.#recorder) r.detail.note = "the stream never opened";
    try {
      await this.#svc.store.recordings.save(r);
    } catch (err) {
      this.#svc.log.error(
        { recording: r.id, err: (err as Error).message },
        "saving recording metadata failed",
      );
    }
  }
}

export class RecordingService {
  readonly store: SessionStore & AuditStore;
  readonly config: RecordingConfig;
  readonly log: Logger;
  readonly dir: string;
  readonly sessions: SessionTracker;

  constructor(opts: {
    store: SessionStore & AuditStore;
    dataDir: string;
    config: RecordingConfig;
    log: Logger;
  }) {
    this.store = opts.store;
    this.config = opts.config;
    this.log = opts.log;
    this.dir = join(opts.dataDir, RECORDINGS_DIR);
    this.sessions = new SessionTracker(opts.store, {
      idleMs: opts.config.sessionIdleSeconds * 1000,
      onError: (err) => opts.log.error({ err: err.message }, "saving or noting a session failed"),
      note: (note) => opts.store.audit.note(note),
    });
  }

  /** The kind of recording a stream gets, from its subresource and exec argv. */
  kindOf(kube: KubeRequest): { kind: RecordingKind; direction?: "download" | "upload" } | undefined {
    const sub = kube.info.subresource;
    if (sub === "portforward") return { kind: "portforward" };
    if (sub === "attach") return { kind: "attach" };
    if (sub !== "exec") return undefined;
    const direction = cpForm(kube.exec?.command ?? [], kube.exec?.stdin ?? false, kube.exec?.tty ?? false);
    return direction ? { kind: "cp", direction } : { kind: "exec" };
  }

  /** Opens the file and saves the metadata; an error string when either fails (the caller decides by `required`). */
  async open(
    input: OpenInput,
  ): Promise<{ ok: true; active: ActiveRecording } | { ok: false; error: string }> {
    const what = this.kindOf(input.kube);
    if (!what) return { ok: false, error: `${input.kube.action} is not a recorded stream` };
    const format = what.kind === "cp" ? "tar" : what.kind === "portforward" ? "jsonl" : "asciicast";
    const id = randomUUID();
    const file = join(input.sessionId, `${id}.${EXT[format]}`);
    const exec = input.kube.exec;
    const record: RecordingRecord = {
      id,
      sessionId: input.sessionId,
      requestId: input.requestId,
      kind: what.kind,
      format,
      file,
      startedAt: new Date().toISOString(),
      endedAt: null,
      bytes: 0,
      exitCode: null,
      truncated: false,
      detail: {
        namespace: input.kube.info.namespace,
        pod: input.kube.info.name,
        ...(exec
          ? { command: exec.command, container: exec.container, tty: exec.tty, stdin: exec.stdin }
          : {}),
        ...(what.direction ? { direction: what.direction, limitBytes: this.config.cpMaxBytes } : {}),
      },
    };
    let active: ActiveRecording | undefined;
    let appendFile: AppendFile;
    try {
      mkdirSync(join(this.dir, input.sessionId), { recursive: true, mode: 0o700 });
      appendFile = new AppendFile(join(this.dir, file), {
        flushMs: this.config.flushMs,
        onError: (err) => active?.failed(err),
      });
    } catch (err) {
      return { ok: false, error: `cannot create the recording file: ${(err as Error).message}` };
    }
    active = new ActiveRecording(this, record, appendFile, input);
    try {
      await this.store.recordings.save(record);
    } catch (err) {
      void appendFile.close();
      return { ok: false, error: `cannot save the recording: ${(err as Error).message}` };
    }
    return { ok: true, active };
  }

  async close(): Promise<void> {
    await this.sessions.close();
  }
}

// The `recording:` section of airlock.yaml: whether a recording that cannot be written ends the session (fail
// closed), how much of a `kubectl cp` tar stream is kept, how often files are flushed, and the idle window that
// ends a session of requests without a Kubectl-Session.
import { z } from "zod";

export const recordingConfigSchema = z.strictObject({
  /** true: an exec/attach/cp/port-forward whose recording cannot be written is refused or ended (fail closed). */
  required: z.boolean().default(false),
  /** Bytes of a cp tar stream kept; past it the recording is marked truncated (the copy itself goes on). */
  cpMaxBytes: z
    .number()
    .int()
    .min(0)
    .default(64 * 1024 * 1024),
  /** How often recording files are handed to the kernel; at most 1000 so a crash loses at most a second. */
  flushMs: z.number().int().min(10).max(1000).default(250),
  /** Requests without a Kubectl-Session join the identity's session until it has been idle this long. */
  sessionIdleSeconds: z.number().int().positive().default(600),
});

export type RecordingConfig = z.infer<typeof recordingConfigSchema>;

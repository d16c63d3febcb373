// Sessions and recordings: every exec replayable (docs/recordings.md).
//
//   sessions.ts        requests grouped by Kubectl-Session, MCP session or identity + idle window
//   asciicast.ts       asciicast v2 lines, a tolerant reader, a strict check, the replay schedule
//   channels.ts        exec/attach channel frames as the recorder reads them
//   file.ts            append-only files flushed at least every second
//   exec-recorder.ts   exec/attach → asciicast; cp → the tar stream, capped
//   portforward.ts     port-forward → ports, connections, bytes
//   service.ts         opens, taps and closes recordings; fail closed when required
//   (the pipeline's recording stage is src/gateway/recording.ts)

export {
  type AsciicastEvent,
  type AsciicastHeader,
  checkAsciicast,
  parseAsciicast,
  playbackSchedule,
} from "./asciicast.ts";
export { type RecordingConfig, recordingConfigSchema } from "./config.ts";
export type { StreamTap } from "./exec-recorder.ts";
export { ActiveRecording, RECORDINGS_DIR, RecordingService } from "./service.ts";
export { SessionTracker, sessionKey } from "./sessions.ts";

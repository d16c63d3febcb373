// stream recording: an exec, attach or port-forward's recording is open before anything is forwarded; when
// recordings are required, a stream that cannot be recorded is refused (src/recording).
import { openStreamRecording } from "../recording.ts";
import { maskingOf, type Stage } from "./types.ts";

export const streamRecording: Stage = async (flow) => {
  if (flow.answer.kind !== "socket") return undefined;
  const recording = await openStreamRecording(flow.gw, flow.ctx, maskingOf(flow).request);
  if (!recording.ok) return recording.status;
  flow.recording = recording.active;
  return undefined;
};

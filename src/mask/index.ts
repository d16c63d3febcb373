// Masking: sensitive values never reach the agent, on any output path (DESIGN.md invariants 2 and 10).
//
//   profile.ts      MaskingProfile documents, the built-in `default` and break-glass `none`
//   placeholder.ts  ‹masked:…› markers: a keyed HMAC, key in <dataDir>/mask.key
//   detectors.ts    patterns for free text and any string (with partial patterns for streams)
//   object.ts       field rules on decoded objects, lists, Tables (the slow path, and the authority)
//   byte-reader.ts  a checking reader over the bytes of one JSON value
//   fast-walk.ts    walk() on bytes: only values a rule may change are decoded and replaced
//   fast-object.ts  maskObject/maskTableRow/maskWatchEvent on bytes; declines to the slow path
//   key-value.ts    the key=value detector, searched only at tokens that hold a key word
//   json-stream.ts  lists and Tables masked element by element
//   watch-stream.ts watch events masked one by one
//   text-stream.ts  logs and other byte streams
//   frames.ts       exec/attach channel frames
//   values.ts       known secret VALUES (and their encodings) in exec/attach/log output
//   encodings.ts    base64 (3 alignments), hex, URL and JSON forms of a byte string
//   body-markers.ts markers never flow back: a write body carrying one is refused

export { findMarkerInBody } from "./body-markers.ts";
export { addCount, countsRecord, type MaskCounts, totalCount } from "./counts.ts";
export { BUILTIN_DETECTOR_NAMES, type CustomPattern, type DetectorSet, withDetector } from "./detectors.ts";
export { type ItemKeep, ItemRefused } from "./filter.ts";
export { ChannelFrameMasker, type OutFrame } from "./frames.ts";
export { JsonDocumentMasker, MaskingError } from "./json-stream.ts";
export { kindForResource, type MaskContext, maskDocument, maskedCopy, maskObject } from "./object.ts";
export { createPlaceholders, loadMaskKey, MASK_KEY_FILE, type Placeholders } from "./placeholder.ts";
export {
  BUILTIN_PROFILES,
  compileProfiles,
  DEFAULT_PROFILE,
  type MaskingProfile,
  NO_MASKING_PROFILE,
  type ProfileDocument,
  type ProfilesResult,
  profileDocumentSchema,
} from "./profile.ts";
export { TextStreamMasker } from "./text-stream.ts";
export { DEFAULT_MIN_VALUE_BYTES, type SecretValueMatcher, secretValueMatcher } from "./values.ts";
export { maskWatchEvent, WatchStreamMasker } from "./watch-stream.ts";

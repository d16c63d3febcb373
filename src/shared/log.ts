// Structured JSON logs (pino). Credentials never reach a log line: the redaction list covers every place a token
// could sit in the objects we log, and callers log request summaries, never raw headers.
import { type Logger, pino } from "pino";

export type { Logger };

export const REDACTED_PATHS = [
  "token",
  "*.token",
  "authorization",
  "*.authorization",
  "headers.authorization",
  "*.headers.authorization",
  'headers["proxy-authorization"]',
  "headers.cookie",
  "password",
  "*.password",
];

export function createLogger(opts: {
  level: string;
  destination?: NodeJS.WritableStream;
  name?: string;
}): Logger {
  return pino(
    {
      level: opts.level,
      name: opts.name ?? "airlock",
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACTED_PATHS, censor: "[redacted]" },
      formatters: { level: (label) => ({ level: label }) },
    },
    opts.destination ?? process.stdout,
  );
}

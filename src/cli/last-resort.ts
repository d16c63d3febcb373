// The gateway process's last-resort handler (`airlock serve`, `airlock demo`). Every stream and promise in the
// gateway has an owner; if an error still escapes (a bug), the process cannot know what state it is in, so it logs
// the error with the request it belongs to (when known) and exits non-zero for its supervisor to restart it. Crash
// consistency makes that safe: nothing is forwarded before its audit record is committed (docs/operations.md).
import type { Logger } from "../shared/log.ts";
import { currentRequestId } from "../shared/request-scope.ts";

/** EX_SOFTWARE: an internal software error. */
export const CRASH_EXIT_CODE = 70;

export function installLastResortHandler(log: () => Logger | undefined, onCrash?: () => void): void {
  let crashed = false;
  const crash = (kind: string, err: unknown) => {
    if (crashed) return;
    crashed = true;
    const requestId = currentRequestId();
    const message = err instanceof Error ? err.message : String(err);
    const stack = err instanceof Error ? err.stack : undefined;
    log()?.fatal({ kind, requestId, err: message, stack }, "airlock: unhandled error; exiting for a restart");
    // Synchronously too: the log may be a file stream that would not be flushed before exit.
    process.stderr.write(
      `airlock: ${kind}${requestId ? ` in request ${requestId}` : ""}: ${stack ?? message}\n` +
        `airlock: exiting with code ${CRASH_EXIT_CODE}; the supervisor restarts the gateway\n`,
    );
    onCrash?.();
    process.exit(CRASH_EXIT_CODE);
  };
  process.on("uncaughtException", (err) => crash("uncaughtException", err));
  process.on("unhandledRejection", (reason) => crash("unhandledRejection", reason));
}

// Preloaded into every test process by `npm run test:unit` (node --import): an unhandledRejection or
// uncaughtException anywhere in the process — the test, or a gateway, simulator or store it started in-process —
// fails the file, even when it happens between tests, in a hook, or after a library installed its own handler.
// The error is printed in full so the failing file says what escaped. (node:test's runner also turns most of these
// into failures; this makes the rule explicit and independent of the runner's attribution.)

let escaped = 0;

function report(kind: string, err: unknown): void {
  escaped++;
  const text = err instanceof Error ? (err.stack ?? err.message) : String(err);
  process.stderr.write(`\n[fail-on-unhandled] ${kind} in ${process.argv[1] ?? "test process"}:\n${text}\n`);
  process.exitCode = 1;
}

process.on("unhandledRejection", (reason) => report("unhandledRejection", reason));
process.on("uncaughtExceptionMonitor", (err) => report("uncaughtException", err));
process.on("exit", (code) => {
  // The runner may set exitCode 0 after its own accounting: an escaped error still fails the file.
  if (escaped > 0 && code === 0) process.exitCode = 1;
});

export const failOnUnhandledInstalled = true;

// The gateway process's last-resort handler: an error that escapes every owner is logged with the request it
// belongs to, and the process exits non-zero (70) for its supervisor to restart it. Run in a child process, as
// `airlock serve` installs it, with the request scope the listener opens for each request.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../", import.meta.url));

function run(body: string): { status: number | null; stderr: string } {
  const script = `
    import { installLastResortHandler } from "./src/cli/last-resort.ts";
    import { requestScope } from "./src/shared/request-scope.ts";
    installLastResortHandler(() => undefined);
    ${body}
  `;
  const child = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
    cwd: root,
    encoding: "utf8",
    timeout: 30_000,
  });
  return { status: child.status, stderr: child.stderr };
}

test("an uncaught exception in a request's code is logged with its request id and exits 70", () => {
  const { status, stderr } = run(`
    requestScope.run({ requestId: "req-1234" }, () => setTimeout(() => { throw new Error("bug in a callback"); }, 1));
  `);
  assert.equal(status, 70);
  assert.match(stderr, /uncaughtException in request req-1234: Error: bug in a callback/);
  assert.match(stderr, /exiting with code 70; the supervisor restarts the gateway/);
});

test("an unhandled rejection exits 70 too", () => {
  const { status, stderr } = run(`Promise.reject(new Error("nobody caught me"));`);
  assert.equal(status, 70);
  assert.match(stderr, /unhandledRejection: Error: nobody caught me/);
});

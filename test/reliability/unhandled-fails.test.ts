// An unhandledRejection or uncaughtException in a test run fails the run: `npm run test:unit` preloads
// test/helpers/fail-on-unhandled.ts into every test process. Proved on a fixture file that starts a gateway
// in-process, passes its tests, and lets an error escape from a callback.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../", import.meta.url));

function withoutTestContext(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.NODE_TEST_CONTEXT;
  return env;
}

test("npm run test:unit preloads the handler that fails on escaped errors", () => {
  const pkg = JSON.parse(readFileSync(`${root}package.json`, "utf8"));
  assert.match(pkg.scripts["test:unit"], /--import \.\/test\/helpers\/fail-on-unhandled\.ts/);
});

test("an error escaping from a gateway started in-process fails the test file", () => {
  const run = spawnSync(
    process.execPath,
    [
      "--import",
      "./test/helpers/fail-on-unhandled.ts",
      "--test",
      "test/reliability/fixtures/escape.fixture.ts",
    ],
    // Without NODE_TEST_CONTEXT the child is a top-level run of its own, not a subprocess of this runner.
    { cwd: root, encoding: "utf8", timeout: 60_000, env: withoutTestContext() },
  );
  assert.notEqual(run.status, 0, `the run must fail; it printed:\n${run.stdout}\n${run.stderr}`);
  assert.match(`${run.stdout}${run.stderr}`, /\[fail-on-unhandled\] unhandledRejection[\s\S]*escaped from/);
});

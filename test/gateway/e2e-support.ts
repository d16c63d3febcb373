// Support for the end-to-end tests (test/gateway/e2e-*.test.ts): the simulator's record of what reached the
// "cluster", the assertion that every such request impersonated the agent, output normalisation for comparing a
// command through Airlock with the same command run directly, and a pseudo-terminal for `kubectl exec -it`.
//
// Stance: a test that runs a command through the gateway must also prove the request arrived impersonating the
// caller. An empty record is a failure, never a vacuous pass.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { request } from "node:https";
import type { Simulator } from "../../src/sim/index.ts";
import type { RequestRecord } from "../../src/sim/record.ts";

export const AGENT = "demo-agent";
export const AGENT_USER = `airlock:${AGENT}`;

/** The simulator's request record after `since` (GET /sim/v1/requests, admin only). */
export function simRecords(sim: Simulator, since = 0): Promise<RequestRecord[]> {
  const url = new URL(`/sim/v1/requests?since=${since}`, sim.url);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { ca: sim.caPem, headers: { Authorization: `Bearer ${sim.adminToken}`, Accept: "application/json" } },
      (res) => {
        let text = "";
        res.setEncoding("utf8").on("data", (d: string) => {
          text += d;
        });
        res.on("end", () => {
          if (res.statusCode !== 200) return reject(new Error(`request record: ${res.statusCode} ${text}`));
          resolve((JSON.parse(text) as { items: RequestRecord[] }).items);
        });
      },
    );
    req.on("error", reject);
    req.end();
  });
}

/** The sequence number of the newest record, to read only what a command sends next. */
export async function recordMark(sim: Simulator): Promise<number> {
  const all = await simRecords(sim);
  return all.at(-1)?.seq ?? 0;
}

/**
 * Every request in `records` arrived from the gateway's upstream credential impersonating the agent (user and its
 * groups); returns the records so callers can check which requests were made.
 */
export function assertAllImpersonated(records: RequestRecord[], user = AGENT_USER): RequestRecord[] {
  assert.ok(records.length > 0, "the simulator recorded no request for this command");
  for (const r of records) {
    assert.equal(
      r.impersonatedUser,
      user,
      `${r.method} ${r.path} arrived as ${r.impersonatedUser ?? r.user}`,
    );
    assert.ok(
      r.impersonatedGroups?.includes("airlock:agents"),
      `${r.method} ${r.path}: ${r.impersonatedGroups}`,
    );
  }
  return records;
}

/** Runs `fn` and returns the simulator's records of what it sent, after checking each one impersonated the agent. */
export async function impersonatedRequests(
  sim: Simulator,
  fn: () => Promise<void>,
): Promise<RequestRecord[]> {
  const mark = await recordMark(sim);
  await fn();
  return assertAllImpersonated(await simRecords(sim, mark));
}

/** True when some record is this request (a subset of its fields). */
export function hasRequest(records: RequestRecord[], want: Partial<RequestRecord>): boolean {
  return records.some((r) =>
    Object.entries(want).every(([k, v]) => (r as unknown as Record<string, unknown>)[k] === v),
  );
}

/**
 * Table output with ages blanked and columns joined by one space, so two runs a second apart compare equal ("5s"
 * vs "6s", and the column widths that follow from them).
 */
export function normaliseTable(output: string): string {
  const age = /^(?:\d+[dhms])+$|^<unknown>$/;
  return output
    .trim()
    .split("\n")
    .map((line) =>
      line
        .trim()
        .split(/\s+/)
        .map((cell) => (age.test(cell) ? "AGE" : cell))
        .join(" "),
    )
    .join("\n");
}

/** The cells of every data row of a table (header dropped). */
export function rows(output: string): string[][] {
  return output
    .trim()
    .split("\n")
    .slice(1)
    .map((line) => line.trim().split(/\s+/));
}

/**
 * Runs a shell command line in a pseudo-terminal (util-linux `script`) so kubectl sees a real terminal on stdin,
 * as `exec -it` needs. `keys` are typed one by one, `gapMs` apart, after `startMs`. Resolves with the terminal's
 * output once the command ends, or rejects when it has not ended within `timeoutMs`.
 */
export function runInTerminal(
  commandLine: string,
  keys: string[],
  opts: { startMs?: number; gapMs?: number; timeoutMs?: number } = {},
): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn("script", ["-qfec", commandLine, "/dev/null"], {
      stdio: ["pipe", "pipe", "pipe"],
      env: { ...process.env, TERM: "xterm" },
    });
    let output = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      output += d;
    });
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      output += d;
    });
    const timers = keys.map((key, i) =>
      setTimeout(() => child.stdin.write(key), (opts.startMs ?? 1500) + i * (opts.gapMs ?? 500)),
    );
    const killer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`terminal command did not end; output so far: ${JSON.stringify(output)}`));
    }, opts.timeoutMs ?? 20_000);
    child.on("close", (code) => {
      clearTimeout(killer);
      for (const t of timers) clearTimeout(t);
      resolve({ code: code ?? 1, output });
    });
  });
}

/** Single-quotes a word for a POSIX shell. */
export function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

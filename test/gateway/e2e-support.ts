// Support for the end-to-end tests (test/gateway/e2e-*.test.ts): the simulator's record of what reached the
// "cluster", the assertion that every such request impersonated the agent, output normalisation for comparing a
// command through Airlock with the same command run directly, and a pseudo-terminal for `kubectl exec -it`.
//
// Stance: a test that runs a command through the gateway must also prove the request arrived impersonating the
// caller. An empty record is a failure, never a vacuous pass.
import assert from "node:assert/strict";
import { request } from "node:https";
import type { Simulator } from "@airlock/sim";
import type { RequestRecord } from "@airlock/sim/record.ts";
import { SECRET_VALUES_AGENT } from "../../src/gateway/transform/secret-values.ts";
import { eventuallyMatches } from "../helpers/eventually.ts";

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
export function assertAllImpersonated(
  records: RequestRecord[],
  user = AGENT_USER,
  group = user === AGENT_USER ? "airlock:agents" : undefined,
): RequestRecord[] {
  assert.ok(records.length > 0, "the simulator recorded no request for this command");
  for (const r of records) {
    if (r.userAgent === SECRET_VALUES_AGENT) {
      // The gateway's own read of a pod and its Secrets before an exec/attach/log stream (to mask their values):
      // only GETs of pods and secrets, never impersonated.
      assert.ok(r.method === "GET" && ["pods", "secrets"].includes(r.resource) && !r.subresource, r.path);
      assert.equal(r.impersonatedUser, undefined);
      continue;
    }
    assert.equal(
      r.impersonatedUser,
      user,
      `${r.method} ${r.path} arrived as ${r.impersonatedUser ?? r.user}`,
    );
    assert.ok(
      group === undefined || r.impersonatedGroups?.includes(group),
      `${r.method} ${r.path}: ${r.impersonatedGroups}`,
    );
  }
  return records.filter((r) => r.userAgent !== SECRET_VALUES_AGENT);
}

/** Runs `fn` and returns the simulator's records of what it sent, after checking each one impersonated the agent. */
export async function impersonatedRequests(
  sim: Simulator,
  fn: () => Promise<void>,
  user = AGENT_USER,
): Promise<RequestRecord[]> {
  const mark = await recordMark(sim);
  await fn();
  return assertAllImpersonated(await simRecords(sim, mark), user);
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
  const age = /^\(?(?:\d+[dhms])+\)?$|^<unknown>$/; // "5s", "2m3s", "(x2 over 4s)" parts
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

/** Single-quotes a word for a POSIX shell. */
export function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

// kubectl in a pseudo-terminal (util-linux `script`, 27 rows by 91 columns by default), so it sees a real terminal on
// stdin as `exec -it` needs, and sends that size on the resize channel.
export { kubectlOnTerminal } from "./e2e-recording-support.ts";

/** Waits until `read()` matches, failing with what was read so far. */
export const waitFor = (read: () => string, pattern: RegExp, ms = 10_000): Promise<string> =>
  eventuallyMatches(read, pattern, ms);

// `airlock session list | show | play | export`: sessions and their recordings, through the admin API.
//
// `play` writes a recording's output to this terminal with its original timing (faster with --speed, long pauses
// cut with --idle-limit); a recording cut short by a crash plays up to its last complete line. `--file` plays a
// local .cast file without a gateway. Recordings are fetched over HTTPS with the same token checks as every command.
import { readFile } from "node:fs/promises";
import { request } from "node:https";
import { parseArgs } from "node:util";
import type { AuditEvent } from "../audit/types.ts";
import { parseAsciicast } from "../recording/asciicast.ts";
import { claimMismatch } from "../recording/claims.ts";
import { replaySteps, STDIN_MARK } from "../recording/replay.ts";
import type { RecordingRecord, SessionRecord } from "../recording/types.ts";
import { renderInline, renderName, terminalJson } from "../shared/render.ts";
import {
  CLI_ERROR_USAGE,
  CliError,
  CONNECTION_HELP,
  CONNECTION_OPTIONS,
  type Connection,
  callAdminApi,
  formatAge,
  formatTable,
  parseDuration,
  resolveConnection,
  runCli,
  shown,
  sinceToIso,
} from "./client.ts";
import type { Command } from "./main.ts";

const HELP = `Usage:
  airlock session list [--identity NAME] [--since 1h|RFC3339] [--limit N] [--json]
  airlock session show ID [--json]
  airlock session play ID [--recording RID] [--speed 2] [--idle-limit 2s]
  airlock session play --file FILE.cast [--speed 2] [--idle-limit 2s]
  airlock session export ID --format asciicast|json [--recording RID]

list     sessions, newest activity first: kubectl invocations (Kubectl-Session) or an identity's requests within
         an idle window.
show     the session's timeline: every request with its decision and status, then its recordings.
play     replays an exec or attach recording in this terminal with its timing (the first one unless --recording).
         Input (typed or piped) is shown as dim lines starting "⟩ ". Colours and cursor movement pass; sequences
         that talk to the terminal (OSC titles, clipboard writes, hyperlinks, DCS, APC, queries) are dropped and
         counted on the last line.
export   asciicast: the recording as asciicast v2 (asciinema play reads it); json: session, events and recordings.

${CONNECTION_HELP}
`;

const OPTIONS = {
  ...CONNECTION_OPTIONS,
  identity: { type: "string" },
  since: { type: "string" },
  limit: { type: "string" },
  recording: { type: "string" },
  speed: { type: "string" },
  "idle-limit": { type: "string" },
  format: { type: "string" },
  file: { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

interface SessionDetail {
  session: Omit<SessionRecord, "key">;
  events: AuditEvent[];
  recordings: RecordingRecord[];
}

/** GETs a recording's bytes (not JSON, so not callAdminApi). */
function fetchBytes(conn: Connection, path: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${conn.server}${path}`,
      { headers: { authorization: `Bearer ${conn.token}` }, ca: conn.caPem, timeout: 30_000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("error", (err) => reject(new CliError(`the recording download broke off (${err.message}).`)));
        res.on("end", () => {
          const body = Buffer.concat(chunks);
          if (res.statusCode === 200) return resolve(body);
          let message = body.toString("utf8").slice(0, 500);
          try {
            message = (JSON.parse(message) as { message?: string }).message ?? message;
          } catch {}
          reject(new CliError(`Error from server (${res.statusCode}): ${message}`));
        });
      },
    );
    req.on("timeout", () => req.destroy(new Error("no answer within 30s")));
    req.on("error", (err) =>
      reject(new CliError(`cannot reach the gateway at ${conn.server} (${err.message}).`)),
    );
    req.end();
  });
}

const resourceOf = (e: AuditEvent) =>
  (e.subresource ? `${e.resource}/${e.subresource}` : e.resource) || e.path;

/** What the gateway decoded for a session: its stored actions, or (older sessions) the timeline's. */
function decodedActions(s: Omit<SessionRecord, "key">, events: AuditEvent[] = []): string[] {
  if (s.actions?.length) return s.actions;
  return [...new Set(events.map((e) => `${e.verb || e.method} ${resourceOf(e)}`))];
}

/**
 * Sessions as a table. The ACTIONS column is what the gateway decoded; CLIENT SAYS is the Kubectl-Command values
 * the client sent (a claim), flagged when the decoded actions contradict it.
 */
export function sessionTable(items: Omit<SessionRecord, "key">[], now: number): string {
  const rows = items.map((s) => {
    const flagged = s.claimMismatches?.length ?? 0;
    const claims = s.commands.length
      ? renderInline(s.commands.join(", "), { max: 100, more: "see --json" })
      : "-";
    return [
      s.id,
      shown(renderName(s.identityName, { max: 60 })),
      s.cluster,
      s.kind,
      formatAge(s.startedAt, now),
      String(s.requests),
      `${s.decisions.allow}/${s.decisions.deny}/${s.decisions.review}`,
      decodedActions(s).join(", ") || "-",
      shown(flagged ? `${claims} ⟨CLAIM CONTRADICTED: see 'session show'⟩` : claims),
    ];
  });
  return formatTable(
    [
      "ID",
      "IDENTITY",
      "CLUSTER",
      "KIND",
      "STARTED",
      "REQUESTS",
      "ALLOW/DENY/REVIEW",
      "ACTIONS (DECODED)",
      "CLIENT SAYS",
    ],
    rows,
  );
}

/** `session show` before its recordings: summary from decoded actions, claims labelled, then the timeline. */
export function formatSessionShow(detail: SessionDetail): string {
  const s = detail.session;
  const one = (t: string) => renderInline(t, { max: 500, more: "--json shows it all" });
  const lines = [
    `Session ${s.id} (${s.kind}) of ${renderName(s.identityName)} on ${one(s.cluster)}, ${s.startedAt} → ${s.lastSeenAt}`,
    `Requests: ${s.requests}   allow ${s.decisions.allow}, deny ${s.decisions.deny}, review ${s.decisions.review}`,
    `Actions (decoded by the gateway): ${one(decodedActions(s, detail.events).join(", ")) || "-"}`,
    `Client says (Kubectl-Command, unverified): ${s.commands.length ? one(s.commands.join(", ")) : "-"}`,
  ];
  for (const m of s.claimMismatches ?? []) lines.push(`⟨CLAIM CONTRADICTED⟩ ${one(m)}`);
  const rows = detail.events.map((e) => {
    const resource = resourceOf(e);
    const claim = e.kubectlCommand ?? "";
    const mismatch = claimMismatch(claim, e.verb, resource);
    return [
      e.time,
      e.verb || e.method,
      resource,
      e.namespace ? `${e.namespace}/${e.name}` : e.name,
      e.decision,
      e.status === null ? "-" : String(e.status),
      e.policy ? `${e.policy}/${e.rule}` : "-",
      shown(claim ? `${renderInline(claim, { max: 80 })}${mismatch ? " ⟨CLAIM CONTRADICTED⟩" : ""}` : "-"),
    ];
  });
  return `${lines.join("\n")}\n\n${formatTable(
    ["TIME", "VERB", "RESOURCE", "NAME", "DECISION", "STATUS", "POLICY/RULE", "CLIENT SAYS"],
    rows,
  )}`;
}

function pickRecording(detail: SessionDetail, rid: string | undefined, playable: boolean): RecordingRecord {
  const candidates = detail.recordings.filter((r) => !playable || r.format === "asciicast");
  const found = rid ? candidates.find((r) => r.id === rid) : candidates[0];
  if (!found) {
    throw new CliError(
      rid
        ? `session ${detail.session.id} has no ${playable ? "asciicast " : ""}recording ${rid}.`
        : `session ${detail.session.id} has no ${playable ? "exec or attach " : ""}recording.`,
    );
  }
  return found;
}

/**
 * Replays a recording in this terminal: colours and cursor movement pass, terminal-talking sequences (OSC, DCS,
 * queries …) are dropped and counted, and what was typed or piped is shown as dim `⟩ ` lines (src/recording/replay.ts).
 */
async function play(text: string, speed: number, idleLimit: number | undefined): Promise<void> {
  const { events } = parseAsciicast(text);
  for (const step of replaySteps(events, speed, idleLimit)) {
    if (step.delayMs > 0) await new Promise((r) => setTimeout(r, step.delayMs));
    process.stdout.write(step.data);
  }
}

function positiveNumber(text: string | undefined, flag: string, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0)
    throw new CliError(`${flag} must be a positive number, got "${text}".`, 2);
  return n;
}

async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: OPTIONS, allowPositionals: true });
  const [sub, id] = positionals;
  if (values.help || !sub) {
    process.stdout.write(HELP);
    return values.help ? 0 : CLI_ERROR_USAGE;
  }
  const env = process.env;
  if (sub === "play" && values.file) {
    const idle = values["idle-limit"] ? parseDuration(values["idle-limit"]) : undefined;
    await play(
      await readFile(values.file, "utf8"),
      positiveNumber(values.speed, "--speed", 1),
      idle && idle / 1000,
    );
    return 0;
  }
  const conn = resolveConnection(values, env);
  if (sub === "list") {
    const query = new URLSearchParams();
    if (values.identity) query.set("identity", values.identity);
    if (values.since) query.set("since", sinceToIso(values.since, Date.now()));
    if (values.limit) query.set("limit", values.limit);
    const { items } = (await callAdminApi(conn, "GET", `/airlock/v1/sessions?${query}`)) as {
      items: Omit<SessionRecord, "key">[];
    };
    if (values.json) {
      process.stdout.write(`${terminalJson({ items })}\n`);
      return 0;
    }
    process.stdout.write(sessionTable(items, Date.now()));
    return 0;
  }
  if (!id) throw new CliError(`'airlock session ${sub}' needs a session ID.`, CLI_ERROR_USAGE);
  const detail = (await callAdminApi(
    conn,
    "GET",
    `/airlock/v1/sessions/${encodeURIComponent(id)}`,
  )) as SessionDetail;
  const recordingPath = (r: RecordingRecord) =>
    `/airlock/v1/sessions/${encodeURIComponent(id)}/recordings/${encodeURIComponent(r.id)}`;
  switch (sub) {
    case "show": {
      const s = detail.session;
      if (values.json) {
        process.stdout.write(`${terminalJson(detail)}\n`);
        return 0;
      }
      process.stdout.write(formatSessionShow(detail));
      if (detail.recordings.length > 0) {
        process.stdout.write("\nRecordings:\n");
        const recs = detail.recordings.map((r) => [
          r.id,
          r.kind,
          r.format,
          String(r.bytes),
          r.exitCode === null ? "-" : String(r.exitCode),
          r.endedAt ? "complete" : "open or cut short",
          r.truncated ? `truncated at ${String(r.detail.limitBytes)} bytes` : "",
        ]);
        process.stdout.write(formatTable(["ID", "KIND", "FORMAT", "BYTES", "EXIT", "STATE", "NOTE"], recs));
        const stdin = detail.recordings.filter((r) => r.format === "asciicast");
        if (stdin.length)
          process.stdout.write(
            `\nReplay with 'airlock session play ${s.id}': typed and piped input is shown, marked ${STDIN_MARK.trim()}.\n`,
          );
      }
      return 0;
    }
    case "play": {
      const rec = pickRecording(detail, values.recording, true);
      const text = (await fetchBytes(conn, recordingPath(rec))).toString("utf8");
      const idle = values["idle-limit"] ? parseDuration(values["idle-limit"]) : undefined;
      if (values["idle-limit"] && idle === undefined)
        throw new CliError(`--idle-limit "${values["idle-limit"]}" is not a duration such as 2s.`, 2);
      await play(
        text,
        positiveNumber(values.speed, "--speed", 1),
        idle === undefined ? undefined : idle / 1000,
      );
      return 0;
    }
    case "export": {
      if (values.format === "json") {
        process.stdout.write(`${terminalJson(detail)}\n`);
        return 0;
      }
      if (values.format !== "asciicast")
        throw new CliError("--format must be asciicast or json.", CLI_ERROR_USAGE);
      const rec = pickRecording(detail, values.recording, true);
      process.stdout.write(await fetchBytes(conn, recordingPath(rec)));
      return 0;
    }
    default:
      throw new CliError(`unknown subcommand '${sub}'. Run 'airlock session --help'.`, CLI_ERROR_USAGE);
  }
}

export const sessionCommand: Command = {
  summary: "list, show, replay and export sessions and their recordings",
  run: (args) => runCli("session", () => run(args)),
};

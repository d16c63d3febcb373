// The admin API client and the helpers the admin commands share (connection flags, errors, tables, durations).
//
// Tokens go only over HTTPS, verified against the CA given (AIRLOCK_CA / --ca) or the system roots; a plain http://
// server is refused rather than sent a token. Every failure becomes a CliError whose message says what to do next.
// This module never reads process.env: commands pass their environment in.

import { readFileSync } from "node:fs";
import { request } from "node:https";
import type { Status } from "../kube/status.ts";
import { renderBlock, renderInline } from "../shared/render.ts";

/** Exit code for a usage mistake (bad flags); 1 is for everything that went wrong at run time. */
export const CLI_ERROR_USAGE = 2;

export class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 1) {
    super(message);
    this.exitCode = exitCode;
  }
}

/** parseArgs options every admin command accepts. */
export const CONNECTION_OPTIONS = {
  server: { type: "string" },
  token: { type: "string" },
  ca: { type: "string" },
} as const;

export const CONNECTION_HELP = `Connection (flags override the environment):
  --server URL   the gateway, e.g. https://127.0.0.1:8443        (AIRLOCK_SERVER)
  --token TOKEN  the admin token or a human identity's token     (AIRLOCK_TOKEN)
  --ca FILE      the CA that signed the gateway's certificate   (AIRLOCK_CA)`;

const DEMO_HINT = "(source DIR/admin.env from the demo)";

export interface Connection {
  server: string;
  token: string;
  caPem: string | undefined;
}

type Env = Record<string, string | undefined>;

/** The gateway URL from --server or AIRLOCK_SERVER; https only. */
export function resolveServer(flag: string | undefined, env: Env): string {
  const raw = flag ?? env.AIRLOCK_SERVER;
  if (!raw) throw new CliError(`no server given. Set AIRLOCK_SERVER or pass --server ${DEMO_HINT}.`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new CliError(`the server "${raw}" is not a URL; expected e.g. https://127.0.0.1:8443.`);
  }
  if (url.protocol !== "https:") {
    throw new CliError(`the server must be an https:// URL (tokens are sent only over TLS); got "${raw}".`);
  }
  return url.href.replace(/\/+$/, "");
}

/** The CA PEM from --ca or AIRLOCK_CA (a file path), or undefined to use the system's roots. */
export function resolveCa(flag: string | undefined, env: Env): string | undefined {
  const file = flag ?? env.AIRLOCK_CA;
  if (!file) return undefined;
  let pem: string;
  try {
    pem = readFileSync(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new CliError(`cannot read the CA file ${file} (${code}). Check AIRLOCK_CA or --ca.`);
  }
  if (!pem.includes("-----BEGIN CERTIFICATE-----")) {
    throw new CliError(`the CA file ${file} holds no PEM certificate. Check AIRLOCK_CA or --ca.`);
  }
  return pem;
}

export function resolveConnection(
  values: { server?: string; token?: string; ca?: string },
  env: Env,
): Connection {
  const server = resolveServer(values.server, env);
  const token = values.token ?? env.AIRLOCK_TOKEN;
  if (!token) throw new CliError(`no token given. Set AIRLOCK_TOKEN or pass --token ${DEMO_HINT}.`);
  return { server, token, caPem: resolveCa(values.ca, env) };
}

const TLS_ERRORS = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|HOSTNAME/;

/** Calls the admin API; resolves with the parsed JSON of a 2xx answer, throws a CliError otherwise. */
export function callAdminApi(
  conn: Connection,
  method: "GET" | "POST" | "PATCH",
  path: string,
  body?: unknown,
): Promise<unknown> {
  const url = `${conn.server}${path}`;
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const headers: Record<string, string> = {
    authorization: `Bearer ${conn.token}`,
    accept: "application/json",
  };
  if (payload !== undefined) headers["content-type"] = "application/json";
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers, ca: conn.caPem, timeout: 30_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("error", (err) =>
        reject(new CliError(`the answer from ${conn.server} broke off (${err.message}).`)),
      );
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        let parsed: unknown;
        try {
          parsed = JSON.parse(text);
        } catch {
          parsed = undefined;
        }
        const code = res.statusCode ?? 0;
        if (code >= 200 && code < 300 && parsed !== undefined) resolve(parsed);
        else reject(serverError(code, parsed, conn.server));
      });
    });
    req.on("timeout", () => req.destroy(new Error("no answer within 30s")));
    req.on("error", (err: NodeJS.ErrnoException) => reject(connectError(err, conn.server)));
    req.end(payload);
  });
}

function serverError(code: number, body: unknown, server: string): CliError {
  const status = body as Partial<Status> | undefined;
  if (status?.kind !== "Status") {
    return new CliError(
      `${server} answered HTTP ${code} without an Airlock Status; is --server the Airlock gateway?`,
    );
  }
  if (code === 401) {
    return new CliError(`the gateway refused the token (${status.message}). Check AIRLOCK_TOKEN or --token.`);
  }
  return new CliError(`Error from server (${status.reason ?? code}): ${status.message ?? ""}`);
}

function connectError(err: NodeJS.ErrnoException, server: string): CliError {
  const code = err.code ?? err.message;
  if (TLS_ERRORS.test(code)) {
    return new CliError(
      `the gateway's certificate at ${server} is not trusted (${code}). Set AIRLOCK_CA or pass --ca with the gateway's CA file.`,
    );
  }
  return new CliError(
    `cannot reach the gateway at ${server} (${code}). Is it running? Check AIRLOCK_SERVER or --server.`,
  );
}

const DURATION = /^(?:\d+[smhd])+$/;
const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `90s`, `30m`, `1h`, `2d`, `1h30m` → milliseconds; undefined when it is not a duration. */
export function parseDuration(text: string): number | undefined {
  if (!DURATION.test(text)) return undefined;
  let total = 0;
  for (const [, n, unit] of text.matchAll(/(\d+)([smhd])/g)) total += Number(n) * (UNIT_MS[unit ?? ""] ?? 0);
  return total;
}

/** `--since`: a duration back from now, or an RFC 3339 time; as an ISO string. */
export function sinceToIso(text: string, now: number): string {
  const ms = parseDuration(text);
  if (ms !== undefined) return new Date(now - ms).toISOString();
  if (/^\d{4}-\d\d-\d\dT/.test(text) && !Number.isNaN(Date.parse(text)))
    return new Date(Date.parse(text)).toISOString();
  throw new CliError(
    `--since "${text}" is neither a duration (30m, 1h, 2d) nor a time (2026-03-01T10:00:00Z).`,
    2,
  );
}

/** A compact age like kubectl's: 45s, 12m, 3h, 5d. */
export function formatAge(iso: string | null, now: number): string {
  if (!iso) return "never";
  const s = Math.max(0, Math.floor((now - Date.parse(iso)) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172_800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86_400)}d`;
}

/** A kubectl-style table: upper-case headers, columns padded with three spaces. */
/** A table cell already rendered by src/shared/render.ts (an argv, a marked claim): formatTable shows it as is. */
export interface Shown {
  shown: string;
}

export const shown = (text: string): Shown => ({ shown: text });

/** A cell's longest shown length; the rest is cut with a marker pointing at --json (issue 14). */
const CELL_MAX = 160;

/**
 * A plain-text table. Every cell is untrusted text and follows the one rendering rule (src/shared/render.ts):
 * controls, bidi and invisible characters become visible markers and a cell is one line, cut with a marker.
 */
export function formatTable(headers: string[], rows: (string | Shown)[][]): string {
  const cells = rows.map((r) =>
    r.map((c) =>
      typeof c === "string" ? renderInline(c, { max: CELL_MAX, more: "--json shows it all" }) : c.shown,
    ),
  );
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join("   ")
      .trimEnd();
  return `${[line(headers), ...cells.map(line)].join("\n")}\n`;
}

/** Runs a command body, turning CliErrors and flag errors into `airlock: …` on stderr and an exit code. */
export async function runCli(name: string, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (err) {
    if (err instanceof CliError) {
      // Messages quote server and cluster text: they follow the rendering rule too (newlines kept).
      process.stderr.write(`airlock: ${renderBlock(err.message, { max: 4000 })}\n`);
      return err.exitCode;
    }
    if ((err as NodeJS.ErrnoException).code?.startsWith("ERR_PARSE_ARGS")) {
      process.stderr.write(`airlock ${name}: ${(err as Error).message}\nRun 'airlock ${name} --help'.\n`);
      return 2;
    }
    throw err;
  }
}

// `airlock audit verify | export | pubkey`: through the admin API, or offline straight from a copy of the SQLite
// file (`--db FILE`, opened read-only) with the public key kept apart from the gateway (`--pubkey FILE`).
//
// Offline is the auditor's mode: it trusts nothing the gateway serves, only the file and a key obtained earlier.
// Exit codes: 0 verified, 1 verification failed or a run-time error, 2 a usage mistake.
import { existsSync, readFileSync } from "node:fs";
import { request } from "node:https";
import { join } from "node:path";
import { type ExportFormat, exportLines } from "../audit/export.ts";
import { loadOrCreateSigningKey, publicKeyFromPem, SIGNING_KEY_FILE } from "../audit/signing.ts";
import { type VerifyReport, verifyAuditLog } from "../audit/verify.ts";
import type { Status } from "../kube/status.ts";
import { openStore } from "../store/index.ts";
import type { Store } from "../store/types.ts";
import {
  CLI_ERROR_USAGE,
  CliError,
  type Connection,
  callAdminApi,
  resolveConnection,
  sinceToIso,
} from "./client.ts";

type Values = Record<string, string | boolean | undefined>;
type Env = Record<string, string | undefined>;

const str = (v: string | boolean | undefined): string | undefined => (typeof v === "string" ? v : undefined);

async function withOfflineStore<T>(db: string, fn: (store: Store) => Promise<T>): Promise<T> {
  if (!existsSync(db))
    throw new CliError(`--db ${db}: no such file. Pass a copy of the gateway's <dataDir>/airlock.db.`);
  let store: Store;
  try {
    store = await openStore({ kind: "sqlite", path: db, readOnly: true });
  } catch (err) {
    throw new CliError(`cannot open ${db} as an Airlock database (${(err as Error).message}).`);
  }
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

function seqFlag(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new CliError(
      `--${name} must be a record seq (a whole number from 1), got "${value}".`,
      CLI_ERROR_USAGE,
    );
  return n;
}

export function formatReport(report: VerifyReport): string {
  if (report.ok) {
    return report.records === 0
      ? "audit log verified: no records yet.\n"
      : `audit log verified: records ${report.fromSeq}..${report.toSeq} (${report.records}), ` +
          `${report.checkpoints} checkpoint(s), signed through seq ${report.signedThrough}.\n`;
  }
  const [first, ...rest] = report.problems;
  const lines = [
    `audit log FAILED verification (${report.problems.length} problem(s)).`,
    `first: ${first?.kind}: ${first?.message}`,
  ];
  for (const p of rest.slice(0, 9)) lines.push(`also:  ${p.kind}: ${p.message}`);
  if (rest.length > 9) lines.push(`… and ${rest.length - 9} more (use --json for all).`);
  return `${lines.join("\n")}\n`;
}

export async function auditVerify(values: Values, env: Env): Promise<number> {
  const range: { fromSeq?: number; toSeq?: number } = {};
  const from = seqFlag("from", str(values.from));
  const to = seqFlag("to", str(values.to));
  if (from !== undefined) range.fromSeq = from;
  if (to !== undefined) range.toSeq = to;
  let report: VerifyReport;
  const db = str(values.db);
  if (db) {
    const pubkeyFile = str(values.pubkey);
    if (!pubkeyFile)
      throw new CliError("offline verify needs the public key: --db FILE --pubkey FILE.", CLI_ERROR_USAGE);
    let publicKey: ReturnType<typeof publicKeyFromPem>;
    try {
      publicKey = publicKeyFromPem(readFileSync(pubkeyFile, "utf8"));
    } catch (err) {
      throw new CliError(`cannot use ${pubkeyFile} as the audit public key (${(err as Error).message}).`);
    }
    report = await withOfflineStore(db, (store) => verifyAuditLog(store, publicKey, range));
  } else {
    const qs = new URLSearchParams();
    if (from !== undefined) qs.set("from", String(from));
    if (to !== undefined) qs.set("to", String(to));
    const path = `/airlock/v1/audit/verify${qs.size ? `?${qs}` : ""}`;
    report = (await callAdminApi(resolveConnection(values, env), "GET", path)) as VerifyReport;
  }
  process.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
  return report.ok ? 0 : 1;
}

function formatOf(values: Values): ExportFormat {
  const format = str(values.format) ?? "jsonl";
  if (format !== "k8s" && format !== "jsonl")
    throw new CliError(`--format must be k8s or jsonl (got "${format}").`, CLI_ERROR_USAGE);
  return format;
}

export async function auditExport(values: Values, env: Env, out: NodeJS.WritableStream): Promise<number> {
  const format = formatOf(values);
  const since = str(values.since) === undefined ? undefined : sinceToIso(String(values.since), Date.now());
  const db = str(values.db);
  if (db) {
    await withOfflineStore(db, async (store) => {
      for await (const line of exportLines(store, { format, ...(since ? { since } : {}) })) {
        if (!out.write(`${line}\n`)) await new Promise((resolve) => out.once("drain", resolve));
      }
    });
    return 0;
  }
  const qs = new URLSearchParams({ format });
  if (since) qs.set("since", since);
  await streamAdminApi(resolveConnection(values, env), `/airlock/v1/audit/export?${qs}`, out);
  return 0;
}

export async function auditPubkey(values: Values, env: Env): Promise<number> {
  const dataDir = str(values["data-dir"]);
  if (dataDir) {
    if (!existsSync(join(dataDir, SIGNING_KEY_FILE)))
      throw new CliError(
        `${join(dataDir, SIGNING_KEY_FILE)} does not exist; start the gateway once to create it.`,
      );
    process.stdout.write((await loadOrCreateSigningKey(dataDir)).publicKeyPem);
    return 0;
  }
  await streamAdminApi(resolveConnection(values, env), "/airlock/v1/audit/pubkey", process.stdout);
  return 0;
}

/** GETs a non-JSON admin API answer and streams it to `out`; a non-2xx Status becomes a CliError. */
function streamAdminApi(conn: Connection, path: string, out: NodeJS.WritableStream): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${conn.server}${path}`,
      { method: "GET", headers: { authorization: `Bearer ${conn.token}` }, ca: conn.caPem, timeout: 30_000 },
      (res) => {
        const code = res.statusCode ?? 0;
        if (code >= 200 && code < 300) {
          res.pipe(out, { end: false });
          res.on("end", () => resolve());
          res.on("error", (err) =>
            reject(new CliError(`the export from ${conn.server} broke off (${err.message}).`)),
          );
          // A cut connection mid-stream (the server failed after the first line) must not look like success.
          res.on("aborted", () =>
            reject(new CliError(`the export from ${conn.server} was cut off; the output is incomplete.`)),
          );
          return;
        }
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          let status: Partial<Status> | undefined;
          try {
            status = JSON.parse(Buffer.concat(chunks).toString("utf8")) as Partial<Status>;
          } catch {
            status = undefined;
          }
          reject(
            new CliError(
              `Error from server (${status?.reason ?? code}): ${status?.message ?? `HTTP ${code}`}`,
            ),
          );
        });
      },
    );
    req.on("timeout", () => req.destroy(new Error("no answer within 30s")));
    req.on("error", (err) =>
      reject(
        err instanceof CliError
          ? err
          : new CliError(
              `cannot reach the gateway at ${conn.server} (${(err as NodeJS.ErrnoException).code ?? err.message}).`,
            ),
      ),
    );
    req.end();
  });
}

// `airlock policy lint | test | what-if`: check policy files before they go live.
//
// lint and test work offline on files (the same loader and evaluator the gateway runs). what-if reads the recorded
// audit log and identities through the admin API (it never touches the gateway's database) and replays them locally.
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { parse as parseYaml } from "yaml";
import type { AuditEvent } from "../audit/types.ts";
import type { Identity } from "../identity/types.ts";
import { engineForSet } from "../policy/engine.ts";
import { explain } from "../policy/explain.ts";
import { type LintWarning, lintSet } from "../policy/lint.ts";
import { loadPolicies } from "../policy/load.ts";
import { describeToRequest } from "../policy/request.ts";
import type { LoadedSet } from "../policy/types.ts";
import { type WhatIfReport, whatIf } from "../policy/whatif.ts";
import {
  CliError,
  CONNECTION_HELP,
  CONNECTION_OPTIONS,
  callAdminApi,
  formatTable,
  resolveConnection,
  runCli,
  sinceToIso,
} from "./client.ts";
import type { Command } from "./main.ts";

const HELP = `Usage:
  airlock policy lint FILE|DIR… [--json]                 validate policies; exit 1 listing every error;
                                                        warn (exit 0) about rules that may not mean what they say
  airlock policy test FILE|DIR… --request REQ.yaml [--expect allow|deny|review] [--json]
                                                        decide one described request (see docs/policy.md)
  airlock policy what-if FILE|DIR… [--since 24h] [--json]
                                                        replay the audit log against these policies

${CONNECTION_HELP}
`;

const OPTIONS = {
  ...CONNECTION_OPTIONS,
  request: { type: "string" },
  expect: { type: "string" },
  since: { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

async function load(paths: string[]): Promise<LoadedSet> {
  if (!paths.length) throw new CliError("name at least one policy file or directory.", 2);
  const loaded = await loadPolicies({ paths });
  if (!loaded.ok) {
    throw new CliError(`${loaded.errors.length} error(s):\n  ${loaded.errors.join("\n  ")}`, 1);
  }
  return loaded.set;
}

async function lint(paths: string[], json: boolean): Promise<number> {
  const set = await load(paths);
  const rules = set.policies.reduce((n, p) => n + p.rules.length, 0);
  const warnings = lintSet(set);
  if (json) {
    process.stdout.write(`${JSON.stringify({ ok: true, warnings }, null, 2)}\n`);
    return 0;
  }
  process.stdout.write(
    `ok: ${set.policies.length} policies, ${rules} rules, ${set.maskingProfiles.length} masking profiles in ${set.files.length} files` +
      `${warnings.length ? `; ${warnings.length} warning(s):` : ""}\n`,
  );
  for (const w of warnings) process.stdout.write(`${warningLine(w)}\n`);
  return 0;
}

export function warningLine(w: LintWarning): string {
  return `warning [${w.id}] ${w.file}: policy ${w.policy} rule ${w.rule}: ${w.message}`;
}

async function testRequest(
  paths: string[],
  requestFile: string | undefined,
  expect: string | undefined,
  json: boolean,
) {
  if (!requestFile) throw new CliError("policy test needs --request REQ.yaml.", 2);
  if (expect && !["allow", "deny", "review"].includes(expect)) {
    throw new CliError(`--expect must be allow, deny or review (got "${expect}").`, 2);
  }
  const set = await load(paths);
  let raw: unknown;
  try {
    raw = parseYaml(await readFile(requestFile, "utf8"));
  } catch (err) {
    throw new CliError(`cannot read ${requestFile}: ${(err as Error).message}`);
  }
  const described = describeToRequest(raw);
  if (!described.ok) throw new CliError(`${requestFile}:\n  ${described.errors.join("\n  ")}`);
  const engine = engineForSet(set);
  const result = engine.evaluate(
    described.principal,
    described.kube,
    described.now ? { now: described.now } : {},
  );
  const d = result.decision;
  const rules = explain(set, {
    principal: described.principal,
    kube: described.kube,
    now: described.now ?? Date.now(),
  });
  if (json)
    process.stdout.write(`${JSON.stringify({ decision: d, matched: result.matched, rules }, null, 2)}\n`);
  else {
    const lines = [`decision: ${d.effect}`, `policy:   ${d.policy}`, `rule:     ${d.rule}`];
    if (d.effect === "deny" || (d.effect === "review" && d.message)) lines.push(`message:  ${d.message}`);
    if (d.effect !== "deny" && d.mask) lines.push(`mask:     ${d.mask}`);
    if (d.effect === "review") {
      const r = d.review;
      lines.push(
        `review:   ${r.approvals} approval(s) from ${[...r.approvers.identities, ...r.approvers.groups.map((g) => `group ${g}`)].join(", ")}; mode ${r.mode}; timeout ${r.timeoutSeconds}s`,
      );
    }
    lines.push(
      `matched:  ${result.matched.map((m) => `${m.policy}/${m.rule} (${m.effect})`).join(", ") || "nothing"}`,
    );
    lines.push("rules:");
    for (const r of rules) {
      lines.push(
        `  ${r.policy}/${r.rule} (${r.effect}): ${r.matched ? "matched" : `no match — ${r.reason}`}`,
      );
    }
    process.stdout.write(`${lines.join("\n")}\n`);
  }
  if (expect && expect !== d.effect) {
    process.stderr.write(`airlock: expected ${expect}, got ${d.effect}\n`);
    return 1;
  }
  return 0;
}

export function whatIfText(report: WhatIfReport): string {
  const out: string[] = [];
  out.push(
    `${report.total} recorded requests: ${report.replayed} replayed, ${report.changed.length} decided differently, ` +
      `${report.undecidable.length} cannot be replayed (their rule needs the body or query), ` +
      `${report.unjustified.length} lacked a justification the policies require, ` +
      `${report.notReplayed.beforePolicy + report.notReplayed.rateLimited + report.notReplayed.unparseable} not replayed ` +
      `(${report.notReplayed.beforePolicy} refused before policy, ${report.notReplayed.rateLimited} rate-limited)`,
  );
  if (report.changed.length) {
    out.push("", "Decided differently:");
    out.push(
      formatTable(
        ["TIME", "IDENTITY", "REQUEST", "BEFORE", "AFTER"],
        report.changed.map((r) => [
          r.time.replace(/\.\d+Z$/, "Z"),
          r.identity,
          r.request,
          `${r.before.effect} ${r.before.policy}/${r.before.rule}`,
          `${r.after.effect} ${r.after.policy}/${r.after.rule}`,
        ]),
      ).trimEnd(),
    );
  }
  if (report.unjustified.length) {
    out.push("", "Lacked a justification the policies require (refused before any review):");
    out.push(
      formatTable(
        ["TIME", "IDENTITY", "REQUEST", "RULE", "JUSTIFICATION", "WHY"],
        report.unjustified.map((r) => [
          r.time.replace(/\.\d+Z$/, "Z"),
          r.identity,
          r.request,
          r.rule,
          r.justification === null ? "(none)" : r.justification,
          r.because,
        ]),
      ).trimEnd(),
    );
  }
  if (report.undecidable.length) {
    out.push("", "Cannot be replayed:");
    out.push(
      formatTable(
        ["TIME", "IDENTITY", "REQUEST", "BECAUSE"],
        report.undecidable.map((r) => [r.time.replace(/\.\d+Z$/, "Z"), r.identity, r.request, r.because]),
      ).trimEnd(),
    );
  }
  return `${out.join("\n")}\n`;
}

async function whatIfCommand(
  paths: string[],
  values: { since?: string; json?: boolean } & Record<string, unknown>,
) {
  const set = await load(paths);
  const conn = resolveConnection(values as { server?: string; token?: string; ca?: string }, process.env);
  const since = sinceToIso(values.since ?? "24h", Date.now());
  const query = new URLSearchParams({ since, limit: "1000" });
  const { items: events } = (await callAdminApi(conn, "GET", `/airlock/v1/audit?${query}`)) as {
    items: AuditEvent[];
  };
  const { items: identities } = (await callAdminApi(conn, "GET", "/airlock/v1/identities")) as {
    items: Identity[];
  };
  const report = whatIf(events, identities, engineForSet(set));
  process.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : whatIfText(report));
  if (events.length === 1000) process.stderr.write("airlock: only the newest 1000 requests were replayed.\n");
  return 0;
}

async function run(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  const { values, positionals } = parseArgs({
    args: rest,
    options: OPTIONS,
    allowPositionals: true,
    strict: true,
  });
  if (!sub || sub === "--help" || sub === "-h" || values.help) {
    process.stdout.write(HELP);
    return sub ? 0 : 2;
  }
  if (sub === "lint") return lint(positionals, Boolean(values.json));
  if (sub === "test") return testRequest(positionals, values.request, values.expect, Boolean(values.json));
  if (sub === "what-if") return whatIfCommand(positionals, values);
  throw new CliError(`unknown subcommand "policy ${sub}". Run 'airlock policy --help'.`, 2);
}

export const policyCommand: Command = {
  summary: "lint, test and what-if policies",
  run: (args) => runCli("policy", () => run(args)),
};

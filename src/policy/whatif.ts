// What-if: replays recorded requests (audit events) against candidate policies and reports which would now be
// decided differently. Pure: the caller fetches the events and identities.
//
// An audit event keeps the classified target and exec argv but not the body, the query (selectors, dryRun) or the
// exec container/tty/stdin, so a request whose outcome hangs on a rule that reads those is reported as undecidable
// rather than guessed. A request the candidate rules would refuse for its justification (none recorded, or one not
// in a rule's form) is also listed on its own (`unjustified`). Requests refused before policy (401, bad paths) and rate-limited ones (the outcome depends on
// history, not on policy text) are counted but not replayed. Identities are taken as they are now.

import type { AuditEvent } from "../audit/types.ts";
import type { Identity, Principal } from "../identity/types.ts";
import { classifyRequest } from "../kube/classify/index.ts";
import type { KubeRequest } from "../kube/request.ts";
import type { PolicyEngine } from "./engine.ts";
import { describeRequestTarget } from "./evaluate.ts";

export interface WhatIfRow {
  id: string;
  time: string;
  identity: string;
  request: string;
  before: { effect: string; policy: string | null; rule: string | null };
  after: { effect: string; policy: string; rule: string };
}

export interface WhatIfReport {
  total: number;
  replayed: number;
  unchanged: number;
  changed: WhatIfRow[];
  undecidable: (Omit<WhatIfRow, "after"> & { because: string })[];
  /** Requests the candidate policies would refuse for their justification: none given, or not in the rule's form. */
  unjustified: (Omit<WhatIfRow, "after"> & { rule: string; because: string; justification: string | null })[];
  notReplayed: { beforePolicy: number; rateLimited: number; unparseable: number };
}

function kubeOf(e: AuditEvent): KubeRequest | undefined {
  const classified = classifyRequest(e.method, e.path, e.cluster);
  if (!classified.ok) return undefined;
  const kube = classified.value;
  kube.action = e.verb || kube.action;
  if (e.verb === "watch") kube.info.verb = "watch";
  if (kube.exec) kube.exec.command = e.execCommand ?? [];
  return kube;
}

function principalOf(e: AuditEvent, identities: ReadonlyMap<string, Identity>): Principal {
  const known = identities.get(e.identityName ?? "");
  return {
    identityId: e.identityId ?? "",
    kind: (known?.kind ?? e.identityKind ?? "agent") as Principal["kind"],
    name: e.identityName ?? "",
    groups: known?.groups ?? [],
    labels: known?.labels ?? {},
    credentialId: e.credentialId ?? "",
    // The reason the request was sent with (header, MCP argument or credential), as its event recorded it.
    ...(typeof e.justification === "string" ? { justification: e.justification } : {}),
  };
}

export function whatIf(
  events: readonly AuditEvent[],
  identities: readonly Identity[],
  engine: PolicyEngine,
): WhatIfReport {
  const byName = new Map(identities.map((i) => [i.name, i]));
  const report: WhatIfReport = {
    total: events.length,
    replayed: 0,
    unchanged: 0,
    changed: [],
    undecidable: [],
    unjustified: [],
    notReplayed: { beforePolicy: 0, rateLimited: 0, unparseable: 0 },
  };
  for (const e of events) {
    if (!e.policy || !e.identityName) {
      report.notReplayed.beforePolicy++;
      continue;
    }
    if (e.status === 429) {
      report.notReplayed.rateLimited++;
      continue;
    }
    const kube = kubeOf(e);
    if (!kube) {
      report.notReplayed.unparseable++;
      continue;
    }
    const base = {
      id: e.id,
      time: e.time,
      identity: e.identityName,
      request: `${kube.action} ${describeRequestTarget(kube)}${e.execCommand?.length ? ` -- ${e.execCommand.join(" ")}` : ""}`,
      before: { effect: e.decision, policy: e.policy, rule: e.rule },
    };
    const result = engine.evaluate(principalOf(e, byName), kube, { replay: true, now: Date.parse(e.time) });
    if (result.undecidable) {
      const { policy, rule } = result.undecidable;
      report.undecidable.push({
        ...base,
        because: `rule ${policy}/${rule} reads the body or query, which the audit log does not keep`,
      });
      continue;
    }
    report.replayed++;
    const d = result.decision;
    if (d.effect === "deny" && d.justification) {
      report.unjustified.push({
        ...base,
        rule: `${d.policy}/${d.rule}`,
        because: d.message,
        justification: e.justification ?? null,
      });
    }
    const sameRule = d.policy === e.policy && d.rule === e.rule;
    const sameEffect = d.effect === e.decision;
    if (sameRule || sameEffect) report.unchanged++;
    else report.changed.push({ ...base, after: { effect: d.effect, policy: d.policy, rule: d.rule } });
  }
  return report;
}

// Audit export formats: `k8s` (audit.k8s.io/v1 Event objects, the format SIEMs and Falco read) and `jsonl`
// (Airlock's own schema: the stored event plus its chain position). Pure mapping plus one reader over the store.
//
// The user in a k8s event is the Airlock identity as the cluster saw it (airlock:<name>, with its groups): Airlock
// impersonates it upstream, so the cluster's own audit log and this export name the same actor. Nothing secret is
// in an audit event (no tokens, no bodies), so nothing is stripped here.

import { REQUEST, REQUEST_COMPLETED } from "./chain.ts";
import type { AuditEvent, AuditRecord, AuditStore } from "./types.ts";

export type ExportFormat = "k8s" | "jsonl";

const K8S_VERBS = new Set([
  "get",
  "list",
  "watch",
  "create",
  "update",
  "patch",
  "delete",
  "deletecollection",
]);
const METHOD_VERBS: Record<string, string> = {
  GET: "get",
  HEAD: "get",
  POST: "create",
  PUT: "update",
  PATCH: "patch",
  DELETE: "delete",
};

/** Kubernetes MicroTime: RFC 3339 with six fractional digits. */
export function microTime(iso: string): string {
  return new Date(iso).toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
}

export interface K8sAuditEvent {
  kind: "Event";
  apiVersion: "audit.k8s.io/v1";
  level: "Metadata";
  auditID: string;
  stage: "RequestReceived" | "ResponseComplete";
  requestURI: string;
  verb: string;
  user: { username: string; groups: string[] };
  sourceIPs: string[];
  userAgent: string;
  objectRef?: Record<string, string>;
  responseStatus?: { metadata: Record<string, never>; code: number; status?: string; message?: string };
  requestReceivedTimestamp: string;
  stageTimestamp: string;
  annotations: Record<string, string>;
}

export function toK8sEvent(e: AuditEvent): K8sAuditEvent {
  const user = e.identityName
    ? {
        username: `airlock:${e.identityName}`,
        groups: e.identityGroups ?? [e.identityKind === "human" ? "airlock:humans" : "airlock:agents"],
      }
    : { username: "system:anonymous", groups: ["system:unauthenticated"] };
  const objectRef: Record<string, string> = {};
  for (const [key, value] of [
    ["resource", e.resource],
    ["namespace", e.namespace],
    ["name", e.name],
    ["apiGroup", e.apiGroup],
    ["apiVersion", e.apiVersion],
    ["subresource", e.subresource],
  ] as const) {
    if (value) objectRef[key] = value;
  }
  const annotations: Record<string, string> = {
    "airlock.dev/cluster": e.cluster,
    "airlock.dev/decision": e.decision,
    "authorization.k8s.io/decision": e.decision === "allow" ? "allow" : "forbid",
  };
  const optional: Array<[string, string | null | undefined]> = [
    ["airlock.dev/identity", e.identityName],
    ["airlock.dev/identity-id", e.identityId],
    ["airlock.dev/identity-kind", e.identityKind],
    ["airlock.dev/credential-id", e.credentialId],
    ["airlock.dev/policy", e.policy],
    ["airlock.dev/rule", e.rule],
    ["airlock.dev/action", e.verb],
    // Airlock's session (sessions group requests by Kubectl-Session or identity and time window).
    ["airlock.dev/session", e.sessionId ?? e.kubectlSession],
    ["airlock.dev/kubectl-session", e.kubectlSession],
    ["airlock.dev/kubectl-command", e.kubectlCommand],
    ["airlock.dev/exec-command", e.execCommand ? JSON.stringify(e.execCommand) : null],
    ["authorization.k8s.io/reason", e.reason],
  ];
  for (const [key, value] of optional) if (value) annotations[key] = value;
  const completed = e.completedAt !== null && e.status !== null;
  const event: K8sAuditEvent = {
    kind: "Event",
    apiVersion: "audit.k8s.io/v1",
    level: "Metadata",
    auditID: e.id,
    stage: completed ? "ResponseComplete" : "RequestReceived",
    requestURI: e.path,
    verb: K8S_VERBS.has(e.verb) ? e.verb : (METHOD_VERBS[e.method] ?? e.method.toLowerCase()),
    user,
    sourceIPs: [e.sourceAddress],
    userAgent: e.userAgent,
    requestReceivedTimestamp: microTime(e.time),
    stageTimestamp: microTime(e.completedAt ?? e.time),
    annotations,
  };
  if (Object.keys(objectRef).length) event.objectRef = objectRef;
  if (completed && e.status !== null) {
    event.responseStatus = { metadata: {}, code: e.status };
    if (e.status >= 400) {
      event.responseStatus.status = "Failure";
      if (e.reason) event.responseStatus.message = e.reason;
    }
  }
  return event;
}

/** Airlock's own line for a request event. */
export function requestLine(
  e: AuditEvent,
  record: Pick<AuditRecord, "seq" | "hash">,
): Record<string, unknown> {
  return { type: REQUEST, seq: record.seq, hash: record.hash, ...e };
}

/** Airlock's own line for a note (review step, identity change, …). */
export function noteLine(record: AuditRecord): Record<string, unknown> {
  const body = JSON.parse(record.body) as { data: Record<string, unknown> };
  return {
    type: record.type,
    seq: record.seq,
    hash: record.hash,
    id: record.ref,
    time: record.time,
    ...body.data,
  };
}

/** Lines of an export, oldest first: one per request (at its begin record) and, for jsonl, one per note. */
export async function* exportLines(
  store: AuditStore,
  opts: { format: ExportFormat; since?: string; pageSize?: number },
): AsyncGenerator<string> {
  const page = opts.pageSize ?? 500;
  const sinceMs = opts.since === undefined ? undefined : Date.parse(opts.since);
  let after = opts.since ? ((await store.audit.seqAt(opts.since)) ?? Number.MAX_SAFE_INTEGER) - 1 : 0;
  for (;;) {
    const records = await store.audit.records({ afterSeq: after, limit: page });
    if (records.length === 0) return;
    const ids = records.filter((r) => r.type === REQUEST).map((r) => r.ref);
    const events = new Map((await store.audit.eventsByIds(ids)).map((e) => [e.id, e]));
    for (const record of records) {
      // Completion records carry the completion time, so the first record after `since` may precede older begins.
      if (sinceMs !== undefined && Date.parse(record.time) < sinceMs) continue;
      if (record.type === REQUEST) {
        const event = events.get(record.ref);
        if (!event) continue;
        yield JSON.stringify(opts.format === "k8s" ? toK8sEvent(event) : requestLine(event, record));
      } else if (record.type !== REQUEST_COMPLETED && opts.format === "jsonl") {
        yield JSON.stringify(noteLine(record));
      }
    }
    after = records[records.length - 1]?.seq ?? after;
  }
}

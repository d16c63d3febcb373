// Audit search: filters the admin API supports (identity, verb, resource, namespace, decision, time), pages with the
// cursor, a detail panel per event, and the hash chain's verification status.
import { type FormEvent, useState } from "react";
import { getJson, query } from "../api.ts";
import { Empty, ErrorBox, Field, localToIso, Time, useLoad } from "../components/common.tsx";
import { U, UArgv, UName } from "../components/Untrusted.tsx";
import type { AuditEvent } from "../types.ts";

interface VerifyReport {
  ok: boolean;
  records: number;
  checkpoints: number;
  signedThrough: number;
  problems: { seq?: number; kind?: string; message?: string }[];
}

const EMPTY_FILTERS = {
  identity: "",
  verb: "",
  resource: "",
  namespace: "",
  decision: "",
  since: "",
  until: "",
};

export function AuditPage() {
  const [draft, setDraft] = useState(EMPTY_FILTERS);
  const [filters, setFilters] = useState(EMPTY_FILTERS);
  const [cursor, setCursor] = useState<string | undefined>(undefined);
  const [selected, setSelected] = useState<AuditEvent | undefined>(undefined);
  const search = useLoad(
    () =>
      getJson<{ items: AuditEvent[]; nextCursor: string | null }>(
        `/airlock/v1/audit${query({
          ...filters,
          since: localToIso(filters.since),
          until: localToIso(filters.until),
          limit: 50,
          cursor,
        })}`,
      ),
    [filters, cursor],
  );
  const verify = useLoad(() => getJson<VerifyReport>("/airlock/v1/audit/verify"), []);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setCursor(undefined);
    setFilters(draft);
  };
  const set = (k: keyof typeof EMPTY_FILTERS) => (e: { target: { value: string } }) =>
    setDraft({ ...draft, [k]: e.target.value });
  const items = search.data?.items ?? [];
  return (
    <section aria-labelledby="audit-h">
      <div className="page-head">
        <h1 id="audit-h">Audit</h1>
        <ChainStatus report={verify.data} error={verify.error} loading={verify.loading} />
      </div>
      <form className="filters" onSubmit={submit} aria-label="Audit search">
        <Field label="Identity">
          <input value={draft.identity} onChange={set("identity")} name="identity" />
        </Field>
        <Field label="Verb">
          <input value={draft.verb} onChange={set("verb")} name="verb" placeholder="delete" />
        </Field>
        <Field label="Resource">
          <input value={draft.resource} onChange={set("resource")} name="resource" placeholder="pods" />
        </Field>
        <Field label="Namespace">
          <input value={draft.namespace} onChange={set("namespace")} name="namespace" />
        </Field>
        <Field label="Decision">
          <select value={draft.decision} onChange={set("decision")} name="decision">
            <option value="">any</option>
            <option>allow</option>
            <option>deny</option>
            <option>error</option>
          </select>
        </Field>
        <Field label="Since">
          <input type="datetime-local" value={draft.since} onChange={set("since")} />
        </Field>
        <Field label="Until">
          <input type="datetime-local" value={draft.until} onChange={set("until")} />
        </Field>
        <button type="submit">Search</button>
      </form>
      <ErrorBox error={search.error} />
      {!search.loading && !search.error && items.length === 0 && <Empty>No audit events match.</Empty>}
      <div className="split">
        {items.length > 0 && (
          <table className="list">
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">Identity</th>
                <th scope="col">Request</th>
                <th scope="col">Decision</th>
                <th scope="col">Status</th>
              </tr>
            </thead>
            <tbody>
              {items.map((e) => (
                <tr key={e.id} className={selected?.id === e.id ? "selected" : ""}>
                  <td>
                    <Time iso={e.time} />
                  </td>
                  <td>{e.identityName === null ? "—" : <UName text={e.identityName} />}</td>
                  <td>
                    <button type="button" className="linklike" onClick={() => setSelected(e)}>
                      <U
                        text={`${e.verb} ${e.resource}${e.subresource ? `/${e.subresource}` : ""} ${e.name}${e.namespace ? ` -n ${e.namespace}` : ""}`}
                      />
                    </button>
                  </td>
                  <td>
                    <span className={`decision ${e.decision}`}>{e.decision}</span>
                  </td>
                  <td>{e.status ?? "…"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {selected && <AuditDetail event={selected} onClose={() => setSelected(undefined)} />}
      </div>
      <div className="pager">
        {cursor && (
          <button type="button" onClick={() => setCursor(undefined)}>
            Newest
          </button>
        )}
        {search.data?.nextCursor && (
          <button type="button" onClick={() => setCursor(search.data?.nextCursor ?? undefined)}>
            Older →
          </button>
        )}
      </div>
    </section>
  );
}

function ChainStatus(props: { report: VerifyReport | undefined; error: unknown; loading: boolean }) {
  if (props.loading && !props.report) return <span className="chain muted">Verifying the audit chain…</span>;
  if (props.error) return <ErrorBox error={props.error} />;
  const r = props.report;
  if (!r) return null;
  return (
    <span className={`chain ${r.ok ? "ok" : "bad"}`} role="status" data-testid="chain-status">
      {r.ok
        ? `Chain verified: ${r.records} records, ${r.checkpoints} signed checkpoints`
        : `Chain verification FAILED: ${r.problems.length} problem(s) — ${r.problems[0]?.message ?? ""}`}
    </span>
  );
}

function AuditDetail({ event, onClose }: { event: AuditEvent; onClose: () => void }) {
  return (
    <aside className="detail card" aria-label="Audit event">
      <div className="page-head">
        <h2>Event</h2>
        <button type="button" onClick={onClose}>
          Close
        </button>
      </div>
      <dl className="facts">
        <dt>Time</dt>
        <dd>
          <Time iso={event.time} />
        </dd>
        <dt>Identity</dt>
        <dd>
          {event.identityName === null ? "—" : <UName text={event.identityName} />} ({event.identityKind})
        </dd>
        <dt>Request</dt>
        <dd>
          <code>
            <U text={`${event.method} ${event.path}`} />
          </code>
        </dd>
        {event.execCommand && (
          <>
            <dt>Command</dt>
            <dd>
              <UArgv argv={event.execCommand} />
            </dd>
          </>
        )}
        <dt>Decision</dt>
        <dd>
          {event.decision} by {event.policy ?? "—"}/{event.rule ?? "—"}
          {event.reason ? (
            <>
              : <U text={event.reason} />
            </>
          ) : (
            ""
          )}
        </dd>
        <dt>Outcome</dt>
        <dd>
          HTTP {event.status ?? "(not completed)"}
          {event.durationMs !== null ? ` in ${event.durationMs} ms` : ""}
        </dd>
        <dt>Client</dt>
        <dd>
          {event.sourceAddress} ·{" "}
          <span className="claim">
            client says: user agent <U text={event.userAgent} max={300} />
            {event.kubectlCommand ? (
              <>
                , command <U text={event.kubectlCommand} max={300} />
              </>
            ) : (
              ""
            )}
          </span>
        </dd>
        {event.justification && (
          <>
            <dt>Justification</dt>
            <dd className="claim">
              client says: <U text={event.justification} max={2000} />
            </dd>
          </>
        )}
      </dl>
      <details>
        <summary>Raw event</summary>
        <pre>{JSON.stringify(event, null, 2)}</pre>
      </details>
    </aside>
  );
}

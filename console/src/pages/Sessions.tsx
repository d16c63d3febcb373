// Sessions: requests grouped per kubectl invocation or identity window. The admin API filters by identity and time;
// cluster, until, has-exec and has-denials are applied here to the page it returns. The list refreshes every 5 s.
import { type FormEvent, useState } from "react";
import { getJson, query } from "../api.ts";
import { Empty, ErrorBox, Field, localToIso, Time, useLoad } from "../components/common.tsx";
import { SessionSummary, U, UName } from "../components/Untrusted.tsx";
import { Link } from "../router.tsx";
import type { SessionRecord } from "../types.ts";

// Sessions grow while they run (the gateway saves their counters every second): the list refreshes itself.
const REFRESH_MS = 5000;
const EMPTY = { identity: "", cluster: "", since: "", until: "", exec: false, denials: false };

/** Sessions with an exec or attach: from what the gateway decoded, not what the client claimed (older sessions: claims). */
export function hasExec(s: SessionRecord): boolean {
  if (s.actions) return s.actions.some((a) => /^(exec|attach) /.test(a));
  return s.commands.some((c) => /\b(exec|attach|cp)\b/.test(c));
}

export function SessionsPage() {
  const [draft, setDraft] = useState(EMPTY);
  const [filters, setFilters] = useState(EMPTY);
  const list = useLoad(
    () =>
      getJson<{ items: SessionRecord[] }>(
        `/airlock/v1/sessions${query({ identity: filters.identity, since: localToIso(filters.since), limit: 500 })}`,
      ),
    [filters.identity, filters.since],
    REFRESH_MS,
  );
  const until = localToIso(filters.until);
  const items = (list.data?.items ?? []).filter(
    (s) =>
      (!filters.cluster || s.cluster === filters.cluster) &&
      (!until || s.startedAt <= until) &&
      (!filters.exec || hasExec(s)) &&
      (!filters.denials || s.decisions.deny > 0),
  );
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setFilters(draft);
  };
  return (
    <section aria-labelledby="sessions-h">
      <h1 id="sessions-h">Sessions</h1>
      <form className="filters" onSubmit={submit} aria-label="Session filters">
        <Field label="Identity">
          <input value={draft.identity} onChange={(e) => setDraft({ ...draft, identity: e.target.value })} />
        </Field>
        <Field label="Cluster">
          <input value={draft.cluster} onChange={(e) => setDraft({ ...draft, cluster: e.target.value })} />
        </Field>
        <Field label="Active since">
          <input
            type="datetime-local"
            value={draft.since}
            onChange={(e) => setDraft({ ...draft, since: e.target.value })}
          />
        </Field>
        <Field label="Started before">
          <input
            type="datetime-local"
            value={draft.until}
            onChange={(e) => setDraft({ ...draft, until: e.target.value })}
          />
        </Field>
        <label className="check">
          <input
            type="checkbox"
            checked={draft.exec}
            onChange={(e) => setDraft({ ...draft, exec: e.target.checked })}
          />
          has exec
        </label>
        <label className="check">
          <input
            type="checkbox"
            checked={draft.denials}
            onChange={(e) => setDraft({ ...draft, denials: e.target.checked })}
          />
          has denials
        </label>
        <button type="submit">Filter</button>
      </form>
      <ErrorBox error={list.error} />
      {!list.loading && !list.error && items.length === 0 && <Empty>No sessions match.</Empty>}
      {items.length > 0 && (
        <table className="list">
          <thead>
            <tr>
              <th scope="col">Started</th>
              <th scope="col">Identity</th>
              <th scope="col">Cluster</th>
              <th scope="col">Commands</th>
              <th scope="col">Requests</th>
              <th scope="col">Allow / deny / review</th>
            </tr>
          </thead>
          <tbody>
            {items.map((s) => (
              <tr key={s.id} data-session={s.id}>
                <td>
                  <Link to={`/sessions/${s.id}`}>
                    <Time iso={s.startedAt} />
                  </Link>
                </td>
                <td>
                  <UName text={s.identityName} />
                </td>
                <td>
                  <U text={s.cluster} />
                </td>
                <td>
                  <SessionSummary s={s} />
                </td>
                <td>{s.requests}</td>
                <td>
                  {s.decisions.allow} /{" "}
                  <span className={s.decisions.deny ? "bad" : ""}>{s.decisions.deny}</span> /{" "}
                  {s.decisions.review}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

// The reviews inbox: pending reviews, newest first, refreshed every two seconds; other states on request.
import { useState } from "react";
import { argvInline } from "../../../src/shared/render.ts";
import { getJson, query } from "../api.ts";
import { Empty, ErrorBox, Field, Time, useLoad } from "../components/common.tsx";
import { U } from "../components/Untrusted.tsx";
import { Link } from "../router.tsx";
import type { Review } from "../types.ts";

export const POLL_MS = 2000;

export function describeRequest(r: Review["request"]): string {
  const what = [r.resource + (r.subresource ? `/${r.subresource}` : ""), r.name].filter(Boolean).join(" ");
  const where = r.namespace ? ` in ${r.namespace}` : "";
  const exec = r.execCommand ? ` — ${argvInline(r.execCommand)}` : "";
  return `${r.action} ${what}${where}${exec}`;
}

export function ReviewsPage() {
  const [state, setState] = useState("pending");
  const list = useLoad(
    () => getJson<{ items: Review[] }>(`/airlock/v1/reviews${query({ state, limit: 200 })}`),
    [state],
    POLL_MS,
  );
  const items = list.data?.items ?? [];
  return (
    <section aria-labelledby="reviews-h">
      <div className="page-head">
        <h1 id="reviews-h">Reviews</h1>
        <Field label="State">
          <select value={state} onChange={(e) => setState(e.target.value)}>
            {["pending", "approved", "denied", "executed", "expired", "withdrawn"].map((s) => (
              <option key={s}>{s}</option>
            ))}
            <option value="">all</option>
          </select>
        </Field>
        <span className="live" aria-live="polite">
          {state === "pending" ? `live · ${items.length} waiting` : `${items.length} shown`}
        </span>
      </div>
      <ErrorBox error={list.error} />
      {!list.loading && !list.error && items.length === 0 && (
        <Empty>
          {state === "pending" ? "Nothing is waiting for a review." : "No reviews in this state."}
        </Empty>
      )}
      {items.length > 0 && (
        <table className="list">
          <thead>
            <tr>
              <th scope="col">Requested</th>
              <th scope="col">Who</th>
              <th scope="col">What</th>
              <th scope="col">Policy rule</th>
              <th scope="col">State</th>
            </tr>
          </thead>
          <tbody>
            {items.map((r) => (
              <tr key={r.id} data-review={r.id}>
                <td>
                  <Time iso={r.createdAt} />
                </td>
                <td>
                  {r.requester.name} <span className="tag">{r.requester.kind}</span>
                </td>
                <td>
                  <Link to={`/reviews/${r.id}`}>
                    <U text={describeRequest(r.request)} max={300} />
                  </Link>
                  {r.justification && (
                    <div className="muted claim">
                      client says: <U text={r.justification} max={300} />
                    </div>
                  )}
                </td>
                <td>
                  <U text={`${r.policy}/${r.rule}`} />
                </td>
                <td>
                  <span className={`state ${r.state}`}>{r.state}</span>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

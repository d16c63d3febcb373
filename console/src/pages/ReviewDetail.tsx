// One review: who asks for what and why, the rule that held it, the request, the dry-run diff side by side (masked by
// the gateway), and approve / deny. The page keeps refreshing while the review is pending (the preview lands later).
import { type FormEvent, useState } from "react";
import { getJson, postJson } from "../api.ts";
import { ErrorBox, Field, Time, useLoad } from "../components/common.tsx";
import { DiffView } from "../components/DiffView.tsx";
import { U, UArgv, UBlock, UName } from "../components/Untrusted.tsx";
import { Link } from "../router.tsx";
import type { Review, ReviewEvent } from "../types.ts";
import { describeRequest, POLL_MS } from "./Reviews.tsx";

const GRANTS = [
  { value: "", label: "no grant (this request only)" },
  { value: "15m", label: "15 minutes" },
  { value: "1h", label: "1 hour" },
  { value: "4h", label: "4 hours" },
];

export function ReviewDetailPage({ id }: { id: string }) {
  const loaded = useLoad(
    () => getJson<{ review: Review; events: ReviewEvent[] }>(`/airlock/v1/reviews/${encodeURIComponent(id)}`),
    [id],
    POLL_MS,
  );
  const review = loaded.data?.review;
  if (!review) {
    return (
      <section>
        <p>
          <Link to="/reviews">← Reviews</Link>
        </p>
        <ErrorBox error={loaded.error} />
        {loaded.loading && <p className="muted">Loading review {id}…</p>}
      </section>
    );
  }
  const r = review.request;
  const query = [...new URLSearchParams(r.query).entries()];
  return (
    <section aria-labelledby="review-h">
      <p>
        <Link to="/reviews">← Reviews</Link>
      </p>
      <div className="page-head">
        <h1 id="review-h">
          <U text={describeRequest(r)} max={300} />
        </h1>
        <span className={`state ${review.state}`} data-testid="review-state">
          {review.state}
        </span>
      </div>
      <ErrorBox error={loaded.error} />
      <dl className="facts">
        <dt>Requested by</dt>
        <dd>
          <UName text={review.requester.name} /> ({review.requester.kind}
          {review.requester.groups.length ? (
            <>
              ; groups <U text={review.requester.groups.join(", ")} />
            </>
          ) : (
            ""
          )}
          )
        </dd>
        {/* The rest of the chain of who asked (issue 15): none of them may approve. */}
        {review.requester.onBehalfOf ? (
          <>
            <dt>On behalf of</dt>
            <dd data-testid="review-on-behalf-of">{review.requester.onBehalfOf} (may not approve it)</dd>
          </>
        ) : null}
        {review.requester.credentialId ? (
          <>
            <dt>Credential</dt>
            <dd>
              <code>{review.requester.credentialId}</code>
              {review.requester.sessionId ? (
                <>
                  {" "}
                  (session <code>{review.requester.sessionId}</code>)
                </>
              ) : null}
            </dd>
          </>
        ) : null}
        {review.endedReason ? (
          <>
            <dt>Ended</dt>
            <dd data-testid="review-ended">{review.endedReason}</dd>
          </>
        ) : null}
        <dt>When</dt>
        <dd>
          <Time iso={review.createdAt} /> · expires <Time iso={review.expiresAt} />
        </dd>
        <dt>Justification</dt>
        <dd data-testid="justification">
          {review.justification === null ? (
            <span className="muted">none given</span>
          ) : (
            <span className="claim">
              client says: <U text={review.justification} max={2000} />
            </span>
          )}
        </dd>
        <dt>Policy rule</dt>
        <dd>
          <U text={`${review.policy} / ${review.rule}`} /> — needs {review.requirement.approvals} approval(s)
          from{" "}
          <U
            text={[
              ...review.requirement.approvers.identities,
              ...review.requirement.approvers.groups.map((g) => `group ${g}`),
            ].join(", ")}
          />
        </dd>
        <dt>Cluster</dt>
        <dd>
          <U text={review.cluster} />
        </dd>
        {review.waiters > 0 && (
          <>
            <dt>Waiting</dt>
            <dd>{review.waiters} client(s) are waiting for this decision right now</dd>
          </>
        )}
      </dl>
      <h2>The request</h2>
      <dl className="facts" data-testid="request">
        <dt>Method</dt>
        <dd>
          <code>
            <U text={r.method} />
          </code>
        </dd>
        <dt>Path</dt>
        <dd>
          <code>
            <U text={r.path} />
          </code>
        </dd>
        <dt>Query</dt>
        <dd>
          {query.length === 0 ? (
            <span className="muted">none</span>
          ) : (
            <ul className="plain">
              {query.map(([k, v], i) => (
                // biome-ignore lint/suspicious/noArrayIndexKey: parameters are positional (repeats matter)
                <li key={i}>
                  <code>
                    <U text={k} max={200} /> = <U text={v} />
                  </code>
                </li>
              ))}
            </ul>
          )}
        </dd>
        <dt>Content-Type</dt>
        <dd>
          {r.contentType ? (
            <code>
              <U text={r.contentType} max={200} />
            </code>
          ) : (
            <span className="muted">none</span>
          )}
        </dd>
        {r.exec && (
          <>
            <dt>Exec</dt>
            <dd>
              container <U text={r.exec.container || "(default)"} />; stdin {r.exec.stdin ? "yes" : "no"}; tty{" "}
              {r.exec.tty ? "yes" : "no"}
            </dd>
          </>
        )}
        {r.execCommand && (
          <>
            <dt>Command (one argument per line)</dt>
            <dd>
              <UArgv argv={r.execCommand} />
            </dd>
          </>
        )}
        <dt>Body</dt>
        <dd>
          {r.body ? (
            <>
              <span className="muted">Secret values masked; {r.body.length} characters</span>
              <UBlock text={r.body} testId="request-body" />
            </>
          ) : (
            <span className="muted">none</span>
          )}
        </dd>
      </dl>
      <h2>What would change</h2>
      {!review.preview && <p className="muted">The dry run is being computed…</p>}
      {review.preview && (
        <>
          <p className="muted">
            <U text={review.preview.summary} />
          </p>
          {review.preview.error && (
            <div className="warning" data-testid="preview-error">
              The preview failed: <U text={review.preview.error} max={2000} /> — nothing below shows the
              effect; judge the request and its body above.
            </div>
          )}
          <DiffView diff={review.preview.diff} />
          {review.preview.dependents.length > 0 && (
            <>
              <h3>Deleted with it</h3>
              <ul>
                {review.preview.dependents.map((d) => (
                  <li key={`${d.kind}/${d.namespace}/${d.name}`}>
                    <U text={`${d.kind} ${d.namespace ? `${d.namespace}/` : ""}${d.name}`} />
                  </li>
                ))}
              </ul>
            </>
          )}
        </>
      )}
      {review.state === "pending" ? (
        <Decide id={review.id} onDone={loaded.reload} />
      ) : (
        <Outcome review={review} />
      )}
      <h2>History</h2>
      <ol className="timeline">
        {(loaded.data?.events ?? []).map((e, i) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: events are append-only
          <li key={i}>
            <Time iso={e.time} /> <strong>{e.type}</strong> by <UName text={e.actor} />
            {e.detail ? (
              <>
                {" "}
                — <U text={e.detail} />
              </>
            ) : (
              ""
            )}
          </li>
        ))}
      </ol>
    </section>
  );
}

function Outcome({ review }: { review: Review }) {
  return (
    <div className="outcome" role="status">
      {review.approvals.map((a) => (
        <p key={a.by + a.at}>
          Approved by <UName text={a.by} /> at <Time iso={a.at} />
          {a.reason ? (
            <>
              : <U text={a.reason} />
            </>
          ) : (
            ""
          )}
          {review.approvedUntil && (
            <>
              {" "}
              (valid until <Time iso={review.approvedUntil} />)
            </>
          )}
        </p>
      ))}
      {review.denial && (
        <p>
          Denied by <UName text={review.denial.by} /> at <Time iso={review.denial.at} />:{" "}
          <U text={review.denial.reason} />
        </p>
      )}
      {!review.approvals.length && !review.denial && <p>This review is {review.state}.</p>}
    </div>
  );
}

function Decide({ id, onDone }: { id: string; onDone: () => void }) {
  const [grant, setGrant] = useState("");
  const [approveReason, setApproveReason] = useState("");
  const [denyReason, setDenyReason] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const act = (path: string, body: Record<string, string>) => async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await postJson(`/airlock/v1/reviews/${encodeURIComponent(id)}/${path}`, body);
      onDone();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="decide">
      <ErrorBox error={error} />
      <form
        className="card"
        onSubmit={act("approve", {
          ...(approveReason ? { reason: approveReason } : {}),
          ...(grant ? { grant } : {}),
        })}
      >
        <h2>Approve</h2>
        <Field label="Reason (optional)">
          <input value={approveReason} onChange={(e) => setApproveReason(e.target.value)} maxLength={2000} />
        </Field>
        <Field label="Also allow the same kind of request for">
          <select value={grant} onChange={(e) => setGrant(e.target.value)}>
            {GRANTS.map((g) => (
              <option key={g.value} value={g.value}>
                {g.label}
              </option>
            ))}
          </select>
        </Field>
        <button type="submit" className="approve" disabled={busy}>
          Approve
        </button>
      </form>
      <form className="card" onSubmit={act("deny", { reason: denyReason })}>
        <h2>Deny</h2>
        <Field label="Reason (the requester sees it)">
          <input
            value={denyReason}
            onChange={(e) => setDenyReason(e.target.value)}
            required
            maxLength={2000}
            name="deny-reason"
          />
        </Field>
        <button type="submit" className="deny" disabled={busy || !denyReason.trim()}>
          Deny
        </button>
      </form>
    </div>
  );
}

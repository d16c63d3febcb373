// One session: its request timeline with each decision, and its recordings (exec/attach replayed in the page).
import { useState } from "react";
import { argvInline } from "../../../src/shared/render.ts";
import { getJson, getText } from "../api.ts";
import { ErrorBox, Time, useLoad } from "../components/common.tsx";
import { Player } from "../components/Player.tsx";
import { SessionSummary, U, UName } from "../components/Untrusted.tsx";
import { parseCast } from "../lib/asciicast.ts";
import { Link } from "../router.tsx";
import type { AuditEvent, RecordingRecord, SessionRecord } from "../types.ts";

export function SessionDetailPage({ id }: { id: string }) {
  const loaded = useLoad(
    () =>
      getJson<{ session: SessionRecord; events: AuditEvent[]; recordings: RecordingRecord[] }>(
        `/airlock/v1/sessions/${encodeURIComponent(id)}`,
      ),
    [id],
  );
  const s = loaded.data?.session;
  return (
    <section aria-labelledby="session-h">
      <p>
        <Link to="/sessions">← Sessions</Link>
      </p>
      <ErrorBox error={loaded.error} />
      {s && (
        <>
          <h1 id="session-h">
            Session of <UName text={s.identityName} /> on <U text={s.cluster} />
          </h1>
          <p className="muted">
            <Time iso={s.startedAt} /> – <Time iso={s.lastSeenAt} /> · {s.requests} requests ·{" "}
            <SessionSummary s={s} />
          </p>
          <h2>Recordings</h2>
          {(loaded.data?.recordings ?? []).length === 0 && <p className="empty">No streams were recorded.</p>}
          {(loaded.data?.recordings ?? []).map((r) => (
            <Recording key={r.id} sessionId={s.id} recording={r} />
          ))}
          <h2>Timeline</h2>
          <table className="list">
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">Request</th>
                <th scope="col">Decision</th>
                <th scope="col">Status</th>
              </tr>
            </thead>
            <tbody>
              {(loaded.data?.events ?? []).map((e) => (
                <tr key={e.id}>
                  <td>
                    <Time iso={e.time} />
                  </td>
                  <td>
                    <U
                      text={`${e.verb} ${e.resource}${e.subresource ? `/${e.subresource}` : ""} ${e.name}${e.namespace ? ` -n ${e.namespace}` : ""}`}
                    />
                    {e.execCommand && (
                      <>
                        {" "}
                        — <U text={argvInline(e.execCommand)} />
                      </>
                    )}
                  </td>
                  <td>
                    <span className={`decision ${e.decision}`}>{e.decision}</span>{" "}
                    <span className="muted">
                      {e.policy}/{e.rule}
                    </span>
                    {e.reason && (
                      <div className="muted">
                        <U text={e.reason} />
                      </div>
                    )}
                  </td>
                  <td>{e.status ?? "…"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}

function Recording({ sessionId, recording }: { sessionId: string; recording: RecordingRecord }) {
  const [open, setOpen] = useState(false);
  const argv = Array.isArray(recording.detail.command)
    ? (recording.detail.command as string[]).join(" ")
    : "";
  return (
    <div className="card recording">
      <p>
        <strong>{recording.kind}</strong> {argv && <code>{argv}</code>} · <Time iso={recording.startedAt} /> ·{" "}
        {recording.bytes} bytes
        {recording.exitCode !== null ? ` · exit ${recording.exitCode}` : ""}
        {recording.truncated ? " · truncated" : ""}{" "}
        {recording.format === "asciicast" && (
          <button type="button" onClick={() => setOpen(!open)} aria-expanded={open}>
            {open ? "Hide" : "Replay"}
          </button>
        )}
      </p>
      {open && <CastLoader url={`/airlock/v1/sessions/${sessionId}/recordings/${recording.id}`} />}
    </div>
  );
}

function CastLoader({ url }: { url: string }) {
  const loaded = useLoad(() => getText(url), [url]);
  if (loaded.error) return <ErrorBox error={loaded.error} />;
  if (loaded.data === undefined) return <p className="muted">Loading the recording…</p>;
  return <Player cast={parseCast(loaded.data)} />;
}

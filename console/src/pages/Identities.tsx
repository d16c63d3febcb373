// Identities: who exists, when each was last used, create (the token is shown once), disable/enable, revoke.
// Changes need the airlock:admins group; the server says so (403) when the signed-in human lacks it.
import { type FormEvent, useState } from "react";
import { getJson, postJson } from "../api.ts";
import { Empty, ErrorBox, Field, Time, useLoad } from "../components/common.tsx";
import { UName } from "../components/Untrusted.tsx";
import type { Identity } from "../types.ts";

export function IdentitiesPage() {
  const list = useLoad(() => getJson<{ items: Identity[] }>("/airlock/v1/identities"), []);
  const [error, setError] = useState<unknown>(undefined);
  const [confirming, setConfirming] = useState<string | undefined>(undefined);
  const act = async (name: string, action: "disable" | "enable" | "revoke") => {
    setError(undefined);
    try {
      await postJson(`/airlock/v1/identities/${encodeURIComponent(name)}/${action}`);
      setConfirming(undefined);
      list.reload();
    } catch (err) {
      setError(err);
    }
  };
  const items = list.data?.items ?? [];
  return (
    <section aria-labelledby="identities-h">
      <h1 id="identities-h">Identities</h1>
      <CreateIdentity onCreated={list.reload} />
      <ErrorBox error={error ?? list.error} />
      {!list.loading && !list.error && items.length === 0 && <Empty>No identities yet.</Empty>}
      {items.length > 0 && (
        <table className="list">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Kind</th>
              <th scope="col">Groups</th>
              <th scope="col">State</th>
              <th scope="col">Last used</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {items.map((i) => (
              <tr key={i.id} data-identity={i.name}>
                <td>
                  <UName text={i.name} />
                </td>
                <td>{i.kind}</td>
                <td>{i.groups.join(", ") || <span className="muted">none</span>}</td>
                <td>
                  <span className={`state ${i.state}`}>{i.state}</span>
                </td>
                <td>
                  <Time iso={i.lastUsedAt} />
                </td>
                <td>
                  <div className="actions">
                    {i.state === "active" && (
                      <button type="button" onClick={() => act(i.name, "disable")}>
                        Disable
                      </button>
                    )}
                    {i.state === "disabled" && (
                      <button type="button" onClick={() => act(i.name, "enable")}>
                        Enable
                      </button>
                    )}
                    {i.state !== "revoked" &&
                      (confirming === i.name ? (
                        <>
                          <button type="button" className="deny" onClick={() => act(i.name, "revoke")}>
                            Confirm revoke {i.name}
                          </button>
                          <button type="button" onClick={() => setConfirming(undefined)}>
                            Cancel
                          </button>
                        </>
                      ) : (
                        <button type="button" className="deny" onClick={() => setConfirming(i.name)}>
                          Revoke
                        </button>
                      ))}
                  </div>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <Delegations />
    </section>
  );
}

interface Delegation {
  id: string;
  human: string;
  agent: string;
  createdBy: string;
  expiresAt: string;
  revokedAt: string | null;
  revokedBy: string | null;
}

/** Who may act on whose behalf (issue 15): a human's consent, revocable by that human or an admin. */
function Delegations() {
  const list = useLoad(() => getJson<{ items: Delegation[] }>("/airlock/v1/delegations"), []);
  const [error, setError] = useState<unknown>(undefined);
  const items = list.data?.items ?? [];
  const revoke = async (id: string) => {
    setError(undefined);
    try {
      await postJson(`/airlock/v1/delegations/${encodeURIComponent(id)}/revoke`);
      list.reload();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <section aria-labelledby="delegations-h">
      <h2 id="delegations-h">Delegations</h2>
      <p className="muted">
        An agent acts on behalf of a human only while that human&apos;s delegation stands (
        <code>airlock identity delegate HUMAN --to AGENT --for 8h</code>).
      </p>
      <ErrorBox error={error ?? list.error} />
      {!list.loading && !list.error && items.length === 0 && <Empty>No delegations.</Empty>}
      {items.length > 0 && (
        <table className="list" data-testid="delegations">
          <thead>
            <tr>
              <th scope="col">Human</th>
              <th scope="col">May be acted for by</th>
              <th scope="col">Given by</th>
              <th scope="col">Until</th>
              <th scope="col">State</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {items.map((d) => {
              const active = d.revokedAt === null && Date.parse(d.expiresAt) > Date.now();
              return (
                <tr key={d.id} data-delegation={d.id}>
                  <td>{d.human}</td>
                  <td>{d.agent}</td>
                  <td>{d.createdBy}</td>
                  <td>
                    <Time iso={d.expiresAt} />
                  </td>
                  <td>{d.revokedAt ? `revoked by ${d.revokedBy ?? "?"}` : active ? "active" : "expired"}</td>
                  <td>
                    {active && (
                      <button type="button" className="deny" onClick={() => revoke(d.id)}>
                        Revoke
                      </button>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </section>
  );
}

function CreateIdentity({ onCreated }: { onCreated: () => void }) {
  const [name, setName] = useState("");
  const [kind, setKind] = useState("agent");
  const [groups, setGroups] = useState("");
  const [created, setCreated] = useState<{ name: string; token: string } | undefined>(undefined);
  const [copied, setCopied] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(undefined);
    try {
      const result = await postJson<{ identity: Identity; token: string }>("/airlock/v1/identities", {
        name,
        kind,
        groups: groups
          .split(",")
          .map((g) => g.trim())
          .filter(Boolean),
      });
      setCreated({ name: result.identity.name, token: result.token });
      setCopied(false);
      setName("");
      setGroups("");
      onCreated();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <div className="card">
      <form className="filters" onSubmit={submit} aria-label="Create an identity">
        <Field label="New identity name">
          <input value={name} onChange={(e) => setName(e.target.value)} required name="new-name" />
        </Field>
        <Field label="Kind">
          <select value={kind} onChange={(e) => setKind(e.target.value)}>
            <option>agent</option>
            <option>human</option>
          </select>
        </Field>
        <Field label="Groups (comma-separated)">
          <input value={groups} onChange={(e) => setGroups(e.target.value)} />
        </Field>
        <button type="submit">Create</button>
      </form>
      <ErrorBox error={error} />
      {created && (
        <div className="token" role="status">
          <p>
            Token for <strong>{created.name}</strong> — shown only now; store it before leaving this page:
          </p>
          <code data-testid="new-token">{created.token}</code>{" "}
          <button
            type="button"
            onClick={() =>
              navigator.clipboard.writeText(created.token).then(
                () => setCopied(true),
                () => setCopied(false),
              )
            }
          >
            {copied ? "Copied" : "Copy"}
          </button>{" "}
          <button type="button" onClick={() => setCreated(undefined)}>
            Done
          </button>
        </div>
      )}
    </div>
  );
}

// Policies, read-only: the loaded documents and their rules; and a what-if form that asks the live evaluator
// (POST /airlock/v1/policies/evaluate) what would happen to a described request.
import { type FormEvent, useState } from "react";
import { getJson, postJson } from "../api.ts";
import { Empty, ErrorBox, Field, useLoad } from "../components/common.tsx";

interface PolicyDoc {
  metadata: { name: string };
  spec: { description?: string; subjects?: unknown[]; rules?: Record<string, unknown>[] };
  source: { file: string; managed?: boolean };
}

interface Decision {
  effect: string;
  policy: string;
  rule: string;
  message?: string;
}

export function PoliciesPage() {
  const list = useLoad(
    () =>
      getJson<{ items: PolicyDoc[]; loadedAt?: string; lastReloadErrors: unknown }>("/airlock/v1/policies"),
    [],
  );
  const items = list.data?.items ?? [];
  return (
    <section aria-labelledby="policies-h">
      <h1 id="policies-h">Policies</h1>
      <WhatIf />
      <ErrorBox error={list.error} />
      {!list.loading && !list.error && items.length === 0 && <Empty>No policies are loaded.</Empty>}
      {items.map((p) => (
        <article key={p.metadata.name} className="card policy">
          <h2>{p.metadata.name}</h2>
          <p className="muted">
            {p.spec.description} — {p.source.file}
          </p>
          <p>
            Subjects: <code>{JSON.stringify(p.spec.subjects ?? [])}</code>
          </p>
          <table className="list">
            <thead>
              <tr>
                <th scope="col">Rule</th>
                <th scope="col">Effect</th>
                <th scope="col">Matches</th>
              </tr>
            </thead>
            <tbody>
              {(p.spec.rules ?? []).map((r) => {
                const { name, effect, ...rest } = r;
                return (
                  <tr key={String(name)}>
                    <td>{String(name)}</td>
                    <td>
                      <span className={`effect ${String(effect)}`}>{String(effect)}</span>
                    </td>
                    <td>
                      <code>{JSON.stringify(rest)}</code>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </article>
      ))}
    </section>
  );
}

function WhatIf() {
  const [form, setForm] = useState({
    identity: "demo-agent",
    kind: "agent",
    groups: "agents",
    verb: "delete",
    resource: "deployments",
    apiGroup: "apps",
    namespace: "prod",
    name: "web",
    command: "",
  });
  const [result, setResult] = useState<{ decision: Decision; matched?: unknown[] } | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const set = (k: keyof typeof form) => (e: { target: { value: string } }) =>
    setForm({ ...form, [k]: e.target.value });
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(undefined);
    setResult(undefined);
    const command = form.command.trim() ? form.command.trim().split(/\s+/) : undefined;
    try {
      setResult(
        await postJson("/airlock/v1/policies/evaluate", {
          identity: {
            name: form.identity,
            kind: form.kind,
            groups: form.groups
              .split(",")
              .map((g) => g.trim())
              .filter(Boolean),
          },
          request: {
            verb: form.verb,
            resource: form.resource,
            apiGroup: form.apiGroup,
            ...(form.namespace ? { namespace: form.namespace } : {}),
            ...(form.name ? { name: form.name } : {}),
            ...(command ? { exec: { command } } : {}),
          },
        }),
      );
    } catch (err) {
      setError(err);
    }
  };
  return (
    <div className="card">
      <h2>What if…</h2>
      <form className="filters" onSubmit={submit} aria-label="What-if">
        <Field label="Identity">
          <input value={form.identity} onChange={set("identity")} />
        </Field>
        <Field label="Kind">
          <select value={form.kind} onChange={set("kind")}>
            <option>agent</option>
            <option>human</option>
          </select>
        </Field>
        <Field label="Groups">
          <input value={form.groups} onChange={set("groups")} />
        </Field>
        <Field label="Verb">
          <input value={form.verb} onChange={set("verb")} />
        </Field>
        <Field label="API group">
          <input value={form.apiGroup} onChange={set("apiGroup")} />
        </Field>
        <Field label="Resource">
          <input value={form.resource} onChange={set("resource")} />
        </Field>
        <Field label="Namespace">
          <input value={form.namespace} onChange={set("namespace")} />
        </Field>
        <Field label="Name">
          <input value={form.name} onChange={set("name")} />
        </Field>
        <Field label="Exec command">
          <input value={form.command} onChange={set("command")} placeholder="rm -rf /" />
        </Field>
        <button type="submit">Evaluate</button>
      </form>
      <ErrorBox error={error} />
      {result && (
        <p className={`whatif effect ${result.decision.effect}`} role="status">
          <strong>{result.decision.effect}</strong> by {result.decision.policy}/{result.decision.rule}
          {result.decision.message ? `: ${result.decision.message}` : ""}
        </p>
      )}
    </div>
  );
}

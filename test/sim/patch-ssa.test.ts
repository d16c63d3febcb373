import assert from "node:assert/strict";
import { test } from "node:test";
import type { KubeObject, ManagedFieldsEntry } from "@airlock/sim/contracts.ts";
import { serverSideApply, trackUpdate } from "@airlock/sim/patch/index.ts";
import { StatusError } from "@airlock/sim/status.ts";

const T1 = "2026-01-01T00:00:00Z";
const T2 = "2026-01-01T00:01:00Z";
const apply = (
  live: KubeObject | undefined,
  cfg: KubeObject,
  manager = "kubectl",
  force = false,
  now = T1,
): KubeObject => serverSideApply(live, cfg, { manager, force, apiVersion: "v1", now });

const cmCfg = (data: Record<string, string>): KubeObject => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name: "cm1", namespace: "default" },
  data,
});

const entry = (o: KubeObject, manager: string): ManagedFieldsEntry | undefined =>
  o.metadata.managedFields?.find((e) => e.manager === manager);

function conflict(fn: () => unknown): StatusError {
  let caught: StatusError | undefined;
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof StatusError, String(err));
    caught = err;
    return true;
  });
  assert.equal(caught!.status.reason, "Conflict");
  assert.equal(caught!.status.code, 409);
  return caught!;
}

test("a server-side apply that creates an object makes the applier own every applied field", () => {
  const out = apply(undefined, cmCfg({ a: "1", b: "2" }));
  assert.deepEqual(out.data, { a: "1", b: "2" });
  assert.deepEqual(out.metadata.managedFields, [
    {
      manager: "kubectl",
      operation: "Apply",
      apiVersion: "v1",
      time: T1,
      fieldsType: "FieldsV1",
      fieldsV1: { "f:data": { "f:a": {}, "f:b": {} } },
    },
  ]);
});

test("applying the same configuration twice changes nothing, not even the timestamp", () => {
  const first = apply(undefined, cmCfg({ a: "1" }));
  const second = apply(first, cmCfg({ a: "1" }), "kubectl", false, T2);
  assert.deepEqual(second, first);
});

test("a field the manager no longer applies is removed, a changed one updated", () => {
  const first = apply(undefined, cmCfg({ a: "1", b: "2" }));
  const second = apply(first, cmCfg({ a: "3" }), "kubectl", false, T2);
  assert.deepEqual(second.data, { a: "3" });
  assert.deepEqual(entry(second, "kubectl")?.fieldsV1, { "f:data": { "f:a": {} } });
  assert.equal(entry(second, "kubectl")?.time, T2);
});

test("applying another manager's field with a different value is a 409 naming the field and manager", () => {
  const live = apply(undefined, cmCfg({ a: "1", b: "2" }));
  const err = conflict(() => apply(live, cmCfg({ a: "9" }), "ci"));
  assert.equal(err.status.message, 'Apply failed with 1 conflict: conflict with "kubectl": .data.a');
  assert.deepEqual(err.status.details?.causes, [
    { type: "FieldManagerConflict", message: 'conflict with "kubectl"', field: ".data.a" },
  ]);

  const two = conflict(() => apply(live, cmCfg({ a: "9", b: "8" }), "ci"));
  assert.equal(
    two.status.message,
    'Apply failed with 2 conflicts: conflicts with "kubectl":\n- .data.a\n- .data.b',
  );
  assert.equal(two.status.details?.causes?.length, 2);
});

test("a conflict with a client-side apply manager names its apiVersion", () => {
  const created = trackUpdate(undefined, cmCfg({ a: "1" }), {
    manager: "kubectl-client-side-apply",
    operation: "Update",
    apiVersion: "v1",
    now: T1,
  });
  const err = conflict(() => apply(created, cmCfg({ a: "2" })));
  assert.equal(
    err.status.message,
    'Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using v1: .data.a',
  );
});

test("applying the same value another manager owns shares the field instead of conflicting", () => {
  const live = apply(undefined, cmCfg({ a: "1", b: "2" }));
  const shared = apply(live, cmCfg({ a: "1" }), "ci");
  assert.deepEqual(entry(shared, "ci")?.fieldsV1, { "f:data": { "f:a": {} } });
  assert.deepEqual(entry(shared, "kubectl")?.fieldsV1, { "f:data": { "f:a": {}, "f:b": {} } });
  // kubectl stops applying a; ci still owns it, so it stays. b belongs to nobody else and goes.
  const { data: _, ...noData } = cmCfg({});
  const after = apply(shared, noData as KubeObject, "kubectl", false, T2);
  assert.deepEqual(after.data, { a: "1" });
  assert.equal(entry(after, "kubectl"), undefined, "an empty entry is dropped");
  // An explicitly empty map is itself a field the applier owns.
  assert.deepEqual(entry(apply(shared, cmCfg({}), "kubectl", false, T2), "kubectl")?.fieldsV1, {
    "f:data": {},
  });
});

test("force takes ownership of conflicting fields from the other manager", () => {
  const live = apply(undefined, cmCfg({ a: "1", b: "2" }));
  const forced = apply(live, cmCfg({ a: "9" }), "ci", true, T2);
  assert.deepEqual(forced.data, { a: "9", b: "2" });
  assert.deepEqual(entry(forced, "ci")?.fieldsV1, { "f:data": { "f:a": {} } });
  assert.deepEqual(entry(forced, "kubectl")?.fieldsV1, { "f:data": { "f:b": {} } });
  // Now kubectl re-applying its old value conflicts with ci.
  const err = conflict(() => apply(forced, cmCfg({ a: "1", b: "2" })));
  assert.equal(err.status.message, 'Apply failed with 1 conflict: conflict with "ci": .data.a');
});

const deployCfg = (containers: unknown[], replicas = 2): KubeObject => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "web", namespace: "default" },
  spec: {
    replicas,
    selector: { matchLabels: { app: "web" } },
    template: { metadata: { labels: { app: "web" } }, spec: { containers } },
  },
});
const applyApps = (
  live: KubeObject | undefined,
  cfg: KubeObject,
  manager: string,
  force = false,
): KubeObject => serverSideApply(live, cfg, { manager, force, apiVersion: "apps/v1", now: T1 });
const containersOf = (o: KubeObject): { name: string; image: string }[] =>
  (o.spec as { template: { spec: { containers: { name: string; image: string }[] } } }).template.spec
    .containers;

test("containers are an associative list: managers own items by name and conflicts print the key", () => {
  const live = applyApps(undefined, deployCfg([{ name: "app", image: "nginx:1" }]), "kubectl");
  assert.deepEqual((entry(live, "kubectl")!.fieldsV1 as Record<string, unknown>)["f:spec"], {
    "f:replicas": {},
    "f:selector": { "f:matchLabels": { "f:app": {} } },
    "f:template": {
      "f:metadata": { "f:labels": { "f:app": {} } },
      "f:spec": { "f:containers": { 'k:{"name":"app"}': { ".": {}, "f:image": {}, "f:name": {} } } },
    },
  });
  // Another manager adds its own container: no conflict, both items kept.
  const withSidecar = applyApps(
    live,
    {
      ...deployCfg([{ name: "sidecar", image: "busybox" }]),
      spec: { template: { spec: { containers: [{ name: "sidecar", image: "busybox" }] } } },
    },
    "mesh",
  );
  assert.deepEqual(
    containersOf(withSidecar).map((c) => c.name),
    ["app", "sidecar"],
  );
  const err = conflict(() => applyApps(withSidecar, deployCfg([{ name: "app", image: "nginx:2" }], 3), "ci"));
  assert.equal(
    err.status.message,
    'Apply failed with 2 conflicts: conflicts with "kubectl":\n- .spec.replicas\n- .spec.template.spec.containers[name="app"].image',
  );
  // kubectl drops its container: it is pruned; the sidecar (owned by mesh) stays.
  const pruned = applyApps(withSidecar, deployCfg([{ name: "other", image: "x" }]), "kubectl");
  assert.deepEqual(
    containersOf(pruned).map((c) => c.name),
    ["sidecar", "other"],
  );
});

test("an object no manager tracks yet is owned by before-first-apply", () => {
  const untracked = {
    ...cmCfg({ a: "1" }),
    metadata: { name: "cm1", namespace: "default", uid: "u", resourceVersion: "5" },
  };
  const err = conflict(() => apply(untracked, cmCfg({ a: "2" })));
  assert.equal(
    err.status.message,
    'Apply failed with 1 conflict: conflict with "before-first-apply" using v1: .data.a',
  );
  const ok = apply(untracked, cmCfg({ b: "2" }));
  assert.deepEqual(ok.data, { a: "1", b: "2" });
  assert.equal(ok.metadata.uid, "u");
});

test("an apply configuration carrying managedFields is refused", () => {
  const cfg = cmCfg({ a: "1" });
  cfg.metadata.managedFields = [
    { manager: "x", operation: "Apply", apiVersion: "v1", fieldsType: "FieldsV1", fieldsV1: {} },
  ];
  assert.throws(
    () => apply(undefined, cfg),
    (err: unknown) => err instanceof StatusError && err.status.reason === "BadRequest",
  );
});

test("inputs to server-side apply are never mutated, even on conflict", () => {
  const live = apply(undefined, cmCfg({ a: "1" }));
  const snapshot = structuredClone(live);
  const cfg = cmCfg({ a: "2" });
  conflict(() => apply(live, cfg, "ci"));
  apply(live, cfg, "ci", true);
  assert.deepEqual(live, snapshot);
  assert.deepEqual(cfg, cmCfg({ a: "2" }));
});

const upd = (manager: string, now = T1, subresource?: string) => {
  const o: { manager: string; operation: "Update"; apiVersion: string; now: string; subresource?: string } = {
    manager,
    operation: "Update",
    apiVersion: "v1",
    now,
  };
  if (subresource) o.subresource = subresource;
  return o;
};

test("a create recorded by trackUpdate owns every field, with '.' for the maps it created", () => {
  const obj: KubeObject = {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: {
      name: "cm-new",
      namespace: "default",
      labels: { app: "demo" },
      annotations: { "kubectl.kubernetes.io/last-applied-configuration": "{}" },
    },
    data: { k: "v" },
  };
  const out = trackUpdate(undefined, obj, upd("kubectl-client-side-apply"));
  assert.deepEqual(out.metadata.managedFields, [
    {
      manager: "kubectl-client-side-apply",
      operation: "Update",
      apiVersion: "v1",
      time: T1,
      fieldsType: "FieldsV1",
      fieldsV1: {
        "f:data": { ".": {}, "f:k": {} },
        "f:metadata": {
          "f:annotations": { ".": {}, "f:kubectl.kubernetes.io/last-applied-configuration": {} },
          "f:labels": { ".": {}, "f:app": {} },
        },
      },
    },
  ]);
});

test("an update takes the fields it changes from other managers and drops removed fields", () => {
  const created = trackUpdate(undefined, cmCfg({ a: "1", b: "2", c: "3" }), upd("kubectl-create"));
  const changed = trackUpdate(
    created,
    { ...cmCfg({ a: "9", b: "2" }), metadata: created.metadata },
    upd("kubectl-edit", T2),
  );
  assert.deepEqual(entry(changed, "kubectl-create")?.fieldsV1, { "f:data": { ".": {}, "f:b": {} } });
  assert.deepEqual(entry(changed, "kubectl-edit")?.fieldsV1, { "f:data": { "f:a": {} } });
  assert.equal(entry(changed, "kubectl-edit")?.time, T2);
  assert.equal(entry(changed, "kubectl-create")?.time, T1);
});

test("an update that changes nothing leaves managedFields as they were", () => {
  const created = trackUpdate(undefined, cmCfg({ a: "1" }), upd("kubectl-create"));
  const again = trackUpdate(created, cmCfg({ a: "1" }), upd("other", T2));
  assert.deepEqual(again.metadata.managedFields, created.metadata.managedFields);
});

test("managedFields a client sends (kubectl's client-side → server-side migration) replace the live ones", () => {
  const created = trackUpdate(undefined, cmCfg({ a: "1" }), upd("kubectl-client-side-apply"));
  const migrated = structuredClone(created);
  migrated.metadata.managedFields = [
    {
      manager: "kubectl",
      operation: "Apply",
      apiVersion: "v1",
      time: T1,
      fieldsType: "FieldsV1",
      fieldsV1: { "f:data": { "f:a": {} } },
    },
  ];
  const out = trackUpdate(created, migrated, upd("kubectl", T2));
  assert.deepEqual(out.metadata.managedFields, migrated.metadata.managedFields);
  // …after which a server-side apply by kubectl no longer conflicts.
  assert.deepEqual(apply(out, cmCfg({ a: "2" })).data, { a: "2" });
});

test("a status update is recorded against the status subresource only", () => {
  const pod: KubeObject = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "p" },
    spec: { containers: [{ name: "c", image: "i" }] },
  };
  const created = trackUpdate(undefined, pod, upd("kubectl-create"));
  const withStatus = trackUpdate(
    created,
    { ...created, status: { phase: "Running" } },
    upd("kubelet", T2, "status"),
  );
  const e = entry(withStatus, "kubelet");
  assert.equal(e?.subresource, "status");
  assert.deepEqual(e?.fieldsV1, { "f:status": { "f:phase": {} } });
  assert.ok(entry(withStatus, "kubectl-create"));
  assert.equal(JSON.stringify(entry(withStatus, "kubectl-create")?.fieldsV1).includes("status"), false);
});

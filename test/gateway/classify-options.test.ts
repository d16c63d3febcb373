// Write options resolved exactly as kube-apiserver resolves them (issue 13 §1): DeleteOptions from the body OR the query
// (endpoints/handlers/delete.go), dryRun only "All", and the ambiguous forms refused.
import assert from "node:assert/strict";
import { test } from "node:test";
import { classifyRequest } from "../../src/kube/classify/index.ts";
import { resolveWriteOptions } from "../../src/kube/classify/options.ts";

function kubeFor(method: string, target: string) {
  const c = classifyRequest(method, target, "c");
  if (!c.ok) throw new Error(c.status.message);
  return c.value;
}

const CM = "/api/v1/namespaces/a/configmaps";

test("create, update and patch read dryRun from the query; only All is accepted; a repeat never gets here", () => {
  for (const [method, path] of [
    ["POST", CM],
    ["PUT", `${CM}/x`],
    ["PATCH", `${CM}/x`],
  ] as const) {
    const dry = resolveWriteOptions(kubeFor(method, `${path}?dryRun=All`), {}, true);
    assert.deepEqual(dry.ok && dry.value.dryRun, true, method);
    const none = resolveWriteOptions(kubeFor(method, path), {}, true);
    assert.deepEqual(none.ok && none.value.dryRun, false, method);
    for (const bad of ["dryRun=", "dryRun=all", "dryRun=true", "dryRun=None"]) {
      const r = resolveWriteOptions(kubeFor(method, `${path}?${bad}`), {}, true);
      assert.equal(r.ok, false, `${method} ${bad}`);
      assert.equal(r.ok ? 0 : r.status.code, 400);
    }
  }
  // Query hygiene refuses the repeated forms before options are read.
  assert.equal(classifyRequest("POST", `${CM}?dryRun=All&dryRun=`, "c").ok, false);
  assert.equal(classifyRequest("POST", `${CM}?dryRun=All&dryRun=All`, "c").ok, false);
});

test("a delete reads DeleteOptions from the body when there is one, else from the query; both is refused", () => {
  const bodyDry = resolveWriteOptions(
    kubeFor("DELETE", `${CM}/x`),
    { dryRun: ["All"], gracePeriodSeconds: 0 },
    true,
  );
  assert.deepEqual(bodyDry.ok && bodyDry.value, {
    dryRun: true,
    gracePeriodSeconds: 0,
    propagationPolicy: "",
  });
  // kube-apiserver would ignore the query here and really delete: refused.
  const both = resolveWriteOptions(kubeFor("DELETE", `${CM}/x?dryRun=All`), { kind: "DeleteOptions" }, true);
  assert.equal(both.ok, false);
  assert.match(both.ok ? "" : String(both.status.message), /both in the body and in the query \(dryRun\)/);
  for (const q of ["gracePeriodSeconds=0", "propagationPolicy=Orphan", "orphanDependents=true"]) {
    assert.equal(resolveWriteOptions(kubeFor("DELETE", `${CM}/x?${q}`), {}, true).ok, false, q);
  }
  const query = resolveWriteOptions(
    kubeFor("DELETE", `${CM}/x?dryRun=All&gracePeriodSeconds=5&propagationPolicy=Foreground`),
    undefined,
    false,
  );
  assert.deepEqual(query.ok && query.value, {
    dryRun: true,
    gracePeriodSeconds: 5,
    propagationPolicy: "Foreground",
  });
  const coll = resolveWriteOptions(kubeFor("DELETE", `${CM}?labelSelector=a%3Db`), { dryRun: ["All"] }, true);
  assert.equal(coll.ok && coll.value.dryRun, true);
});

test("malformed DeleteOptions are refused: other dryRun values, bad policies, orphan plus policy, other kinds", () => {
  const del = kubeFor("DELETE", `${CM}/x`);
  const refused: unknown[] = [
    { dryRun: ["all"] },
    { dryRun: "All" },
    { dryRun: ["All", "All"] },
    { propagationPolicy: "Later" },
    { orphanDependents: true, propagationPolicy: "Background" },
    { gracePeriodSeconds: 1.5 },
    { kind: "Pod" },
    [],
  ];
  for (const body of refused)
    assert.equal(resolveWriteOptions(del, body, true).ok, false, JSON.stringify(body));
  const orphan = resolveWriteOptions(del, { orphanDependents: true }, true);
  assert.equal(orphan.ok && orphan.value.propagationPolicy, "Orphan");
  assert.equal(
    resolveWriteOptions(kubeFor("DELETE", `${CM}/x?gracePeriodSeconds=soon`), undefined, false).ok,
    false,
  );
});

test("an eviction is a dry run when its query or its deleteOptions say so (the apiserver propagates one to the other)", () => {
  const evict = (q: string) => kubeFor("POST", `/api/v1/namespaces/a/pods/p/eviction${q}`);
  const body = (dryRun?: string[]) => ({ kind: "Eviction", deleteOptions: dryRun ? { dryRun } : {} });
  const dry = (q: string, b: object) => {
    const r = resolveWriteOptions(evict(q), b, true);
    return r.ok ? r.value.dryRun : "refused";
  };
  assert.equal(dry("", body(["All"])), true); // kubectl drain --dry-run=server
  assert.equal(dry("?dryRun=All", body()), true);
  assert.equal(dry("?dryRun=All", body(["All"])), true);
  assert.equal(dry("", body()), false);
  assert.equal(dry("", body(["all"])), "refused");
});

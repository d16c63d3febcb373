// deletecollection is checked against every object it would remove (issue 13 §2) and counts that many deletes
// against rate limits (§ rate limits): real kubectl (`delete --raw`) → Airlock (policy engine) → simulator.
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { checkCollection, deleteEach } from "../../src/gateway/collection.ts";
import type { Principal } from "../../src/identity/types.ts";
import { classifyRequest } from "../../src/kube/classify/index.ts";
import { impersonationHeaders } from "../../src/upstream/impersonation.ts";
import { startTestGateway, type TestGateway } from "../helpers/gateway.ts";
import { kubectl } from "../helpers/kubectl.ts";

const POLICY = `apiVersion: airlock.dev/v1alpha1
kind: Policy
metadata: { name: agents }
spec:
  subjects: [{ group: agents }]
  rules:
    - name: read-everything
      verbs: [get, list, watch]
      effect: allow
    - name: writes
      verbs: [create, update, patch, delete, deletecollection]
      namespaces: ["*"]
      effect: allow
    - name: collections-anywhere
      verbs: [deletecollection]
      resources: [configmaps]
      effect: allow
    - name: namespace-collections
      verbs: [deletecollection]
      resources: [namespaces]
      effect: allow
    - name: no-namespace-deletes
      verbs: [delete]
      resources: [namespaces]
      effect: deny
      message: namespaces stay
    - name: keep-me
      verbs: [delete, deletecollection]
      resources: [configmaps]
      names: [keep-me]
      effect: deny
      message: keep-me stays
    - name: protected-objects
      verbs: [delete]
      labelSelector: { matchLabels: { protected: "true" } }
      effect: deny
      message: protected objects are not deleted
    - name: few-deletes
      subjects: [{ identity: limited-agent }]
      verbs: [delete]
      namespaces: ["*"]
      effect: allow
      rateLimit: { requests: 3, per: 1h }
---
apiVersion: airlock.dev/v1alpha1
kind: Policy
metadata: { name: humans }
spec:
  subjects: [{ group: sre }]
  rules:
    - { name: everything, verbs: ["*"], effect: allow }
`;

let gw: TestGateway;
let dir: string;
let agent: string;
let limited: string;
let human: string;

async function ok(config: string, args: string[]): Promise<string> {
  const r = await kubectl(config, args);
  assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

async function configmaps(ns: string): Promise<string[]> {
  const out = await ok(human, ["get", "configmaps", "-n", ns, "-o", "name"]);
  return out
    .split("\n")
    .filter((l) => l && !l.includes("kube-root-ca"))
    .map((l) => l.replace("configmap/", ""))
    .sort();
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "airlock-dc-"));
  const file = join(dir, "policy.yaml");
  await writeFile(file, POLICY);
  gw = await startTestGateway({ policyFiles: [file] });
  agent = (await gw.addIdentity("dc-agent", "agent", ["agents"])).kubeconfig;
  limited = (await gw.addIdentity("limited-agent", "agent", ["agents"])).kubeconfig;
  human = (await gw.addIdentity("dc-human", "human", ["sre"])).kubeconfig;
  for (const ns of ["dc1", "dc2", "dc3", "dc4"]) await ok(human, ["create", "namespace", ns]);
  for (const [ns, name, labels] of [
    ["dc1", "keep-me", "tier=a"],
    ["dc1", "other", "tier=a"],
    ["dc2", "guarded", "tier=b,protected=true"],
    ["dc2", "plain-1", "tier=b"],
    ["dc2", "plain-2", "tier=c"],
    ["dc3", "r1", "batch=x"],
    ["dc3", "r2", "batch=x"],
    ["dc3", "r3", "batch=y"],
    ["dc3", "r4", "batch=y"],
    ["dc4", "race-1", "race=yes"],
    ["dc4", "race-2", "race=yes"],
  ] as const) {
    await ok(human, ["create", "configmap", name, "-n", ns, "--from-literal=k=v"]);
    await ok(human, ["label", "configmap", name, "-n", ns, ...labels.split(",")]);
  }
});

after(async () => {
  await gw?.close();
  await rm(dir, { recursive: true, force: true });
});

test("a deny on names: [keep-me] stops DELETE …/configmaps?fieldSelector=metadata.name=keep-me", async () => {
  const r = await kubectl(agent, [
    "delete",
    "--raw",
    "/api/v1/namespaces/dc1/configmaps?fieldSelector=metadata.name%3Dkeep-me",
  ]);
  assert.notEqual(r.code, 0);
  assert.match(
    r.stderr,
    /deletecollection refused: denied by policy agents rule keep-me: keep-me stays \(object "keep-me" in namespace "dc1"\)/,
  );
  assert.deepEqual(await configmaps("dc1"), ["keep-me", "other"]);
});

test("one denied object refuses the whole collection, with or without selectors, and nothing is deleted", async () => {
  for (const path of [
    "/api/v1/namespaces/dc1/configmaps",
    "/api/v1/namespaces/dc1/configmaps?labelSelector=tier%3Da",
  ]) {
    const r = await kubectl(agent, ["delete", "--raw", path]);
    assert.notEqual(r.code, 0, path);
    assert.match(r.stderr, /rule keep-me/);
  }
  assert.deepEqual(await configmaps("dc1"), ["keep-me", "other"]);
});

test("a deny on deleting labelled objects reads each stored object's labels (the selector names other labels)", async () => {
  const r = await kubectl(agent, [
    "delete",
    "--raw",
    "/api/v1/namespaces/dc2/configmaps?labelSelector=tier%20in%20(b)",
  ]);
  assert.notEqual(r.code, 0);
  assert.match(
    r.stderr,
    /rule protected-objects: protected objects are not deleted \(object "guarded" in namespace "dc2"\)/,
  );
  assert.deepEqual(await configmaps("dc2"), ["guarded", "plain-1", "plain-2"]);
});

test("across namespaces: DELETE /api/v1/configmaps is refused as kube-apiserver refuses it (no such route), nothing deleted", async () => {
  for (const path of [
    "/api/v1/configmaps?labelSelector=tier",
    "/api/v1/configmaps?labelSelector=batch%3Dx",
  ]) {
    const r = await kubectl(agent, ["delete", "--raw", path]);
    assert.notEqual(r.code, 0, path);
    assert.match(
      r.stderr,
      /deletecollection of configmaps across all namespaces is not served by kube-apiserver/,
    );
  }
  assert.deepEqual(await configmaps("dc1"), ["keep-me", "other"]);
  assert.deepEqual(await configmaps("dc3"), ["r1", "r2", "r3", "r4"]);
});

test("a cluster-scoped collection is checked object by object too: a deny on one Namespace object refuses DELETE /api/v1/namespaces", async () => {
  const r = await kubectl(agent, ["delete", "--raw", "/api/v1/namespaces?fieldSelector=metadata.name%3Ddc4"]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /rule no-namespace-deletes: namespaces stay \(object "dc4"\)/);
  const ns = await kubectl(human, ["get", "namespace", "dc4", "-o", "name"]);
  assert.equal(ns.code, 0, ns.stderr);
});

test("an allowed deletecollection deletes exactly the listed objects and answers their list", async () => {
  const r = await kubectl(agent, [
    "delete",
    "--raw",
    "/api/v1/namespaces/dc2/configmaps?labelSelector=tier%3Dc",
  ]);
  assert.equal(r.code, 0, r.stderr);
  const answer = JSON.parse(r.stdout) as { kind: string; items: { metadata: { name: string } }[] };
  assert.equal(answer.kind, "ConfigMapList");
  assert.deepEqual(
    answer.items.map((i) => i.metadata.name),
    ["plain-2"],
  );
  assert.deepEqual(await configmaps("dc2"), ["guarded", "plain-1"]);
});

test("rate limits count the objects: 4 at once exceed a limit of 3, 2 pass, 2 more get 429", async () => {
  const all = await kubectl(limited, [
    "delete",
    "--raw",
    "/api/v1/namespaces/dc3/configmaps?labelSelector=batch%20in%20(x%2Cy)",
  ]);
  assert.notEqual(all.code, 0);
  assert.match(all.stderr, /counts 4 against a limit of 3 per 1h/);
  assert.deepEqual(await configmaps("dc3"), ["r1", "r2", "r3", "r4"]);

  const two = await kubectl(limited, [
    "delete",
    "--raw",
    "/api/v1/namespaces/dc3/configmaps?labelSelector=batch%3Dx",
  ]);
  assert.equal(two.code, 0, two.stderr);
  assert.deepEqual(await configmaps("dc3"), ["r3", "r4"]);

  const more = await kubectl(limited, [
    "delete",
    "--raw",
    "/api/v1/namespaces/dc3/configmaps?labelSelector=batch%3Dy",
    "--request-timeout=5s",
  ]);
  assert.notEqual(more.code, 0);
  assert.match(more.stderr, /rate-limited by policy agents rule few-deletes/);
  assert.deepEqual(await configmaps("dc3"), ["r3", "r4"], "the refused request deleted nothing");
});

test("the race: an object changed or created after the check is not deleted (uid + resourceVersion preconditions)", async () => {
  const upstream = gw.gateway.runtime.upstreams.get("sim");
  const engine = gw.gateway.runtime.decider;
  assert.ok(upstream && engine.decideCollection);
  const principal: Principal = {
    identityId: "race",
    kind: "agent",
    name: "dc-agent",
    groups: ["agents"],
    labels: {},
    credentialId: "race",
  };
  const classified = classifyRequest(
    "DELETE",
    "/api/v1/namespaces/dc4/configmaps?labelSelector=race%3Dyes",
    "sim",
  );
  assert.ok(classified.ok);
  const kube = classified.value;
  const decision = await engine.decide(principal, kube);
  assert.equal(decision.effect, "allow");
  const headers = impersonationHeaders(principal, "race-check");
  const checked = await checkCollection(
    engine.decideCollection,
    upstream,
    principal,
    kube,
    decision,
    headers,
  );
  assert.ok(checked.ok, checked.ok ? "" : checked.status.message);
  // After the check: race-1 gains the protected label, race-3 appears with the selected label.
  await ok(human, ["label", "configmap", "race-1", "-n", "dc4", "protected=true"]);
  await ok(human, ["create", "configmap", "race-3", "-n", "dc4", "--from-literal=k=v"]);
  await ok(human, ["label", "configmap", "race-3", "-n", "dc4", "race=yes"]);
  const done = await deleteEach(upstream, kube, headers, checked.collection);
  assert.equal(done.status, 409, JSON.stringify(done.body));
  assert.match(
    done.error ?? "",
    /stopped at configmaps "race-1" after deleting 0 of 2 checked objects: .*Precondition failed/,
  );
  assert.deepEqual(await configmaps("dc4"), ["race-1", "race-2", "race-3"]);
});

test("deletions stop before the next object once the identity is revoked (or its credential expires, or the client leaves)", async () => {
  for (const name of ["stop-1", "stop-2", "stop-3"]) {
    await ok(human, ["create", "configmap", name, "-n", "dc4", "--from-literal=k=v"]);
    await ok(human, ["label", "configmap", name, "-n", "dc4", "stop=yes"]);
  }
  // The deletecollection registers like a stream while it deletes; revoke it the moment it does (as a revocation
  // of dc-agent would: StreamRegistry.closeIdentity calls the same close).
  const streams = gw.gateway.runtime.streams;
  const add = streams.add.bind(streams);
  let seen = 0;
  streams.add = (stream) => {
    const unregister = add(stream);
    if (stream.kind === "deletecollection") {
      seen++;
      stream.close("the identity dc-agent was revoked");
    }
    return unregister;
  };
  try {
    const r = await kubectl(agent, [
      "delete",
      "--raw",
      "/api/v1/namespaces/dc4/configmaps?labelSelector=stop%3Dyes",
    ]);
    assert.equal(seen, 1, "the deletecollection registered as a live stream");
    assert.notEqual(r.code, 0);
    assert.match(
      r.stderr,
      /deletecollection stopped before configmaps "stop-1" after deleting 0 of 3 checked objects: the identity dc-agent was revoked/,
    );
  } finally {
    streams.add = add;
  }
  assert.deepEqual(
    (await configmaps("dc4")).filter((n) => n.startsWith("stop-")),
    ["stop-1", "stop-2", "stop-3"],
    "nothing was deleted",
  );
});

test("a decider that cannot judge objects one by one refuses deletecollection instead of forwarding one DELETE", async () => {
  const decider = gw.gateway.runtime.decider;
  const own = decider.decideCollection;
  decider.decideCollection = undefined;
  try {
    const r = await kubectl(agent, [
      "delete",
      "--raw",
      "/api/v1/namespaces/dc1/configmaps?labelSelector=tier%3Da",
    ]);
    assert.notEqual(r.code, 0);
    assert.match(
      r.stderr,
      /deletecollection configmaps is refused: this gateway's decider cannot check the objects/,
    );
  } finally {
    decider.decideCollection = own;
  }
  assert.deepEqual(await configmaps("dc1"), ["keep-me", "other"], "nothing was deleted");
});

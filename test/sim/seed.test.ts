// The demo seed: what it creates, that it is idempotent, and that with the controllers running every demo pod is
// Running almost at once.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { KubeObject, ResourceType } from "@airlock/sim/contracts.ts";
import { startControllers } from "@airlock/sim/controllers/index.ts";
import { createRegistry } from "@airlock/sim/registry.ts";
import { DEMO_DB_PASSWORD, seedDemo } from "@airlock/sim/seed.ts";
import { createMemoryStore } from "@airlock/sim/store.ts";

const store = createMemoryStore();
const registry = createRegistry();
const t = (group: string, resource: string): ResourceType => {
  const type = registry.all().find((x) => x.group === group && x.resource === resource);
  assert.ok(type, `${group}/${resource} is served`);
  return type;
};
const get = (group: string, resource: string, ns: string, name: string) => {
  const obj = store.get(t(group, resource), ns, name);
  assert.ok(obj, `${resource} ${ns}/${name} exists`);
  return obj;
};
const logs: string[] = [];
let stop = () => {};
let settledMs = 0;

type Container = {
  name: string;
  image: string;
  ports: { containerPort: number }[];
  env: { name: string; valueFrom?: unknown }[];
};
const containersOf = (d: KubeObject) =>
  (d.spec as { template: { spec: { containers: Container[] } } }).template.spec.containers;

before(async () => {
  seedDemo(store, registry);
  const started = Date.now();
  stop = startControllers(store, registry, { log: (m, e) => logs.push(`${m} ${e ?? ""}`) }).stop;
  const pods = () => store.list(t("", "pods"), "").items;
  while (
    !(pods().length === 5 && pods().every((p) => (p.status as { phase?: string }).phase === "Running"))
  ) {
    if (Date.now() - started > 5000) throw new Error("demo pods did not all start");
    await new Promise((r) => setTimeout(r, 1));
  }
  settledMs = Date.now() - started;
});
after(() => stop());

describe("seedDemo", () => {
  test("creates the node, Ready with capacity", () => {
    const node = get("", "nodes", "", "sim-node-1");
    const status = node.status as {
      conditions: { type: string; status: string }[];
      capacity: Record<string, string>;
    };
    assert.equal(status.conditions.find((c) => c.type === "Ready")?.status, "True");
    assert.equal(status.capacity.pods, "110");
    assert.ok(status.capacity.cpu && status.capacity.memory);
  });

  test("creates the demo namespaces", () => {
    for (const ns of ["default", "kube-system", "kube-public", "prod", "staging"])
      get("", "namespaces", "", ns);
  });

  test("web in prod takes DB_PASSWORD and DB_USER from the db-credentials Secret", () => {
    const web = get("apps", "deployments", "prod", "web");
    assert.equal((web.spec as { replicas: number }).replicas, 3);
    const [c] = containersOf(web);
    assert.equal(c?.name, "web");
    assert.equal(c?.image, "nginx:1.27");
    assert.deepEqual(
      c?.ports.map((p) => p.containerPort),
      [80],
    );
    assert.deepEqual(c?.env.find((e) => e.name === "DB_PASSWORD")?.valueFrom, {
      secretKeyRef: { name: "db-credentials", key: "password" },
    });
    assert.deepEqual(c?.env.find((e) => e.name === "DB_USER")?.valueFrom, {
      secretKeyRef: { name: "db-credentials", key: "username" },
    });
    assert.equal(
      (web.spec as { selector: { matchLabels: Record<string, string> } }).selector.matchLabels.app,
      "web",
    );
  });

  test("api in staging runs 2 replicas on 8080", () => {
    const api = get("apps", "deployments", "staging", "api");
    assert.equal((api.spec as { replicas: number }).replicas, 2);
    assert.deepEqual(
      containersOf(api)[0]?.ports.map((p) => p.containerPort),
      [8080],
    );
  });

  test("the Secret, ConfigMap, ServiceAccount and Services are there", () => {
    const secret = get("", "secrets", "prod", "db-credentials");
    assert.equal(secret.type, "Opaque");
    const data = secret.data as Record<string, string>;
    assert.equal(Buffer.from(data.password ?? "", "base64").toString(), DEMO_DB_PASSWORD);
    assert.equal(DEMO_DB_PASSWORD, "s3cr3t-pa55w0rd-7f1c");
    assert.equal(Buffer.from(data.username ?? "", "base64").toString(), "app");
    const cm = get("", "configmaps", "prod", "web-config");
    assert.equal((cm.data as Record<string, string>).LOG_LEVEL, "info");
    assert.equal((cm.data as Record<string, string>).FEATURE_FLAGS, "search,checkout");
    get("", "serviceaccounts", "prod", "mcp-server");
    const web = get("", "services", "prod", "web");
    assert.equal((web.spec as { ports: { port: number }[] }).ports[0]?.port, 80);
    get("", "services", "staging", "api");
  });

  test("the default ClusterRoles exist and cluster-admin is bound to system:masters", () => {
    type Rule = { apiGroups?: string[]; resources?: string[]; verbs: string[] };
    const rules = (name: string) =>
      get("rbac.authorization.k8s.io", "clusterroles", "", name).rules as Rule[];
    const grants = (name: string, group: string, resource: string, verb: string) =>
      rules(name).some(
        (r) => r.apiGroups?.includes(group) && r.resources?.includes(resource) && r.verbs.includes(verb),
      );
    assert.deepEqual(rules("cluster-admin")[0], { apiGroups: ["*"], resources: ["*"], verbs: ["*"] });
    assert.ok(grants("view", "apps", "deployments", "list"));
    assert.ok(!grants("view", "", "secrets", "get"), "view does not read Secrets");
    assert.ok(grants("edit", "", "secrets", "get"));
    assert.ok(grants("edit", "", "pods/exec", "create"));
    assert.ok(!grants("edit", "rbac.authorization.k8s.io", "rolebindings", "create"), "edit cannot grant");
    assert.ok(grants("admin", "rbac.authorization.k8s.io", "rolebindings", "create"));
    const binding = get("rbac.authorization.k8s.io", "clusterrolebindings", "", "cluster-admin");
    assert.deepEqual(binding.roleRef, {
      apiGroup: "rbac.authorization.k8s.io",
      kind: "ClusterRole",
      name: "cluster-admin",
    });
    assert.deepEqual(binding.subjects, [
      { apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: "system:masters" },
    ]);
  });

  test("with the controllers running, all demo pods are Running within moments", () => {
    // ~100 ms on an idle machine; the bound leaves room for a loaded CI box.
    assert.ok(settledMs < 1000, `settled in ${settledMs} ms`);
    const web = store.list(t("", "pods"), "prod").items.filter((p) => p.metadata.labels?.app === "web");
    assert.equal(web.length, 3);
    for (const p of web) {
      const [c] = (p.spec as { containers: Container[] }).containers;
      assert.deepEqual(
        c?.env.map((e) => e.name),
        ["DB_USER", "DB_PASSWORD", "LOG_LEVEL"],
        "pods carry the template env untouched",
      );
    }
    assert.equal(store.list(t("", "pods"), "staging").items.length, 2);
  });

  test("the web Service's Endpoints list the three web pods", async () => {
    const ips = () => {
      const ep = store.get(t("", "endpoints"), "prod", "web");
      return ((ep?.subsets ?? []) as { addresses?: { ip: string }[] }[]).flatMap((s) => s.addresses ?? [])
        .length;
    };
    const deadline = Date.now() + 2000;
    while (ips() !== 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2));
    assert.equal(ips(), 3);
  });

  test("once settled the cluster is quiet: no controller keeps rewriting", async () => {
    await new Promise((r) => setTimeout(r, 100));
    const settled = store.currentResourceVersion();
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(store.currentResourceVersion(), settled);
  });

  test("seeding again changes nothing", () => {
    const before = store.currentResourceVersion();
    seedDemo(store, registry);
    assert.equal(store.currentResourceVersion(), before);
  });

  test("no controller logged a failure", () => {
    assert.deepEqual(logs, []);
  });
});

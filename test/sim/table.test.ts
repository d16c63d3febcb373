import assert from "node:assert/strict";
import { test } from "node:test";
import type { KubeObject, ResourceType } from "@airlock/sim/contracts.ts";
import { evalJsonPath, humanDuration, printerColumnsOf, toTable } from "@airlock/sim/table.ts";

const NOW = new Date("2026-01-10T12:00:00Z");
const ago = (seconds: number): string => new Date(NOW.getTime() - seconds * 1000).toISOString();

const type = (group: string, kind: string, resource: string): ResourceType => ({
  group,
  version: "v1",
  resource,
  singular: kind.toLowerCase(),
  kind,
  listKind: `${kind}List`,
  namespaced: true,
  shortNames: [],
  categories: [],
  verbs: [],
  subresources: [],
});

type Table = {
  kind: string;
  apiVersion: string;
  metadata: Record<string, unknown>;
  columnDefinitions: { name: string; type: string; format: string; description: string; priority: number }[];
  rows: { cells: unknown[]; object: unknown; conditions?: unknown[] }[];
};

function table(
  t: ResourceType,
  objs: KubeObject[],
  extra: Partial<Parameters<typeof toTable>[2]> = {},
): Table {
  return toTable(t, objs, {
    includeObject: "Metadata",
    resourceVersion: "42",
    now: NOW,
    ...extra,
  }) as unknown as Table;
}

/** The header and cells as `kubectl get -o wide` lays them out (column name upper-cased). */
function rows(
  t: ResourceType,
  objs: KubeObject[],
  extra: Partial<Parameters<typeof toTable>[2]> = {},
): Record<string, unknown>[] {
  const tb = table(t, objs, extra);
  return tb.rows.map((r) =>
    Object.fromEntries(tb.columnDefinitions.map((c, i) => [c.name.toUpperCase(), r.cells[i]])),
  );
}

const obj = (
  apiVersion: string,
  kind: string,
  name: string,
  body: Record<string, unknown> = {},
  created = 300,
): KubeObject => ({
  apiVersion,
  kind,
  metadata: {
    name,
    namespace: "default",
    creationTimestamp: ago(created),
    uid: `uid-${name}`,
    resourceVersion: "7",
  },
  ...body,
});

test("ages use kube's humane duration format", () => {
  const cases: [number, string][] = [
    [-5, "<invalid>"],
    [-1, "0s"],
    [0, "0s"],
    [5, "5s"],
    [119, "119s"],
    [120, "2m"],
    [192, "3m12s"],
    [599, "9m59s"],
    [600, "10m"],
    [3 * 3600 - 1, "179m"],
    [3 * 3600, "3h"],
    [3 * 3600 + 61, "3h1m"],
    [8 * 3600, "8h"],
    [47 * 3600, "47h"],
    [51 * 3600, "2d3h"],
    [72 * 3600, "3d"],
    [8 * 86400, "8d"],
    [729 * 86400, "729d"],
    [730 * 86400, "2y"],
    [800 * 86400, "2y70d"],
    [9 * 365 * 86400, "9y"],
  ];
  for (const [s, want] of cases) assert.equal(humanDuration(s * 1000), want, `${s}s`);
});

test("a Table carries kind, apiVersion, list metadata and full column definitions", () => {
  const t = table(type("", "ConfigMap", "configmaps"), [obj("v1", "ConfigMap", "a", { data: { x: "1" } })], {
    continueToken: "abc",
  });
  assert.equal(t.kind, "Table");
  assert.equal(t.apiVersion, "meta.k8s.io/v1");
  assert.deepEqual(t.metadata, { resourceVersion: "42", continue: "abc" });
  for (const c of t.columnDefinitions)
    assert.deepEqual(Object.keys(c).sort(), ["description", "format", "name", "priority", "type"]);
  assert.equal(t.columnDefinitions[0]?.format, "name");
  assert.match(t.columnDefinitions[0]?.description ?? "", /^Name must be unique within a namespace/);
});

test("includeObject chooses None, PartialObjectMetadata or the whole object for each row", () => {
  const cm = obj("v1", "ConfigMap", "a", { data: { x: "1" } });
  const t = type("", "ConfigMap", "configmaps");
  assert.equal(table(t, [cm], { includeObject: "None" }).rows[0]?.object, null);
  assert.deepEqual(table(t, [cm], { includeObject: "Metadata" }).rows[0]?.object, {
    kind: "PartialObjectMetadata",
    apiVersion: "meta.k8s.io/v1",
    metadata: cm.metadata,
  });
  assert.deepEqual(table(t, [cm], { includeObject: "Object" }).rows[0]?.object, cm);
});

const POD = type("", "Pod", "pods");
const running = (name: string, extra: Record<string, unknown> = {}): KubeObject =>
  obj("v1", "Pod", name, {
    spec: { nodeName: "node-1", containers: [{ name: "app", image: "nginx" }] },
    status: {
      phase: "Running",
      podIP: "10.244.0.5",
      conditions: [{ type: "Ready", status: "True" }],
      containerStatuses: [
        { name: "app", ready: true, restartCount: 0, state: { running: { startedAt: ago(300) } } },
      ],
    },
    ...extra,
  });

test("pods print NAME, READY, STATUS, RESTARTS, AGE and the wide columns as kubectl get pods -o wide", () => {
  const t = table(POD, [running("web-1")]);
  assert.deepEqual(
    t.columnDefinitions.map((c) => [c.name, c.priority]),
    [
      ["Name", 0],
      ["Ready", 0],
      ["Status", 0],
      ["Restarts", 0],
      ["Age", 0],
      ["IP", 1],
      ["Node", 1],
      ["Nominated Node", 1],
      ["Readiness Gates", 1],
    ],
  );
  assert.deepEqual(t.rows[0]?.cells, [
    "web-1",
    "1/1",
    "Running",
    "0",
    "5m",
    "10.244.0.5",
    "node-1",
    "<none>",
    "<none>",
  ]);
});

test("pod STATUS and RESTARTS follow kubectl's rules for each container state", () => {
  const crash = running("crash", {
    status: {
      phase: "Running",
      containerStatuses: [
        {
          name: "app",
          ready: false,
          restartCount: 4,
          state: { waiting: { reason: "CrashLoopBackOff" } },
          lastState: { terminated: { exitCode: 1, finishedAt: ago(90) } },
        },
      ],
    },
  });
  const pending = obj("v1", "Pod", "pending", {
    spec: { containers: [{ name: "a" }, { name: "b" }] },
    status: { phase: "Pending" },
  });
  const completed = obj("v1", "Pod", "done", {
    spec: { containers: [{ name: "a" }] },
    status: {
      phase: "Succeeded",
      containerStatuses: [{ name: "a", state: { terminated: { exitCode: 0, reason: "Completed" } } }],
    },
  });
  const exit = obj("v1", "Pod", "exit", {
    spec: { containers: [{ name: "a" }] },
    status: { phase: "Failed", containerStatuses: [{ name: "a", state: { terminated: { exitCode: 137 } } }] },
  });
  const init = obj("v1", "Pod", "init", {
    spec: { initContainers: [{ name: "i1" }, { name: "i2" }], containers: [{ name: "a" }] },
    status: {
      phase: "Pending",
      initContainerStatuses: [
        { name: "i1", state: { terminated: { exitCode: 0 } } },
        { name: "i2", state: { running: {} } },
      ],
      containerStatuses: [{ name: "a", state: { waiting: { reason: "PodInitializing" } } }],
    },
  });
  const initFailed = obj("v1", "Pod", "initfail", {
    spec: { initContainers: [{ name: "i1" }], containers: [{ name: "a" }] },
    status: {
      phase: "Pending",
      initContainerStatuses: [{ name: "i1", state: { waiting: { reason: "ImagePullBackOff" } } }],
    },
  });
  const terminating = running("bye", {
    metadata: { name: "bye", creationTimestamp: ago(60), deletionTimestamp: ago(1) },
  });
  const evicted = obj("v1", "Pod", "evicted", {
    spec: { containers: [{ name: "a" }] },
    status: { phase: "Failed", reason: "Evicted" },
  });
  const got = rows(POD, [crash, pending, completed, exit, init, initFailed, terminating, evicted]).map(
    (r) => [r.NAME, r.READY, r.STATUS, r.RESTARTS],
  );
  assert.deepEqual(got, [
    ["crash", "0/1", "CrashLoopBackOff", "4 (90s ago)"],
    ["pending", "0/2", "Pending", "0"],
    ["done", "0/1", "Completed", "0"],
    ["exit", "0/1", "ExitCode:137", "0"],
    ["init", "0/1", "Init:1/2", "0"],
    ["initfail", "0/1", "Init:ImagePullBackOff", "0"],
    ["bye", "1/1", "Terminating", "0"],
    ["evicted", "0/1", "Evicted", "0"],
  ]);
  const t = table(POD, [completed, running("r")]);
  assert.deepEqual(t.rows[0]?.conditions, [
    {
      type: "Completed",
      status: "True",
      reason: "Succeeded",
      message: "The pod has completed successfully.",
    },
  ]);
  assert.equal(t.rows[1]?.conditions, undefined);
});

test("readiness gates count the true conditions they name", () => {
  const p = running("g", {
    spec: {
      containers: [{ name: "a" }],
      readinessGates: [{ conditionType: "x/ok" }, { conditionType: "x/lb" }],
    },
  });
  (p.status as { conditions: unknown[] }).conditions.push({ type: "x/ok", status: "True" });
  assert.equal(rows(POD, [p])[0]?.["READINESS GATES"], "1/2");
});

const template = {
  spec: {
    containers: [
      { name: "app", image: "nginx:1.25" },
      { name: "side", image: "busybox" },
    ],
  },
};

test("deployments, replicasets and statefulsets print their replica counts", () => {
  const d = obj("apps/v1", "Deployment", "web", {
    spec: {
      replicas: 3,
      selector: {
        matchLabels: { app: "web" },
        matchExpressions: [{ key: "tier", operator: "In", values: ["b", "a"] }],
      },
      template,
    },
    status: { readyReplicas: 2, updatedReplicas: 3, availableReplicas: 2 },
  });
  assert.deepEqual(rows(type("apps", "Deployment", "deployments"), [d]), [
    {
      NAME: "web",
      READY: "2/3",
      "UP-TO-DATE": 3,
      AVAILABLE: 2,
      AGE: "5m",
      CONTAINERS: "app,side",
      IMAGES: "nginx:1.25,busybox",
      SELECTOR: "app=web,tier in (a,b)",
    },
  ]);
  const rs = obj("apps/v1", "ReplicaSet", "web-abc", {
    spec: { replicas: 3, selector: {}, template },
    status: { replicas: 3, readyReplicas: 1 },
  });
  assert.deepEqual(rows(type("apps", "ReplicaSet", "replicasets"), [rs]), [
    {
      NAME: "web-abc",
      DESIRED: 3,
      CURRENT: 3,
      READY: 1,
      AGE: "5m",
      CONTAINERS: "app,side",
      IMAGES: "nginx:1.25,busybox",
      SELECTOR: "<none>",
    },
  ]);
  const ss = obj("apps/v1", "StatefulSet", "db", { spec: { template }, status: { readyReplicas: 1 } });
  assert.deepEqual(rows(type("apps", "StatefulSet", "statefulsets"), [ss]), [
    { NAME: "db", READY: "1/1", AGE: "5m", CONTAINERS: "app,side", IMAGES: "nginx:1.25,busybox" },
  ]);
});

test("daemonsets, jobs and cronjobs print their status columns", () => {
  const ds = obj("apps/v1", "DaemonSet", "agent", {
    spec: {
      selector: { matchLabels: { app: "agent" } },
      template: { spec: { ...template.spec, nodeSelector: { os: "linux" } } },
    },
    status: {
      desiredNumberScheduled: 2,
      currentNumberScheduled: 2,
      numberReady: 1,
      updatedNumberScheduled: 2,
      numberAvailable: 1,
    },
  });
  assert.deepEqual(rows(type("apps", "DaemonSet", "daemonsets"), [ds]), [
    {
      NAME: "agent",
      DESIRED: 2,
      CURRENT: 2,
      READY: 1,
      "UP-TO-DATE": 2,
      AVAILABLE: 1,
      "NODE SELECTOR": "os=linux",
      AGE: "5m",
      CONTAINERS: "app,side",
      IMAGES: "nginx:1.25,busybox",
      SELECTOR: "app=agent",
    },
  ]);
  const JOB = type("batch", "Job", "jobs");
  const done = obj("batch/v1", "Job", "done", {
    spec: { completions: 1, template },
    status: {
      succeeded: 1,
      startTime: ago(200),
      completionTime: ago(188),
      conditions: [{ type: "Complete", status: "True" }],
    },
  });
  const runningJob = obj("batch/v1", "Job", "run", {
    spec: { parallelism: 3, template },
    status: { startTime: ago(65) },
  });
  const failed = obj("batch/v1", "Job", "bad", {
    spec: { template },
    status: { conditions: [{ type: "Failed", status: "True" }] },
  });
  assert.deepEqual(
    rows(JOB, [done, runningJob, failed]).map((r) => [r.NAME, r.STATUS, r.COMPLETIONS, r.DURATION]),
    [
      ["done", "Complete", "1/1", "12s"],
      ["run", "Running", "0/1 of 3", "65s"],
      ["bad", "Failed", "0/1", ""],
    ],
  );
  const cj = obj("batch/v1", "CronJob", "nightly", {
    spec: { schedule: "0 3 * * *", suspend: false, jobTemplate: { spec: { template } } },
    status: { active: [{ name: "j1" }], lastScheduleTime: ago(3600) },
  });
  assert.deepEqual(rows(type("batch", "CronJob", "cronjobs"), [cj]), [
    {
      NAME: "nightly",
      SCHEDULE: "0 3 * * *",
      TIMEZONE: "<none>",
      SUSPEND: "False",
      ACTIVE: 1,
      "LAST SCHEDULE": "60m",
      AGE: "5m",
      CONTAINERS: "app,side",
      IMAGES: "nginx:1.25,busybox",
      SELECTOR: "<none>",
    },
  ]);
});

test("services print TYPE, CLUSTER-IP, EXTERNAL-IP and PORT(S) as kubectl does", () => {
  const SVC = type("", "Service", "services");
  const svcs = [
    obj("v1", "Service", "web", {
      spec: {
        type: "ClusterIP",
        clusterIP: "10.96.0.10",
        clusterIPs: ["10.96.0.10"],
        ports: [{ port: 80, protocol: "TCP" }],
        selector: { app: "web" },
      },
    }),
    obj("v1", "Service", "np", {
      spec: {
        type: "NodePort",
        clusterIP: "10.96.0.11",
        ports: [
          { port: 80, nodePort: 30080, protocol: "TCP" },
          { port: 53, protocol: "UDP" },
        ],
      },
    }),
    obj("v1", "Service", "lb", {
      spec: { type: "LoadBalancer", clusterIP: "10.96.0.12", ports: [{ port: 443 }] },
    }),
    obj("v1", "Service", "lb2", {
      spec: { type: "LoadBalancer", clusterIP: "10.96.0.13", ports: [{ port: 443 }] },
      status: { loadBalancer: { ingress: [{ ip: "1.2.3.4" }] } },
    }),
    obj("v1", "Service", "ext", { spec: { type: "ExternalName", externalName: "db.example.com" } }),
    obj("v1", "Service", "headless", { spec: { clusterIP: "None", ports: [] } }),
  ];
  assert.deepEqual(
    rows(SVC, svcs).map((r) => [r.NAME, r.TYPE, r["CLUSTER-IP"], r["EXTERNAL-IP"], r["PORT(S)"], r.SELECTOR]),
    [
      ["web", "ClusterIP", "10.96.0.10", "<none>", "80/TCP", "app=web"],
      ["np", "NodePort", "10.96.0.11", "<none>", "80:30080/TCP,53/UDP", "<none>"],
      ["lb", "LoadBalancer", "10.96.0.12", "<pending>", "443/TCP", "<none>"],
      ["lb2", "LoadBalancer", "10.96.0.13", "1.2.3.4", "443/TCP", "<none>"],
      ["ext", "ExternalName", "<none>", "db.example.com", "<none>", "<none>"],
      ["headless", "ClusterIP", "None", "<none>", "<none>", "<none>"],
    ],
  );
});

test("secrets, configmaps, namespaces and service accounts print their counts and status", () => {
  assert.deepEqual(
    rows(type("", "Secret", "secrets"), [
      obj("v1", "Secret", "s", { type: "kubernetes.io/tls", data: { "tls.crt": "", "tls.key": "" } }),
    ]),
    [{ NAME: "s", TYPE: "kubernetes.io/tls", DATA: 2, AGE: "5m" }],
  );
  assert.deepEqual(
    rows(type("", "ConfigMap", "configmaps"), [
      obj("v1", "ConfigMap", "c", { data: { a: "1" }, binaryData: { b: "" } }),
    ]),
    [{ NAME: "c", DATA: 2, AGE: "5m" }],
  );
  assert.deepEqual(
    rows(type("", "Namespace", "namespaces"), [
      obj("v1", "Namespace", "prod", { status: { phase: "Terminating" } }, 3 * 86400),
    ]),
    [{ NAME: "prod", STATUS: "Terminating", AGE: "3d" }],
  );
  assert.deepEqual(
    rows(type("", "ServiceAccount", "serviceaccounts"), [obj("v1", "ServiceAccount", "default", {}, 10)]),
    [{ NAME: "default", SECRETS: 0, AGE: "10s" }],
  );
});

test("events print LAST SEEN, TYPE, REASON, OBJECT and MESSAGE, with the wide columns in order", () => {
  const e = obj("v1", "Event", "web-1.abc", {
    involvedObject: { kind: "Pod", name: "web-1", fieldPath: "spec.containers{app}" },
    reason: "Pulled",
    type: "Normal",
    message: 'Successfully pulled image "nginx"\n',
    source: { component: "kubelet", host: "node-1" },
    firstTimestamp: ago(600),
    lastTimestamp: ago(30),
    count: 3,
  });
  const series = obj("v1", "Event", "x", {
    involvedObject: { kind: "Node" },
    type: "Warning",
    reason: "R",
    message: "m",
    eventTime: ago(100),
    series: { count: 7, lastObservedTime: ago(5) },
    reportingComponent: "ctrl",
  });
  const t = table(type("", "Event", "events"), [e, series]);
  assert.deepEqual(
    t.columnDefinitions.filter((c) => c.priority === 0).map((c) => c.name),
    ["Last Seen", "Type", "Reason", "Object", "Message"],
  );
  assert.deepEqual(t.rows[0]?.cells, [
    "30s",
    "Normal",
    "Pulled",
    "pod/web-1",
    "spec.containers{app}",
    "kubelet, node-1",
    'Successfully pulled image "nginx"',
    "10m",
    3,
    "web-1.abc",
  ]);
  assert.deepEqual(t.rows[1]?.cells, ["5s", "Warning", "R", "node", "", "ctrl", "m", "100s", 7, "x"]);
});

test("nodes, endpoints, roles and bindings print as kubectl get shows them", () => {
  const node = obj("v1", "Node", "node-1", {
    metadata: {
      name: "node-1",
      creationTimestamp: ago(86400),
      labels: { "node-role.kubernetes.io/control-plane": "" },
    },
    spec: { unschedulable: true },
    status: {
      conditions: [{ type: "Ready", status: "True" }],
      addresses: [{ type: "InternalIP", address: "172.18.0.2" }],
      nodeInfo: {
        kubeletVersion: "v1.32.4",
        osImage: "Airlock Sim",
        kernelVersion: "6.1",
        containerRuntimeVersion: "sim://1",
      },
    },
  });
  assert.deepEqual(rows(type("", "Node", "nodes"), [node]), [
    {
      NAME: "node-1",
      STATUS: "Ready,SchedulingDisabled",
      ROLES: "control-plane",
      AGE: "24h",
      VERSION: "v1.32.4",
      "INTERNAL-IP": "172.18.0.2",
      "EXTERNAL-IP": "<none>",
      "OS-IMAGE": "Airlock Sim",
      "KERNEL-VERSION": "6.1",
      "CONTAINER-RUNTIME": "sim://1",
    },
  ]);
  const EP = type("", "Endpoints", "endpoints");
  const ep = obj("v1", "Endpoints", "web", {
    subsets: [
      {
        addresses: [{ ip: "10.0.0.1" }, { ip: "10.0.0.2" }, { ip: "10.0.0.3" }, { ip: "10.0.0.4" }],
        ports: [{ port: 80 }],
      },
    ],
  });
  assert.deepEqual(
    rows(EP, [ep, obj("v1", "Endpoints", "none")]).map((r) => r.ENDPOINTS),
    ["10.0.0.1:80,10.0.0.2:80,10.0.0.3:80 + 1 more...", "<none>"],
  );
  const RBAC = "rbac.authorization.k8s.io";
  assert.deepEqual(rows(type(RBAC, "Role", "roles"), [obj(`${RBAC}/v1`, "Role", "reader")]), [
    { NAME: "reader", "CREATED AT": "2026-01-10T11:55:00Z" },
  ]);
  const rb = obj(`${RBAC}/v1`, "ClusterRoleBinding", "agents", {
    roleRef: { kind: "ClusterRole", name: "view" },
    subjects: [
      { kind: "User", name: "alice" },
      { kind: "Group", name: "agents" },
      { kind: "ServiceAccount", name: "bot", namespace: "ci" },
      { kind: "User", name: "bob" },
    ],
  });
  assert.deepEqual(rows(type(RBAC, "ClusterRoleBinding", "clusterrolebindings"), [rb]), [
    {
      NAME: "agents",
      ROLE: "ClusterRole/view",
      AGE: "5m",
      USERS: "alice, bob",
      GROUPS: "agents",
      SERVICEACCOUNTS: "ci/bot",
    },
  ]);
});

test("kinds without a printer get NAME and AGE; custom resources use their CRD's printer columns", () => {
  assert.deepEqual(rows(type("", "LimitRange", "limitranges"), [obj("v1", "LimitRange", "data")]), [
    { NAME: "data", AGE: "5m" },
  ]);
  const WIDGET = type("example.com", "Widget", "widgets");
  const w = obj("example.com/v1", "Widget", "w1", {
    spec: { size: 3, color: "red", tags: ["a"] },
    status: { conditions: [{ type: "Ready", status: "True" }], ok: true },
  });
  const defaults = table(WIDGET, [w]);
  assert.deepEqual(
    defaults.columnDefinitions.map((c) => [c.name, c.type]),
    [
      ["Name", "string"],
      ["Age", "date"],
    ],
  );
  assert.deepEqual(defaults.rows[0]?.cells, ["w1", "5m"]);
  const crd = {
    spec: {
      versions: [
        {
          name: "v1",
          additionalPrinterColumns: [
            { name: "Size", type: "integer", jsonPath: ".spec.size" },
            {
              name: "Color",
              type: "string",
              jsonPath: ".spec.color",
              priority: 1,
              description: "the colour",
            },
            { name: "Ready", type: "string", jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
            { name: "OK", type: "boolean", jsonPath: ".status.ok" },
            { name: "Tags", type: "string", jsonPath: ".spec.tags" },
            { name: "Missing", type: "string", jsonPath: ".spec.nope" },
            { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" },
          ],
        },
      ],
    },
  };
  const cols = printerColumnsOf(crd, "v1");
  assert.ok(cols);
  const t = table(WIDGET, [w], { printerColumns: cols });
  assert.deepEqual(
    t.columnDefinitions.map((c) => [c.name, c.priority]),
    [
      ["Name", 0],
      ["Size", 0],
      ["Color", 1],
      ["Ready", 0],
      ["OK", 0],
      ["Tags", 0],
      ["Missing", 0],
      ["Age", 0],
    ],
  );
  assert.equal(
    t.columnDefinitions[1]?.description,
    "Custom resource definition column (in JSONPath format): .spec.size",
  );
  assert.equal(t.columnDefinitions[2]?.description, "the colour");
  assert.deepEqual(t.rows[0]?.cells, ["w1", 3, "red", "True", true, '["a"]', null, "5m"]);
  assert.equal(printerColumnsOf(crd, "v2"), undefined);
});

test("the JSONPath subset resolves fields, indexes, quoted keys and equality filters", () => {
  const o = {
    metadata: { labels: { "app.kubernetes.io/name": "x" } },
    items: [{ n: 1 }, { n: 2 }],
    c: [{ t: "A", s: "1" }],
  };
  assert.equal(evalJsonPath(o, ".metadata.labels['app.kubernetes.io/name']"), "x");
  assert.equal(evalJsonPath(o, ".items[1].n"), 2);
  assert.equal(evalJsonPath(o, ".items[*].n"), 1);
  assert.equal(evalJsonPath(o, "{.c[?(@.t=='A')].s}"), "1");
  assert.equal(evalJsonPath(o, ".c[?(@.t=='B')].s"), undefined);
  assert.equal(evalJsonPath(o, ".items[9].n"), undefined);
  assert.equal(evalJsonPath(o, "..bad syntax"), undefined);
});

// The demo cluster: one Ready node, the usual namespaces, a `web` Deployment in prod whose pods read a database
// password from a Secret (so masking has something to mask in env, Secret data and exec output), an `api` Deployment
// in staging, their Services, a ConfigMap, the `mcp-server` ServiceAccount, and kube's default RBAC roles.
//
// Objects are written fully defaulted, as kube-apiserver would have stored them, because the seed goes straight to
// the store and skips the API layer's defaulting. Seeding is idempotent: anything already present is left as it is.

import type { KubeObject, ObjectStore, ResourceRegistry } from "./contracts.ts";
import { NODE_IP, NODE_NAME } from "./controllers/context.ts";
import { StatusError } from "./status.ts";

export const DEMO_NAMESPACES = ["default", "kube-system", "kube-public", "prod", "staging"];
export const DEMO_DB_PASSWORD = "s3cr3t-pa55w0rd-7f1c";

const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64");

function namespace(name: string): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: { name, labels: { "kubernetes.io/metadata.name": name } },
    spec: { finalizers: ["kubernetes"] },
    status: { phase: "Active" },
  };
}

function node(): KubeObject {
  const time = new Date().toISOString().replace(/\.\d+Z$/, "Z");
  const capacity = {
    cpu: "4",
    "ephemeral-storage": "102626232Ki",
    "hugepages-2Mi": "0",
    memory: "16374872Ki",
    pods: "110",
  };
  const cond = (type: string, status: string, reason: string, message: string) => ({
    type,
    status,
    lastHeartbeatTime: time,
    lastTransitionTime: time,
    reason,
    message,
  });
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      name: NODE_NAME,
      labels: {
        "beta.kubernetes.io/arch": "amd64",
        "beta.kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        "kubernetes.io/hostname": NODE_NAME,
        "kubernetes.io/os": "linux",
        "node-role.kubernetes.io/control-plane": "",
      },
      annotations: {
        "node.alpha.kubernetes.io/ttl": "0",
        "volumes.kubernetes.io/controller-managed-attach-detach": "true",
      },
    },
    spec: { podCIDR: "10.244.0.0/24", podCIDRs: ["10.244.0.0/24"] },
    status: {
      capacity,
      allocatable: { ...capacity, "ephemeral-storage": "94580335255", memory: "16272472Ki" },
      conditions: [
        cond(
          "MemoryPressure",
          "False",
          "KubeletHasSufficientMemory",
          "kubelet has sufficient memory available",
        ),
        cond("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
        cond("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
        cond("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
      ],
      addresses: [
        { type: "InternalIP", address: NODE_IP },
        { type: "Hostname", address: NODE_NAME },
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
      nodeInfo: {
        architecture: "amd64",
        bootID: "3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f",
        containerRuntimeVersion: "containerd://1.7.24",
        kernelVersion: "6.8.0-sim",
        kubeProxyVersion: "v1.32.4",
        kubeletVersion: "v1.32.4",
        machineID: "5e8f0c1d2b3a49e7a6c5d4e3f2a1b0c9",
        operatingSystem: "linux",
        osImage: "Airlock simulator (not a real node)",
        systemUUID: "5e8f0c1d-2b3a-49e7-a6c5-d4e3f2a1b0c9",
      },
    },
  };
}

interface AppSpec {
  name: string;
  namespace: string;
  replicas: number;
  image: string;
  port: number;
  env?: Record<string, unknown>[];
}

function deployment(app: AppSpec): KubeObject {
  const container: Record<string, unknown> = {
    name: app.name,
    image: app.image,
    ports: [{ containerPort: app.port, name: "http", protocol: "TCP" }],
    resources: {},
    terminationMessagePath: "/dev/termination-log",
    terminationMessagePolicy: "File",
    imagePullPolicy: "IfNotPresent",
  };
  if (app.env) container.env = app.env;
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: app.name, namespace: app.namespace, labels: { app: app.name } },
    spec: {
      replicas: app.replicas,
      selector: { matchLabels: { app: app.name } },
      template: {
        metadata: { labels: { app: app.name } },
        spec: {
          containers: [container],
          restartPolicy: "Always",
          terminationGracePeriodSeconds: 30,
          dnsPolicy: "ClusterFirst",
          securityContext: {},
          schedulerName: "default-scheduler",
        },
      },
      strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: "25%", maxSurge: "25%" } },
      revisionHistoryLimit: 10,
      progressDeadlineSeconds: 600,
    },
  };
}

function service(name: string, namespace: string, port: number, targetPort: number): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name, namespace, labels: { app: name } },
    spec: {
      type: "ClusterIP",
      selector: { app: name },
      ports: [{ name: "http", port, targetPort, protocol: "TCP" }],
      sessionAffinity: "None",
    },
  };
}

const READ = ["get", "list", "watch"];
const WRITE = ["create", "delete", "deletecollection", "patch", "update"];
const rule = (apiGroups: string[], resources: string[], verbs: string[]) => ({ apiGroups, resources, verbs });

/** The rules of kube's bootstrap `view`, `edit` and `admin` ClusterRoles (plugin/pkg/auth/authorizer/rbac/bootstrappolicy). */
export function bootstrapRules(): Record<"view" | "edit" | "admin", ReturnType<typeof rule>[]> {
  const view = [
    rule(
      [""],
      [
        "configmaps",
        "endpoints",
        "persistentvolumeclaims",
        "persistentvolumeclaims/status",
        "pods",
        "replicationcontrollers",
        "replicationcontrollers/scale",
        "serviceaccounts",
        "services",
        "services/status",
      ],
      READ,
    ),
    rule(
      [""],
      [
        "bindings",
        "events",
        "limitranges",
        "namespaces/status",
        "pods/log",
        "pods/status",
        "replicationcontrollers/status",
        "resourcequotas",
        "resourcequotas/status",
      ],
      READ,
    ),
    rule([""], ["namespaces"], READ),
    rule(["discovery.k8s.io"], ["endpointslices"], READ),
    rule(
      ["apps"],
      [
        "controllerrevisions",
        "daemonsets",
        "daemonsets/status",
        "deployments",
        "deployments/scale",
        "deployments/status",
        "replicasets",
        "replicasets/scale",
        "replicasets/status",
        "statefulsets",
        "statefulsets/scale",
        "statefulsets/status",
      ],
      READ,
    ),
    rule(["autoscaling"], ["horizontalpodautoscalers", "horizontalpodautoscalers/status"], READ),
    rule(["batch"], ["cronjobs", "cronjobs/status", "jobs", "jobs/status"], READ),
    rule(["policy"], ["poddisruptionbudgets", "poddisruptionbudgets/status"], READ),
    rule(["networking.k8s.io"], ["ingresses", "ingresses/status", "networkpolicies"], READ),
  ];
  const edit = [
    rule(
      [""],
      ["pods/attach", "pods/exec", "pods/portforward", "pods/proxy", "secrets", "services/proxy"],
      READ,
    ),
    rule([""], ["serviceaccounts"], ["impersonate"]),
    rule([""], ["pods", "pods/attach", "pods/exec", "pods/portforward", "pods/proxy"], WRITE),
    rule([""], ["pods/eviction"], ["create"]),
    rule(
      [""],
      [
        "configmaps",
        "events",
        "persistentvolumeclaims",
        "replicationcontrollers",
        "replicationcontrollers/scale",
        "secrets",
        "serviceaccounts",
        "services",
        "services/proxy",
      ],
      WRITE,
    ),
    rule([""], ["serviceaccounts/token"], ["create"]),
    rule(
      ["apps"],
      [
        "daemonsets",
        "deployments",
        "deployments/rollback",
        "deployments/scale",
        "replicasets",
        "replicasets/scale",
        "statefulsets",
        "statefulsets/scale",
      ],
      WRITE,
    ),
    rule(["autoscaling"], ["horizontalpodautoscalers"], WRITE),
    rule(["batch"], ["cronjobs", "jobs"], WRITE),
    rule(["policy"], ["poddisruptionbudgets"], WRITE),
    rule(["networking.k8s.io"], ["ingresses", "networkpolicies"], WRITE),
    ...view,
  ];
  const admin = [
    rule(["authorization.k8s.io"], ["localsubjectaccessreviews"], ["create"]),
    rule(["rbac.authorization.k8s.io"], ["rolebindings", "roles"], [...WRITE, ...READ]),
    ...edit,
  ];
  return { view, edit, admin };
}

function defaultRbac(): { gvr: [string, string, string]; object: KubeObject }[] {
  const rbac = (resource: string, object: KubeObject) => ({
    gvr: ["rbac.authorization.k8s.io", "v1", resource] as [string, string, string],
    object,
  });
  const meta = (name: string, labels: Record<string, string> = {}) => ({
    name,
    labels: { "kubernetes.io/bootstrapping": "rbac-defaults", ...labels },
    annotations: { "rbac.authorization.kubernetes.io/autoupdate": "true" },
  });
  const agg = "rbac.authorization.k8s.io/aggregate-to-";
  const role = (
    name: string,
    rules: unknown[],
    labels: Record<string, string> = {},
    aggregate = true,
  ): KubeObject => ({
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "ClusterRole",
    metadata: meta(name, labels),
    // Roles other components label aggregate-to-<name> join in, as with kube's aggregation controller.
    ...(aggregate
      ? { aggregationRule: { clusterRoleSelectors: [{ matchLabels: { [`${agg}${name}`]: "true" } }] } }
      : {}),
    rules,
  });
  const r = bootstrapRules();
  return [
    rbac(
      "clusterroles",
      role(
        "cluster-admin",
        [
          { apiGroups: ["*"], resources: ["*"], verbs: ["*"] },
          { nonResourceURLs: ["*"], verbs: ["*"] },
        ],
        {},
        false,
      ),
    ),
    rbac("clusterroles", role("admin", r.admin)),
    rbac("clusterroles", role("edit", r.edit, { [`${agg}admin`]: "true" })),
    rbac("clusterroles", role("view", r.view, { [`${agg}edit`]: "true" })),
    rbac("clusterrolebindings", {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: meta("cluster-admin"),
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "cluster-admin" },
      subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: "system:masters" }],
    }),
    // What the demo cluster lets Airlock identities do when the gateway impersonates them: everything except
    // impersonate, bind and escalate. Airlock's own policy is the guard the demo shows; the cluster still names
    // airlock:<name> in its record of every request.
    rbac(
      "clusterroles",
      role(
        "airlock-identities",
        [
          {
            apiGroups: ["*"],
            resources: ["*"],
            verbs: ["get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"],
          },
          { nonResourceURLs: ["*"], verbs: ["get"] },
        ],
        {},
        false,
      ),
    ),
    rbac("clusterrolebindings", {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: { name: "airlock-identities" },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "airlock-identities" },
      subjects: [
        { apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: "airlock:agents" },
        { apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: "airlock:humans" },
      ],
    }),
  ];
}

/** Every object of the demo cluster, in the order they are created, keyed by their group/version/resource. */
export function demoObjects(): { gvr: [string, string, string]; object: KubeObject }[] {
  const core = (resource: string, object: KubeObject) => ({
    gvr: ["", "v1", resource] as [string, string, string],
    object,
  });
  const apps = (object: KubeObject) => ({
    gvr: ["apps", "v1", "deployments"] as [string, string, string],
    object,
  });
  const secretRef = (key: string) => ({ valueFrom: { secretKeyRef: { name: "db-credentials", key } } });
  return [
    core("nodes", node()),
    ...DEMO_NAMESPACES.map((n) => core("namespaces", namespace(n))),
    core("services", {
      apiVersion: "v1",
      kind: "Service",
      metadata: {
        name: "kubernetes",
        namespace: "default",
        labels: { component: "apiserver", provider: "kubernetes" },
      },
      spec: {
        type: "ClusterIP",
        clusterIP: "10.96.0.1",
        ports: [{ name: "https", port: 443, targetPort: 6443, protocol: "TCP" }],
        sessionAffinity: "None",
      },
    }),
    core("endpoints", {
      apiVersion: "v1",
      kind: "Endpoints",
      metadata: {
        name: "kubernetes",
        namespace: "default",
        labels: { "endpointslice.kubernetes.io/skip-mirror": "true" },
      },
      subsets: [{ addresses: [{ ip: NODE_IP }], ports: [{ name: "https", port: 6443, protocol: "TCP" }] }],
    }),
    core("secrets", {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "db-credentials", namespace: "prod", labels: { app: "web" } },
      type: "Opaque",
      data: { username: b64("app"), password: b64(DEMO_DB_PASSWORD) },
    }),
    core("configmaps", {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "web-config", namespace: "prod", labels: { app: "web" } },
      data: { LOG_LEVEL: "info", FEATURE_FLAGS: "search,checkout", CACHE_TTL_SECONDS: "300" },
    }),
    core("serviceaccounts", {
      apiVersion: "v1",
      kind: "ServiceAccount",
      metadata: { name: "mcp-server", namespace: "prod" },
    }),
    apps(
      deployment({
        name: "web",
        namespace: "prod",
        replicas: 3,
        image: "nginx:1.27",
        port: 80,
        env: [
          { name: "DB_USER", ...secretRef("username") },
          { name: "DB_PASSWORD", ...secretRef("password") },
          { name: "LOG_LEVEL", value: "info" },
        ],
      }),
    ),
    apps(
      deployment({
        name: "api",
        namespace: "staging",
        replicas: 2,
        image: "ghcr.io/example/api:1.4.2",
        port: 8080,
        env: [{ name: "UPSTREAM_URL", value: "http://web.prod.svc.cluster.local" }],
      }),
    ),
    core("services", service("web", "prod", 80, 80)),
    core("services", service("api", "staging", 80, 8080)),
    ...defaultRbac(),
  ];
}

/** Creates the demo objects the store does not already hold. A missing type (not served) is skipped. */
export function seedDemo(store: ObjectStore, registry: ResourceRegistry): void {
  for (const { gvr, object } of demoObjects()) {
    const type = registry.find(...gvr);
    if (!type) continue;
    if (store.get(type, object.metadata.namespace ?? "", object.metadata.name ?? "")) continue;
    try {
      store.create(type, object);
    } catch (err) {
      if (!(err instanceof StatusError && err.status.reason === "AlreadyExists")) throw err;
    }
  }
}

// deploy/kubernetes: every overlay rendered by the real `kubectl kustomize` and applied to the simulator with
// `kubectl apply --dry-run=server` (the simulator validates NetworkPolicy, PodDisruptionBudget, PVC, RBAC and
// Deployment fields as kube-apiserver does: packages/sim/src/api/validation.ts), the rendered airlock.yaml and
// policies checked by the gateway's own validators, and the security-relevant fields asserted one by one.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { parseAllDocuments, stringify } from "yaml";
import { validateConfig } from "../../src/gateway/config.ts";
import { compileSources } from "../../src/policy/load.ts";
import { AIRLOCK_BIN } from "../helpers/cli.ts";
import { kubectl } from "../helpers/kubectl.ts";
import { type Simulator, startTestSimulator } from "../helpers/sim.ts";

const DEPLOY = fileURLToPath(new URL("../../deploy/kubernetes/", import.meta.url));
const OVERLAYS = ["single", "ha", "agent", "tunnel-gateway", "eks"] as const;
/** The overlays whose cluster credential is the service account airlock (bound by rbac/). */
const IN_TARGET = ["single", "ha", "agent"] as const;
/** The overlays applied to the target cluster, with the agents' namespace. */
const WITH_AGENTS = ["single", "ha", "agent", "eks"] as const;

// biome-ignore lint/suspicious/noExplicitAny: rendered Kubernetes objects of many kinds
type K8s = any;

let sim: Simulator;
const rendered = new Map<string, { text: string; objects: K8s[] }>();

async function render(overlay: string): Promise<{ text: string; objects: K8s[] }> {
  const r = await kubectl(sim.kubeconfigPath, ["kustomize", `${DEPLOY}overlays/${overlay}`]);
  assert.equal(r.code, 0, `kubectl kustomize overlays/${overlay}: ${r.stderr}`);
  return { text: r.stdout, objects: parseAllDocuments(r.stdout).map((d) => d.toJS()) };
}

const ofKind = (objects: K8s[], kind: string) => objects.filter((o) => o.kind === kind);
const named = (objects: K8s[], kind: string, name: string) =>
  objects.find((o) => o.kind === kind && o.metadata.name === name);
const workloads = (objects: K8s[]) => [...ofKind(objects, "Deployment"), ...ofKind(objects, "StatefulSet")];
const podSpecs = (objects: K8s[]) => workloads(objects).map((d) => d.spec.template.spec);
const toYaml = (objects: K8s[]) => objects.map((o) => stringify(o)).join("---\n");

/** An IPv4 address inside an IPv4 CIDR. */
function inCidr(ip: string, cidr: string): boolean {
  const num = (a: string) => a.split(".").reduce((n, p) => n * 256 + Number(p), 0);
  const [base = "", bits = "0"] = cidr.split("/");
  const size = 2 ** (32 - Number(bits));
  return Math.floor(num(ip) / size) === Math.floor(num(base) / size);
}

before(async () => {
  sim = await startTestSimulator();
  for (const o of OVERLAYS) rendered.set(o, await render(o));
  // As on a real cluster, a server-side dry run of objects in a namespace needs the namespace to exist.
  const namespaces = OVERLAYS.flatMap((o) =>
    ofKind((rendered.get(o) as { objects: K8s[] }).objects, "Namespace"),
  );
  const made = await kubectl(sim.kubeconfigPath, ["apply", "-f", "-"], { input: toYaml(namespaces) });
  assert.equal(made.code, 0, made.stderr);
});

after(async () => {
  await sim.close();
});

describe("every overlay renders and the simulator accepts it with --dry-run=server", () => {
  for (const overlay of OVERLAYS) {
    test(`overlays/${overlay}`, async () => {
      const { objects } = rendered.get(overlay) as { objects: K8s[] };
      const r = await kubectl(sim.kubeconfigPath, ["apply", "--dry-run=server", "-f", "-"], {
        input: toYaml(objects),
      });
      assert.equal(r.code, 0, `kubectl apply --dry-run=server: ${r.stderr}`);
      // The namespace's `default` service account exists already (made with the namespace, as kube's controller
      // does); kubectl notes it was not created by apply. Any other warning (an unknown field) fails.
      const warnings = r.stderr
        .split("\n")
        .filter((l) => l && !/serviceaccounts\/default is missing the kubectl/.test(l));
      assert.deepEqual(warnings, [], "no warnings (unknown fields would be named here)");
      const lines = r.stdout.trim().split("\n");
      assert.equal(lines.length, objects.length, r.stdout);
      for (const line of lines) assert.match(line, /(created|configured|unchanged) \(server dry run\)$/);
      // A dry run stores nothing.
      const got = await kubectl(sim.kubeconfigPath, [
        "get",
        "deployments,networkpolicies",
        "-A",
        "-o",
        "name",
      ]);
      assert.equal(got.stdout.trim(), "", "nothing but the namespaces was stored");
    });
  }
});

describe("the simulator validates the kinds the manifests use (a broken manifest fails the dry run)", () => {
  const cases: [string, (objects: K8s[]) => K8s, RegExp][] = [
    [
      "an ipBlock except outside its cidr",
      (o) => {
        const np = structuredClone(named(o, "NetworkPolicy", "agents-egress"));
        np.spec.egress[2].to[0].ipBlock = { cidr: "10.0.0.0/8", except: ["172.20.0.0/16"] };
        return np;
      },
      /The NetworkPolicy "agents-egress" is invalid: spec.egress\[2\].to\[0\].ipBlock.except\[0\]: Invalid value: "172.20.0.0\/16": must be a strict subset of `cidr`/,
    ],
    [
      "a NetworkPolicy peer with nothing in it",
      (o) => {
        const np = structuredClone(named(o, "NetworkPolicy", "agents-egress"));
        np.spec.egress[0].to = [{}];
        return np;
      },
      /spec.egress\[0\].to\[0\]: Required value: must specify a peer/,
    ],
    [
      "a PodDisruptionBudget with minAvailable and maxUnavailable",
      (o) => ({
        ...named(o, "PodDisruptionBudget", "airlock"),
        spec: { minAvailable: 2, maxUnavailable: 1 },
      }),
      /The PodDisruptionBudget "airlock" is invalid: spec: Invalid value: .*minAvailable and maxUnavailable cannot be both set/,
    ],
    [
      "a PersistentVolumeClaim without access modes or size",
      () => ({
        apiVersion: "v1",
        kind: "PersistentVolumeClaim",
        metadata: { name: "airlock-data", namespace: "airlock" },
        spec: {},
      }),
      /is invalid: \n\* spec.accessModes: Required value: at least 1 access mode is required\n\* spec.resources\[storage\]: Required value\n/,
    ],
    [
      "a ClusterRoleBinding to a Role, with a ServiceAccount subject lacking its namespace",
      (o) => {
        const b = structuredClone(named(o, "ClusterRoleBinding", "airlock-upstream"));
        b.roleRef.kind = "Role";
        delete b.subjects[0].namespace;
        return b;
      },
      /\* roleRef.kind: Unsupported value: "Role": supported values: "ClusterRole"\n\* subjects\[0\].namespace: Required value/,
    ],
    [
      "a ClusterRole rule without verbs",
      (o) => {
        const r = structuredClone(named(o, "ClusterRole", "airlock-upstream"));
        r.rules[0].verbs = [];
        return r;
      },
      /rules\[0\].verbs: Required value: verbs must contain at least one value/,
    ],
    [
      "a Deployment whose selector does not match its pods",
      (o) => {
        const d = structuredClone(named(o, "Deployment", "airlock"));
        d.spec.selector.matchLabels["app.kubernetes.io/component"] = "other";
        return d;
      },
      /spec.template.metadata.labels: Invalid value: .*`selector` does not match template `labels`/,
    ],
  ];
  for (const [name, broken, message] of cases) {
    test(name, async () => {
      const objects = (rendered.get("ha") as { objects: K8s[] }).objects;
      const r = await kubectl(sim.kubeconfigPath, ["apply", "--dry-run=server", "-f", "-"], {
        input: JSON.stringify(broken(objects)),
      });
      assert.notEqual(r.code, 0, r.stdout);
      assert.match(r.stderr, message);
    });
  }
});

describe("configuration", () => {
  for (const overlay of ["single", "ha", "tunnel-gateway", "eks"] as const) {
    test(`overlays/${overlay}: the rendered airlock.yaml and policies pass the gateway's own checks`, async () => {
      const { objects } = rendered.get(overlay) as { objects: K8s[] };
      const config = ofKind(objects, "ConfigMap").find((c) => c.metadata.name.startsWith("airlock-config-"));
      const { parse } = await import("yaml");
      const checked = validateConfig(parse(config.data["airlock.yaml"]), "/etc/airlock");
      assert.ok(checked.ok, `airlock.yaml: ${checked.ok ? "" : checked.errors.join("; ")}`);
      assert.equal(checked.config.dataDir, "/var/lib/airlock");
      assert.equal(checked.config.listen.port, 8443);
      const policies = ofKind(objects, "ConfigMap").find((c) =>
        c.metadata.name.startsWith("airlock-policies-"),
      );
      const compiled = compileSources(
        Object.entries(policies.data as Record<string, string>).map(([file, text]) => ({
          file,
          text,
          managed: false,
        })),
      );
      assert.ok(compiled.ok, `policies: ${compiled.ok ? "" : compiled.errors.join("; ")}`);
      // The gateway's pod mounts what the configuration names, and the data directory is a volume.
      const pod = podSpecs(objects)[0];
      const mounts = pod.containers[0].volumeMounts.map((m: K8s) => m.mountPath);
      for (const path of ["/etc/airlock/airlock.yaml", "/etc/airlock/policies", "/var/lib/airlock", "/tmp"]) {
        assert.ok(mounts.includes(path), `${path} is mounted`);
      }
      // The serving certificate comes from the Secret airlock-tls (a generated one would name only localhost).
      const tls = checked.config.tls;
      const tlsVolume = pod.volumes.find((v: K8s) => v.secret?.secretName === "airlock-tls")?.name;
      const tlsMount = pod.containers[0].volumeMounts.find((m: K8s) => m.name === tlsVolume)?.mountPath;
      for (const file of [tls?.certFile, tls?.keyFile, tls?.caFile]) {
        assert.ok(
          tlsMount && file?.startsWith(`${tlsMount}/`),
          `${file} is in the airlock-tls Secret's mount`,
        );
      }
    });
  }
});

describe("security-relevant fields", () => {
  test("every workload runs non-root, read-only, without capabilities, with seccomp and resource limits", () => {
    for (const overlay of OVERLAYS) {
      for (const pod of podSpecs((rendered.get(overlay) as { objects: K8s[] }).objects)) {
        assert.equal(pod.securityContext.runAsNonRoot, true, overlay);
        assert.equal(pod.securityContext.seccompProfile.type, "RuntimeDefault", overlay);
        assert.ok(pod.securityContext.runAsUser > 0, overlay);
        for (const c of [...pod.containers, ...(pod.initContainers ?? [])]) {
          const at = `${overlay}/${c.name}`;
          assert.equal(c.securityContext.readOnlyRootFilesystem, true, at);
          assert.equal(c.securityContext.allowPrivilegeEscalation, false, at);
          assert.equal(c.securityContext.runAsNonRoot, true, at);
          assert.deepEqual(c.securityContext.capabilities.drop, ["ALL"], at);
          assert.equal(c.securityContext.capabilities.add, undefined, at);
          assert.equal(c.securityContext.seccompProfile.type, "RuntimeDefault", at);
          assert.ok(c.resources.requests.cpu && c.resources.requests.memory, `${at}: requests`);
          assert.ok(c.resources.limits.cpu && c.resources.limits.memory, `${at}: limits`);
          // The only writable places are volumes: /tmp for every container.
          if (!c.command)
            assert.ok(
              c.volumeMounts.some((m: K8s) => m.mountPath === "/tmp"),
              `${at}: /tmp is a volume`,
            );
        }
      }
    }
  });

  test("the gateway is probed on /readyz and /healthz", () => {
    for (const overlay of ["single", "ha", "tunnel-gateway", "eks"] as const) {
      const [pod] = podSpecs((rendered.get(overlay) as { objects: K8s[] }).objects);
      const c = pod.containers[0];
      assert.equal(c.readinessProbe.httpGet.path, "/readyz", overlay);
      assert.equal(c.livenessProbe.httpGet.path, "/healthz", overlay);
      assert.equal(c.readinessProbe.httpGet.scheme, "HTTPS", overlay);
      assert.deepEqual(c.args, ["serve", "--config", "/etc/airlock/airlock.yaml"]);
    }
  });

  test("the agents' namespace: no token, no RBAC, egress only to Airlock, DNS and HTTPS away from the API server", () => {
    for (const overlay of WITH_AGENTS) {
      const { objects } = rendered.get(overlay) as { objects: K8s[] };
      const accounts = ofKind(objects, "ServiceAccount").filter((s) => s.metadata.namespace === "agents");
      assert.ok(accounts.length >= 2, `${overlay}: mcp-server and default`);
      for (const sa of accounts)
        assert.equal(sa.automountServiceAccountToken, false, `${overlay}: ${sa.metadata.name}`);
      for (const pod of podSpecs(objects)) {
        if (pod.serviceAccountName && accounts.some((a) => a.metadata.name === pod.serviceAccountName)) {
          assert.notEqual(pod.automountServiceAccountToken, true, "no agent workload mounts a token");
        }
      }
      for (const b of [...ofKind(objects, "RoleBinding"), ...ofKind(objects, "ClusterRoleBinding")]) {
        for (const s of b.subjects ?? []) {
          assert.ok(
            !(s.kind === "ServiceAccount" && s.namespace === "agents") &&
              !String(s.name).includes(":agents:"),
            `${overlay}: ${b.kind} ${b.metadata.name} binds nothing in the agents' namespace`,
          );
        }
      }
      const egress = named(objects, "NetworkPolicy", "agents-egress");
      assert.equal(egress.metadata.namespace, "agents");
      assert.deepEqual(egress.spec.podSelector, {}, "every pod of the namespace");
      assert.deepEqual(egress.spec.policyTypes, ["Egress"]);
      const deny = named(objects, "NetworkPolicy", "default-deny-ingress");
      assert.deepEqual(
        [deny.spec.podSelector, deny.spec.policyTypes, deny.spec.ingress],
        [{}, ["Ingress"], undefined],
      );
      for (const rule of egress.spec.egress) {
        assert.ok(
          rule.to?.length > 0 && rule.ports?.length > 0,
          "no rule allows every address or every port",
        );
      }
      const [airlock, dns, web] = egress.spec.egress;
      assert.deepEqual(airlock.to[0].namespaceSelector.matchLabels, {
        "kubernetes.io/metadata.name": "airlock",
      });
      assert.equal(airlock.to[0].podSelector.matchLabels["app.kubernetes.io/component"], "gateway");
      assert.deepEqual(airlock.ports, [{ protocol: "TCP", port: 8443 }]);
      assert.deepEqual(
        dns.ports.map((p: K8s) => p.port),
        [53, 53],
      );
      assert.deepEqual(web.ports, [{ protocol: "TCP", port: 443 }]);
      // The API server's addresses (ClusterIP of `kubernetes`, endpoints in the VPC) and the metadata endpoints are
      // excluded from the one ipBlock that reaches outside.
      const block = web.to[0].ipBlock;
      for (const apiServer of ["172.20.0.1", "10.0.12.34", "169.254.169.254", "169.254.170.23"]) {
        assert.ok(inCidr(apiServer, block.cidr), `${apiServer} is in ${block.cidr}`);
        assert.ok(
          block.except.some((e: string) => inCidr(apiServer, e)),
          `${apiServer} is excluded`,
        );
      }
      assert.ok(
        !block.except.some((e: string) => inCidr("8.8.8.8", e)),
        "the internet (the model API) stays reachable",
      );
    }
  });

  test("the gateway's and the tunnel agent's service account may impersonate Airlock's names and nothing else", () => {
    for (const overlay of IN_TARGET) {
      const { objects } = rendered.get(overlay) as { objects: K8s[] };
      const role = named(objects, "ClusterRole", "airlock-upstream");
      for (const rule of role.rules) {
        if (rule.verbs.includes("impersonate") && ["users", "groups"].includes(rule.resources[0])) {
          assert.ok(
            rule.resourceNames?.length > 0,
            "impersonation is pinned to names (never system:masters)",
          );
          assert.ok(!rule.resourceNames.includes("system:masters"));
        }
        assert.ok(!rule.verbs.includes("*") && !rule.resources.includes("*"), "no wildcard");
        assert.ok(
          !rule.verbs.some((v: string) => ["list", "watch", "update", "patch", "delete"].includes(v)),
        );
      }
      const binding = named(objects, "ClusterRoleBinding", "airlock-upstream");
      assert.deepEqual(binding.subjects, [{ kind: "ServiceAccount", name: "airlock", namespace: "airlock" }]);
      for (const pod of podSpecs(objects)) assert.equal(pod.serviceAccountName, "airlock", overlay);
    }
  });

  test("single: one replica, SQLite on a PersistentVolumeClaim, recreated rather than rolled", () => {
    const { objects } = rendered.get("single") as { objects: K8s[] };
    const [d] = ofKind(objects, "Deployment");
    assert.equal(d.spec.replicas, 1);
    assert.equal(d.spec.strategy.type, "Recreate");
    const data = d.spec.template.spec.volumes.find((v: K8s) => v.name === "data");
    assert.deepEqual(data, { name: "data", persistentVolumeClaim: { claimName: "airlock-data" } });
    assert.ok(named(objects, "PersistentVolumeClaim", "airlock-data"));
  });

  test("ha: three replicas on PostgreSQL, never two on a node, a PodDisruptionBudget, keys and TLS from Secrets", async () => {
    const { objects } = rendered.get("ha") as { objects: K8s[] };
    const [d] = ofKind(objects, "Deployment");
    assert.equal(d.spec.replicas, 3);
    const pod = d.spec.template.spec;
    const [anti] = pod.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution;
    assert.equal(anti.topologyKey, "kubernetes.io/hostname");
    assert.deepEqual(anti.labelSelector.matchLabels, d.spec.selector.matchLabels);
    const pdb = named(objects, "PodDisruptionBudget", "airlock");
    assert.equal(pdb.spec.minAvailable, 2);
    assert.deepEqual(pdb.spec.selector.matchLabels, d.spec.selector.matchLabels);
    const { parse } = await import("yaml");
    const config = parse(
      ofKind(objects, "ConfigMap").find((c) => c.metadata.name.startsWith("airlock-config-")).data[
        "airlock.yaml"
      ],
    );
    assert.deepEqual(config.store, { kind: "postgres", urlFile: "/etc/airlock/postgres/url" });
    const secrets = Object.fromEntries(
      pod.volumes.filter((v: K8s) => v.secret).map((v: K8s) => [v.name, v.secret.secretName]),
    );
    assert.deepEqual(secrets, { keys: "airlock-keys", tls: "airlock-tls", postgres: "airlock-postgres" });
    const mounts = pod.containers[0].volumeMounts;
    assert.ok(mounts.some((m: K8s) => m.name === "postgres" && config.store.urlFile.startsWith(m.mountPath)));
    assert.ok(mounts.some((m: K8s) => m.name === "tls" && config.tls.certFile.startsWith(m.mountPath)));
    assert.ok(pod.initContainers[0].volumeMounts.some((m: K8s) => m.name === "keys"));
    assert.equal(
      ofKind(objects, "Secret").length,
      0,
      "no secret value is committed: the Secrets are made at install",
    );
  });

  test("agent: the tunnel agent alone, one join token per pod, its certificate kept on its own volume", () => {
    const { objects } = rendered.get("agent") as { objects: K8s[] };
    assert.deepEqual(ofKind(objects, "Deployment"), [], "no gateway in this overlay");
    const deployments = ofKind(objects, "StatefulSet");
    assert.deepEqual(
      deployments.map((d) => d.metadata.name),
      ["airlock-agent"],
    );
    // A join token is one-time: each pod reads the one named after it, and keeps its certificate on its own claim.
    assert.ok(deployments[0].spec.replicas >= 2, "several agents share the cluster");
    assert.deepEqual(
      deployments[0].spec.volumeClaimTemplates.map((c: K8s) => c.metadata.name),
      ["state"],
    );
    const pod = deployments[0].spec.template.spec;
    const args: string[] = pod.containers[0].args;
    assert.equal(args[0], "agent");
    for (const flag of ["--gateway=https://", "--cluster=", "--join-token-file="]) {
      assert.ok(
        args.some((a) => a.startsWith(flag)),
        `${flag} given`,
      );
    }
    // Every flag the Deployment passes is one `airlock agent` knows (its --help lists them).
    const help = spawnSync(process.execPath, [AIRLOCK_BIN, "agent", "--help"], { encoding: "utf8" });
    assert.equal(help.status, 0, help.stderr);
    for (const arg of args.slice(1)) {
      const flag = /^(--[a-z-]+)/.exec(arg)?.[1] ?? arg;
      assert.match(help.stdout, new RegExp(`^\\s+${flag}\\b`, "m"), `airlock agent knows ${flag}`);
    }
    assert.equal(pod.automountServiceAccountToken, true, "the agent's in-cluster credential");
    assert.ok(pod.volumes.some((v: K8s) => v.secret?.secretName === "airlock-agent-join"));
    assert.equal(ofKind(objects, "Service").length, 0, "the agent accepts no connections");
  });
});

test("tunnel-gateway: the cluster is a tunnel, the agent port is served, and the gateway holds no cluster credential", async () => {
  const { objects } = rendered.get("tunnel-gateway") as { objects: K8s[] };
  const { parse } = await import("yaml");
  const config = parse(
    ofKind(objects, "ConfigMap").find((c) => c.metadata.name.startsWith("airlock-config-")).data[
      "airlock.yaml"
    ],
  );
  assert.deepEqual(config.clusters, [{ name: "prod", tunnel: {} }]);
  assert.equal(config.agents.listen.port, 8444);
  const [d] = ofKind(objects, "Deployment");
  const pod = d.spec.template.spec;
  assert.equal(pod.automountServiceAccountToken, false, "no service-account token in this gateway");
  assert.deepEqual(
    [
      ...ofKind(objects, "ClusterRole"),
      ...ofKind(objects, "ClusterRoleBinding"),
      ...ofKind(objects, "RoleBinding"),
    ],
    [],
    "no RBAC: it acts on no cluster itself",
  );
  assert.ok(pod.containers[0].ports.some((p: K8s) => p.containerPort === 8444 && p.name === "agents"));
  const svc = named(objects, "Service", "airlock");
  assert.ok(svc.spec.ports.some((p: K8s) => p.port === 8444 && p.targetPort === "agents"));
  const np = named(objects, "NetworkPolicy", "airlock-gateway");
  assert.ok(np.spec.ingress.some((r: K8s) => r.ports.some((p: K8s) => p.port === 8444)));
});

test("agents/check-isolation-job.yaml runs the check as an agent's pod runs, and the simulator accepts it", async () => {
  const file = `${DEPLOY}agents/check-isolation-job.yaml`;
  const r = await kubectl(sim.kubeconfigPath, ["apply", "--dry-run=server", "-f", file]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /job.batch\/airlock-check-isolation created \(server dry run\)/);
  const { parse } = await import("yaml");
  const { readFileSync } = await import("node:fs");
  const job = parse(readFileSync(file, "utf8"));
  const pod = job.spec.template.spec;
  assert.equal(job.metadata.namespace, "agents");
  assert.equal(pod.serviceAccountName, "mcp-server");
  assert.notEqual(pod.automountServiceAccountToken, true, "it sees what the agents see: no token");
  assert.equal(pod.containers[0].args[0], "check-isolation");
  const help = spawnSync(process.execPath, [AIRLOCK_BIN, "check-isolation", "--help"], { encoding: "utf8" });
  for (const arg of pod.containers[0].args.slice(1)) {
    assert.match(help.stdout, new RegExp(`^\\s+${/^(--[a-z-]+)/.exec(arg)?.[1]}\\b`, "m"), arg);
  }
});

test("eks: the gateway reaches the cluster as role Y; its service account mounts no token and is bound to nothing", async () => {
  const { objects } = rendered.get("eks") as { objects: K8s[] };
  const { parse } = await import("yaml");
  const config = parse(
    ofKind(objects, "ConfigMap").find((c) => c.metadata.name.startsWith("airlock-config-")).data[
      "airlock.yaml"
    ],
  );
  assert.equal(config.clusters[0].eks.roleArn, "arn:aws:iam::111122223333:role/airlock-upstream");
  const [d] = ofKind(objects, "Deployment");
  assert.equal(d.spec.template.spec.automountServiceAccountToken, false);
  const upstream = named(objects, "ClusterRoleBinding", "airlock-upstream");
  assert.deepEqual(upstream.subjects, [
    { kind: "Group", name: "airlock-upstream", apiGroup: "rbac.authorization.k8s.io" },
  ]);
  for (const b of [...ofKind(objects, "ClusterRoleBinding"), ...ofKind(objects, "RoleBinding")]) {
    assert.ok(
      !(b.subjects ?? []).some((s: K8s) => s.kind === "ServiceAccount"),
      `${b.metadata.name} binds no service account`,
    );
  }
});

test("agents/mcp-server-example.yaml: an agent workload runs with no token, as mcp-server, with Airlock's kubeconfig", async () => {
  const file = `${DEPLOY}agents/mcp-server-example.yaml`;
  const r = await kubectl(sim.kubeconfigPath, ["apply", "--dry-run=server", "-f", file]);
  assert.equal(r.code, 0, r.stderr);
  const { parse } = await import("yaml");
  const { readFileSync } = await import("node:fs");
  const d = parse(readFileSync(file, "utf8"));
  const pod = d.spec.template.spec;
  assert.equal(d.metadata.namespace, "agents");
  assert.equal(pod.serviceAccountName, "mcp-server");
  assert.equal(pod.automountServiceAccountToken, false);
  assert.equal(pod.securityContext.runAsNonRoot, true);
  const c = pod.containers[0];
  assert.equal(c.securityContext.readOnlyRootFilesystem, true);
  assert.deepEqual(c.securityContext.capabilities.drop, ["ALL"]);
  const kubeconfig = c.env.find((e: K8s) => e.name === "KUBECONFIG").value;
  const mount = c.volumeMounts.find((m: K8s) => kubeconfig.startsWith(`${m.mountPath}/`));
  assert.equal(
    pod.volumes.find((v: K8s) => v.name === mount.name).secret.secretName,
    "mcp-server-kubeconfig",
  );
  assert.ok(!pod.volumes.some((v: K8s) => v.projected), "no projected token");
});

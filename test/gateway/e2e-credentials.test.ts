// End to end, the credentials category under the demo policy: the real kubectl, as the demo agent, tries every way a
// clever agent would to get a cluster credential or more privilege (a token, a token Secret, a binding, a role that
// escalates, a workload running as another ServiceAccount or on the host, a debug container) — each is refused with
// a Status naming the category and how to allow it, while ordinary writes in staging still work. An identity whose
// policy names `credentials: [tokens]` gets its token masked in the answer.
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { eventually } from "../helpers/eventually.ts";
import { callGateway, startTestGateway, type TestGateway } from "../helpers/gateway.ts";
import { kubectl, spawnKubectl } from "../helpers/kubectl.ts";
import { policy } from "../policy/support.ts";
import { waitFor } from "./e2e-support.ts";

const DEMO = new URL("../../examples/policies/demo.yaml", import.meta.url).pathname;
const CATEGORY = /is forbidden: .*category "credentials".*credentials: \[/s;
let gw: TestGateway;
let agent: string;
let agentToken: string;
let minter: string;
let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "airlock-credentials-e2e-"));
  const extra = join(dir, "minter.yaml");
  await writeFile(
    extra,
    policy(
      "minter",
      "[{ identity: token-minter }]",
      [
        "    - { name: discovery, verbs: [get], nonResourceURLs: ['/api', '/api/*', '/apis', '/apis/*', '/version'], effect: allow }",
        "    - name: staging-tokens",
        "      verbs: [create]",
        "      resources: [serviceaccounts/token]",
        "      namespaces: [staging]",
        "      credentials: [tokens]",
        "      effect: allow",
      ].join("\n"),
    ),
  );
  gw = await startTestGateway({ policyFiles: [DEMO, extra] });
  const demoAgent = await gw.addIdentity("demo-agent", "agent", ["agents"]);
  agent = demoAgent.kubeconfig;
  agentToken = demoAgent.token;
  minter = (await gw.addIdentity("token-minter", "human", [])).kubeconfig;
});

after(async () => {
  await gw?.close();
  await rm(dir, { recursive: true, force: true });
});

const run = (args: string[], input?: string) => kubectl(agent, args, input === undefined ? {} : { input });

async function refused(args: string[], input?: string): Promise<string> {
  const r = await run(args, input);
  assert.notEqual(r.code, 0, `${args.join(" ")} succeeded: ${r.stdout}`);
  assert.match(r.stderr, CATEGORY, args.join(" "));
  assert.doesNotMatch(r.stdout, /eyJ/, "no JWT in the output");
  return r.stderr;
}

const yaml = (o: unknown) => JSON.stringify(o);

describe("minting a credential", () => {
  test("kubectl create token is refused in staging, naming the category and how to allow it", async () => {
    const err = await refused(["-n", "staging", "create", "token", "default"]);
    assert.match(err, /serviceaccounts\/token mints a service-account token/);
    assert.match(err, /"\*" never covers/);
  });

  test("…and in another namespace, and through create --raw", async () => {
    await refused(["-n", "kube-system", "create", "token", "default"]);
    await refused(["-n", "default", "create", "token", "default", "--duration=10m"]);
    const body = yaml({
      apiVersion: "authentication.k8s.io/v1",
      kind: "TokenRequest",
      spec: { audiences: [] },
    });
    // kubectl create --raw sends its body without a Content-Type: refused before policy (415, issue 12 §4); the
    // same TokenRequest as JSON is refused by the category. No token either way.
    const raw = await run(
      ["create", "--raw", "/api/v1/namespaces/staging/serviceaccounts/default/token", "-f", "-"],
      body,
    );
    assert.notEqual(raw.code, 0, raw.stdout);
    assert.match(raw.stderr, /UnsupportedMediaType.*without a Content-Type/);
    assert.doesNotMatch(raw.stdout, /eyJ/, "no JWT in the output");
    const json = await callGateway(
      gw,
      "POST",
      "/api/v1/namespaces/staging/serviceaccounts/default/token",
      agentToken,
      JSON.parse(body),
    );
    assert.equal(json.code, 403);
    assert.match(json.body.message, /category "credentials"/);
  });

  test("a Secret of the service-account-token type is refused; an Opaque one is not turned into one", async () => {
    const token = {
      apiVersion: "v1",
      kind: "Secret",
      metadata: {
        name: "sneaky",
        namespace: "staging",
        annotations: { "kubernetes.io/service-account.name": "default" },
      },
      type: "kubernetes.io/service-account-token",
    };
    await refused(["apply", "-f", "-"], yaml(token));
    await refused(["create", "-f", "-"], yaml(token));
    const made = await run(["-n", "staging", "create", "secret", "generic", "plain", "--from-literal=a=b"]);
    assert.equal(made.code, 0, made.stderr);
    await refused([
      "-n",
      "staging",
      "patch",
      "secret",
      "plain",
      "--type=merge",
      "-p",
      yaml({ type: "kubernetes.io/service-account-token" }),
    ]);
    await refused([
      "-n",
      "staging",
      "patch",
      "secret",
      "plain",
      "--type=json",
      "-p",
      yaml([
        {
          op: "add",
          path: "/metadata/annotations",
          value: { "kubernetes.io/service-account.name": "default" },
        },
      ]),
    ]);
    const label = await run(["-n", "staging", "label", "secret", "plain", "tier=web"]);
    assert.equal(label.code, 0, `an ordinary patch of the Secret still works: ${label.stderr}`);
  });

  test("a rule naming credentials: [tokens] allows the token, and the answer masks it", async () => {
    const r = await kubectl(minter, ["-n", "staging", "create", "token", "default"]);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stdout, /eyJ[\w-]+\.[\w-]+\./, "the JWT is masked");
    assert.ok(r.stdout.trim().length > 0);
  });
});

describe("privilege escalation", () => {
  test("RoleBindings to cluster-admin, admin or edit are refused; one to view (bindableRoles) is allowed", async () => {
    for (const role of ["cluster-admin", "admin", "edit"]) {
      const err = await refused([
        "-n",
        "staging",
        "create",
        "rolebinding",
        `to-${role}`,
        `--clusterrole=${role}`,
        "--user=me",
      ]);
      assert.match(err, new RegExp(`bindableRoles: \\[ClusterRole/${role}\\]`));
    }
    await refused(["create", "clusterrolebinding", "me-admin", "--clusterrole=cluster-admin", "--user=me"]);
    const ok = await run([
      "-n",
      "staging",
      "create",
      "rolebinding",
      "readers",
      "--clusterrole=view",
      "--user=me",
    ]);
    assert.equal(ok.code, 0, ok.stderr);
    // Judged on the resulting object (server-side dry run): still a binding to view, which bindableRoles allows.
    const more = await run([
      "-n",
      "staging",
      "patch",
      "rolebinding",
      "readers",
      "--type=json",
      "-p",
      yaml([{ op: "add", path: "/subjects/-", value: { kind: "User", name: "you" } }]),
    ]);
    assert.equal(more.code, 0, more.stderr);
  });

  test("Roles and ClusterRoles that grant escalate, bind, impersonate or aggregate are refused", async () => {
    await refused(["-n", "staging", "create", "role", "esc", "--verb=escalate", "--resource=roles"]);
    await refused([
      "-n",
      "staging",
      "create",
      "role",
      "imp",
      "--verb=impersonate",
      "--resource=serviceaccounts",
    ]);
    await refused(["-n", "staging", "create", "role", "all", "--verb=*", "--resource=*"]);
    await refused(["create", "clusterrole", "esc", "--verb=escalate,bind", "--resource=clusterroles"]);
    const agg = {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRole",
      metadata: { name: "more-edit", labels: { "rbac.authorization.k8s.io/aggregate-to-edit": "true" } },
      rules: [{ apiGroups: [""], resources: ["secrets"], verbs: ["get"] }],
    };
    await refused(["apply", "-f", "-"], yaml(agg));
    const plain = await run([
      "-n",
      "staging",
      "create",
      "role",
      "pod-reader",
      "--verb=get",
      "--resource=pods",
    ]);
    assert.equal(plain.code, 0, plain.stderr);
  });
});

describe("workloads", () => {
  const deployment = (spec: Record<string, unknown>) => ({
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "sa-web", namespace: "staging" },
    spec: {
      selector: { matchLabels: { app: "sa-web" } },
      template: {
        metadata: { labels: { app: "sa-web" } },
        spec: { containers: [{ name: "c", image: "nginx" }], ...spec },
      },
    },
  });

  test("a Deployment running as another ServiceAccount, or mounting a token, is refused", async () => {
    await refused(["apply", "-f", "-"], yaml(deployment({ serviceAccountName: "mcp-server" })));
    await refused(["apply", "-f", "-"], yaml(deployment({ automountServiceAccountToken: true })));
    const made = await run(["-n", "staging", "create", "deployment", "plain-web", "--image=nginx"]);
    assert.equal(made.code, 0, made.stderr);
    await refused(["-n", "staging", "set", "serviceaccount", "deployment", "plain-web", "mcp-server"]);
  });

  test("privileged, hostPath and host-namespace pods are refused in every pod-template kind", async () => {
    const privileged = {
      containers: [{ name: "c", image: "busybox", securityContext: { privileged: true } }],
    };
    const cron = {
      apiVersion: "batch/v1",
      kind: "CronJob",
      metadata: { name: "root", namespace: "staging" },
      spec: {
        schedule: "* * * * *",
        jobTemplate: { spec: { template: { spec: { ...privileged, restartPolicy: "Never" } } } },
      },
    };
    const err = await refused(["apply", "-f", "-"], yaml(cron));
    assert.match(err, /host-access/);
    await refused(["apply", "-f", "-"], yaml(deployment({ hostPID: true })));
    await refused(
      ["apply", "-f", "-"],
      yaml(deployment({ volumes: [{ name: "root", hostPath: { path: "/" } }] })),
    );
    await refused([
      "-n",
      "staging",
      "run",
      "hostnet",
      "--image=busybox",
      "--overrides",
      yaml({ spec: { hostNetwork: true } }),
    ]);
  });

  test("kubectl debug: an ephemeral container and a node debug pod are refused", async () => {
    const pods = await run(["-n", "staging", "get", "pods", "-l", "app=api", "-o", "name"]);
    const pod = pods.stdout.trim().split("\n")[0] ?? "";
    assert.ok(pod, pods.stderr);
    await refused(["-n", "staging", "debug", pod, "--image=busybox", "--", "true"]);
    const nodes = await run(["get", "nodes", "-o", "name"]);
    const node = nodes.stdout.trim().split("\n")[0] ?? "";
    assert.ok(node, nodes.stderr);
    await refused(["-n", "staging", "debug", node, "--image=busybox", "--", "true"]);
  });

  test("nodes/proxy is refused (the kubelet API)", async () => {
    const nodes = await run(["get", "nodes", "-o", "name"]);
    const node = (nodes.stdout.trim().split("\n")[0] ?? "").replace("node/", "");
    const r = await run(["get", "--raw", `/api/v1/nodes/${node}/proxy/pods`]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /category "credentials"|Forbidden/);
  });
});

describe("self reviews", () => {
  test("kubectl auth can-i answers what policy AND RBAC allow", async () => {
    const canI = async (...args: string[]) => {
      const r = await run(["auth", "can-i", ...args]);
      return { answer: r.stdout.trim(), code: r.code, err: r.stderr };
    };
    // RBAC (the demo cluster's airlock-identities role) allows all of these; policy decides.
    assert.equal((await canI("get", "pods", "-n", "prod")).answer, "yes");
    assert.equal((await canI("create", "configmaps", "-n", "staging")).answer, "yes");
    const token = await canI("create", "serviceaccounts", "--subresource=token", "-n", "staging");
    assert.match(
      token.answer,
      /^no - airlock: denied by policy builtin rule credentials/,
      "policy refuses minting a token",
    );
    assert.equal(token.code, 1);
    const ns = await canI("delete", "namespaces/staging");
    assert.match(ns.answer, /^no - airlock: denied by policy demo rule no-namespace-deletes/, ns.err);
    assert.match(
      (await canI("delete", "deployments", "-n", "prod")).answer,
      /^no\b/,
      "a justification and a review are needed first",
    );
    assert.match(
      (await canI("delete", "deployments", "-n", "prod")).answer,
      /denied by policy demo rule prod-writes-need-review: a justification is required and none was given \(with one, it is held for a review by policy demo rule prod-writes-need-review\)/,
    );
    assert.match(
      (await canI("create", "rolebindings", "-n", "staging")).answer,
      /^no\b/,
      "no body: roleRef unknown",
    );
    // RBAC refuses impersonate, whatever policy says.
    assert.match((await canI("impersonate", "users")).answer, /^no\b/);
    assert.match((await canI("*", "*")).answer, /^no\b/, "Airlock decides request by request");
    const list = await run(["auth", "can-i", "--list", "-n", "staging"]);
    assert.equal(list.code, 0, list.stderr);
  });

  test("kubectl auth whoami works under the demo policy", async () => {
    const r = await run(["auth", "whoami"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /airlock:demo-agent/);
  });
});

describe("port-forward names its ports", () => {
  test("web's port 80 is forwarded; a connection to port 22 ends the tunnel; the api pod is refused", async () => {
    const pods = await run(["-n", "prod", "get", "pods", "-l", "app=web", "-o", "name"]);
    const pod = pods.stdout.trim().split("\n")[0] ?? "";
    assert.ok(pod, pods.stderr);
    const child = spawnKubectl(agent, ["-n", "prod", "port-forward", pod, ":80", ":22"]);
    let out = "";
    let err = "";
    child.stdout?.setEncoding("utf8").on("data", (d: string) => {
      out += d;
    });
    child.stderr?.setEncoding("utf8").on("data", (d: string) => {
      err += d;
    });
    const closed = new Promise((r) => child.on("close", r));
    try {
      await waitFor(() => out, /Forwarding from 127\.0\.0\.1:\d+ -> 22/);
      const port80 = /Forwarding from 127\.0\.0\.1:(\d+) -> 80\n/.exec(out)?.[1];
      const port22 = /Forwarding from 127\.0\.0\.1:(\d+) -> 22\n/.exec(out)?.[1];
      const res = await fetch(`http://127.0.0.1:${port80}/`);
      assert.equal(res.status, 200);
      assert.match(await res.text(), /port 80/);
      await fetch(`http://127.0.0.1:${port22}/`).then(
        (r) => r.text(),
        () => "",
      );
      await Promise.race([closed, new Promise((r) => setTimeout(r, 10_000))]);
      assert.notEqual(child.exitCode ?? child.signalCode, null, "kubectl ended with the tunnel");
    } finally {
      if (child.exitCode === null) child.kill();
      await closed;
    }
    // The audit names the refusal; the rule that allowed the tunnel is the demo's port-forward rule.
    const pf = await eventually("the port-forward's completed audit record", async () =>
      (await gw.gateway.store.audit.list({ limit: 50 })).find(
        (e) => e.subresource === "portforward" && e.identityName === "demo-agent" && e.completedAt,
      ),
    );
    assert.equal(pf?.rule, "port-forward-web");
    assert.match(
      pf?.reason ?? "",
      /refused a port-forward connection: a connection to port 22 is not allowed/,
      err,
    );
    const api = await run(["-n", "staging", "get", "pods", "-l", "app=api", "-o", "name"]);
    const apiPod = api.stdout.trim().split("\n")[0] ?? "";
    const refusedPf = spawnKubectl(agent, ["-n", "staging", "port-forward", apiPod, ":8080"]);
    let apiErr = "";
    refusedPf.stderr?.setEncoding("utf8").on("data", (d: string) => {
      apiErr += d;
    });
    await new Promise((r) => refusedPf.on("close", r));
    assert.match(apiErr, /forbidden|Forbidden/);
  });
});

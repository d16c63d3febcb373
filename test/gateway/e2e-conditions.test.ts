// Conditions see what the request will do (issue 12 §4, issue 13 §1–3): real kubectl → Airlock (the demo policy plus
// a few rules of this file) → simulator. `object` is the RESULTING object (server-side dry run) for every patch type
// and for update, `oldObject` the stored one; label selectors on writes read the objects, never the body.
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { startTestGateway, type TestGateway } from "../helpers/gateway.ts";
import { kubectl } from "../helpers/kubectl.ts";
import { policy } from "../policy/support.ts";

const DEMO = new URL("../../examples/policies/demo.yaml", import.meta.url).pathname;
let gw: TestGateway;
let agent: string;
let agentToken: string;
let extraDir: string;

/** One raw request as the agent: the forms kubectl would never send. */
function raw(
  method: string,
  path: string,
  body: string | Buffer | undefined,
  headers: Record<string, string> = {},
): Promise<{ code: number; body: { message?: string; reason?: string } & Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${gw.gateway.url}${path}`,
      {
        method,
        // Node sends a DELETE body unframed unless told its length.
        headers: {
          authorization: `Bearer ${agentToken}`,
          ...(body === undefined ? {} : { "content-length": String(Buffer.byteLength(body)) }),
          ...headers,
        },
        ca: gw.gateway.caPem,
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8").on("data", (d: string) => {
          text += d;
        });
        res.on("end", () => resolve({ code: res.statusCode ?? 0, body: text ? JSON.parse(text) : {} }));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

const API = {
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "api", namespace: "staging", labels: { app: "api" } },
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: "api" } },
    template: {
      metadata: { labels: { app: "api" } },
      spec: { containers: [{ name: "api", image: "nginx:1.27" }] },
    },
  },
};

before(async () => {
  extraDir = await mkdtemp(join(tmpdir(), "airlock-cond-e2e-"));
  const extra = join(extraDir, "conditions.yaml");
  await writeFile(
    extra,
    policy(
      "conditions",
      "[{ group: agents }]",
      [
        "    - { name: label-staging, verbs: [patch], resources: [namespaces], names: [staging], effect: allow }",
        "    - name: no-privileged-pods",
        "      verbs: [create]",
        "      resources: [pods]",
        "      when: has(object.spec) && object.spec.containers.exists(c, has(c.securityContext) && has(c.securityContext.privileged) && c.securityContext.privileged == true)",
        "      effect: deny",
        "      message: privileged pods are not allowed",
        "    - name: protected-stays",
        "      verbs: [update, patch, delete]",
        "      resources: [configmaps]",
        "      labelSelector: { matchLabels: { protected: 'true' } }",
        "      effect: deny",
        "      message: protected objects stay as they are",
        "    - { name: no-reserved-names, verbs: [create], resources: [configmaps], names: ['reserved-*'], effect: deny }",
        "    - name: keep-me-stays",
        "      verbs: [delete]",
        "      resources: [configmaps]",
        "      names: [keep-me]",
        "      when: '!request.dryRun'",
        "      effect: deny",
        "      message: keep-me may only be deleted in a dry run",
      ].join("\n"),
    ),
  );
  await writeFile(
    join(extraDir, "owned.yaml"),
    policy(
      "owned",
      "[{ identity: label-agent }]",
      [
        "    - { name: reads, verbs: [get, list, watch], effect: allow }",
        "    - name: own-configmaps",
        "      verbs: [update, patch, delete]",
        "      resources: [configmaps]",
        "      namespaces: [staging]",
        "      labelSelector: { matchLabels: { owner: agent } }",
        "      effect: allow",
      ].join("\n"),
    ),
  );
  gw = await startTestGateway({ policyFiles: [DEMO, extra, join(extraDir, "owned.yaml")] });
  const id = await gw.addIdentity("demo-agent", "agent", ["agents"]);
  agent = id.kubeconfig;
  agentToken = id.token;
  // The demo seeds deployment api in staging; this file's tests start it at two replicas.
  const set = await kubectl(agent, ["apply", "--server-side", "--force-conflicts", "-f", "-"], {
    input: JSON.stringify(API),
  });
  assert.equal(set.code, 0, set.stderr);
});

after(async () => {
  await gw?.close();
  await rm(extraDir, { recursive: true, force: true });
});

const SCALE_DENIED =
  /deployments\.apps "api" is forbidden: airlock: patch denied by policy demo rule no-scale-to-zero/;

test("every patch type that scales to zero is judged on the resulting object and denied", async () => {
  const variants: [string, string[]][] = [
    ["json", ["--type=json", "-p", '[{"op":"replace","path":"/spec/replicas","value":0}]']],
    ["merge", ["--type=merge", "-p", '{"spec":{"replicas":0}}']],
    ["strategic", ["--type=strategic", "-p", '{"spec":{"replicas":0}}']],
  ];
  for (const [name, args] of variants) {
    const r = await kubectl(agent, ["-n", "staging", "patch", "deploy/api", ...args]);
    assert.notEqual(r.code, 0, `${name}: ${r.stdout}`);
    assert.match(r.stderr, SCALE_DENIED, name);
  }
  const still = await kubectl(agent, [
    "-n",
    "staging",
    "get",
    "deploy/api",
    "-o",
    "jsonpath={.spec.replicas}",
  ]);
  assert.equal(still.stdout, "2");
});

test("server-side apply to zero replicas is denied; to three it runs", async () => {
  const zero = { ...API, spec: { ...API.spec, replicas: 0 } };
  const apply = ["apply", "--server-side", "--force-conflicts", "-f", "-"];
  const r = await kubectl(agent, apply, { input: JSON.stringify(zero) });
  assert.notEqual(r.code, 0, r.stdout);
  assert.match(r.stderr, SCALE_DENIED);
  const three = { ...API, spec: { ...API.spec, replicas: 3 } };
  const ok = await kubectl(agent, apply, { input: JSON.stringify(three) });
  assert.equal(ok.code, 0, ok.stderr);
  const now = await kubectl(agent, ["-n", "staging", "get", "deploy/api", "-o", "jsonpath={.spec.replicas}"]);
  assert.equal(now.stdout, "3");
});

test("kubectl replace (update) and kubectl scale to zero are denied on the resulting object", async () => {
  const zero = { ...API, spec: { ...API.spec, replicas: 0 } };
  const r = await kubectl(agent, ["replace", "-f", "-"], { input: JSON.stringify(zero) });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /airlock: update denied by policy demo rule no-scale-to-zero/);
  const s = await kubectl(agent, ["-n", "staging", "scale", "deploy/api", "--replicas=0"]);
  assert.notEqual(s.code, 0);
  assert.match(s.stderr, /no-scale-to-zero/);
});

test("a patch that does not scale to zero runs, and the harmless JSON patch changes what it says", async () => {
  const r = await kubectl(agent, [
    "-n",
    "staging",
    "patch",
    "deploy/api",
    "--type=json",
    "-p",
    '[{"op":"replace","path":"/spec/replicas","value":4}]',
  ]);
  assert.equal(r.code, 0, r.stderr);
  const now = await kubectl(agent, ["-n", "staging", "get", "deploy/api", "-o", "jsonpath={.spec.replicas}"]);
  assert.equal(now.stdout, "4");
});

const CM = "/api/v1/namespaces/staging/configmaps";

test("a PUT with a body and no Content-Type is refused with 415 before policy, and nothing changes", async () => {
  const created = await raw("POST", CM, JSON.stringify({ metadata: { name: "no-ct" }, data: { a: "1" } }), {
    "content-type": "application/json",
  });
  assert.equal(created.code, 201, JSON.stringify(created.body));
  const r = await raw(
    "PUT",
    `${CM}/no-ct`,
    JSON.stringify({ metadata: { name: "no-ct" }, data: { a: "2" } }),
  );
  assert.equal(r.code, 415);
  assert.equal(r.body.reason, "UnsupportedMediaType");
  assert.match(String(r.body.message), /without a Content-Type/);
  const gzip = await raw("PUT", `${CM}/no-ct`, "{}", {
    "content-type": "application/json",
    "content-encoding": "gzip",
  });
  assert.equal(gzip.code, 415);
  const now = await kubectl(agent, ["-n", "staging", "get", "cm/no-ct", "-o", "jsonpath={.data.a}"]);
  assert.equal(now.stdout, "1");
});

test("100,000 nested arrays answer 400 (not 500), and so does a JSON body with a duplicate key", async () => {
  const deep = `{"metadata":{"name":"deep"},"data":${"[".repeat(100_000)}${"]".repeat(100_000)}}`;
  const r = await raw("POST", CM, deep, { "content-type": "application/json" });
  assert.equal(r.code, 400);
  assert.match(String(r.body.message), /nested deeper than 512 levels/);
  const dup = await raw(
    "PATCH",
    "/apis/apps/v1/namespaces/staging/deployments/api",
    '{"spec":{"replicas":0,"replicas":3}}',
    { "content-type": "application/merge-patch+json" },
  );
  assert.equal(dup.code, 400);
  assert.match(String(dup.body.message), /duplicate key "replicas"/);
});

test("YAML is read as the apiserver reads it: privileged: yes is a privileged pod, replicas: 0b0 is zero", async () => {
  const pod = [
    "apiVersion: v1",
    "kind: Pod",
    "metadata: {name: yes-pod}",
    "spec:",
    "  containers:",
    "  - name: c",
    "    image: busybox",
    "    securityContext:",
    "      privileged: yes",
  ].join("\n");
  const r = await raw("POST", "/api/v1/namespaces/staging/pods", pod, { "content-type": "application/yaml" });
  assert.equal(r.code, 403, JSON.stringify(r.body));
  assert.match(String(r.body.message), /denied by policy conditions rule no-privileged-pods/);
  const merged = [
    "apiVersion: v1",
    "kind: Pod",
    "metadata: {name: merge-pod}",
    "x-sc: &sc {privileged: on}",
    "spec:",
    "  containers:",
    "  - name: c",
    "    image: busybox",
    "    securityContext:",
    "      <<: *sc",
  ].join("\n");
  const m = await raw("POST", "/api/v1/namespaces/staging/pods", merged, {
    "content-type": "application/yaml",
  });
  assert.equal(m.code, 403, JSON.stringify(m.body));
  assert.equal(m.body.kind, "Status");
  assert.match(String(m.body.message), /denied by policy conditions rule no-privileged-pods/);
  const zero = await raw(
    "PATCH",
    "/apis/apps/v1/namespaces/staging/deployments/api?fieldManager=agent&force=true",
    "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api, namespace: staging}\nspec:\n  replicas: 0b0\n",
    { "content-type": "application/apply-patch+yaml" },
  );
  assert.equal(zero.code, 403, JSON.stringify(zero.body));
  assert.match(String(zero.body.message), /no-scale-to-zero/);
  const two = await raw(
    "PATCH",
    "/apis/apps/v1/namespaces/staging/deployments/api?fieldManager=agent&force=true",
    "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api, namespace: staging}\nspec:\n  replicas: 0b10\n",
    { "content-type": "application/apply-patch+yaml" },
  );
  assert.equal(two.code, 200, JSON.stringify(two.body));
  assert.equal((two.body.spec as { replicas: number }).replicas, 2);
});

async function makeConfigMap(name: string, labels: Record<string, string> = {}): Promise<void> {
  const r = await raw("POST", CM, JSON.stringify({ metadata: { name, labels }, data: { a: "1" } }), {
    "content-type": "application/json",
  });
  assert.equal(r.code, 201, JSON.stringify(r.body));
}

test("DeleteOptions are read from the body OR the query, as kube-apiserver does; both at once is refused", async () => {
  await makeConfigMap("keep-me");
  // kubectl --dry-run=server sends dryRun in the DeleteOptions body: a dry run, allowed.
  const dry = await kubectl(agent, ["-n", "staging", "delete", "cm/keep-me", "--dry-run=server"]);
  assert.equal(dry.code, 0, dry.stderr);
  // ?dryRun=All with a body lacking dryRun would be a REAL delete upstream: refused before policy.
  const both = await raw("DELETE", `${CM}/keep-me?dryRun=All`, '{"kind":"DeleteOptions","apiVersion":"v1"}', {
    "content-type": "application/json",
  });
  assert.equal(both.code, 400, JSON.stringify(both.body));
  assert.match(String(both.body.message), /both in the body and in the query \(dryRun\)/);
  const grace = await raw("DELETE", `${CM}/keep-me?gracePeriodSeconds=0`, '{"dryRun":["All"]}', {
    "content-type": "application/json",
  });
  assert.equal(grace.code, 400, JSON.stringify(grace.body));
  assert.match(String(grace.body.message), /both in the body and in the query \(gracePeriodSeconds\)/);
  // Query only (no body): the query is what the cluster reads.
  const queryDry = await raw("DELETE", `${CM}/keep-me?dryRun=All`, undefined);
  assert.equal(queryDry.code, 200, JSON.stringify(queryDry.body));
  const odd = await raw("DELETE", `${CM}/keep-me?dryRun=all`, undefined);
  assert.equal(odd.code, 400, JSON.stringify(odd.body));
  assert.match(
    String(odd.body.message),
    /dryRun must be "All" \(the only value kube-apiserver accepts\), not \["all"\]/,
  );
  // A real delete is denied by the rule.
  const real = await kubectl(agent, ["-n", "staging", "delete", "cm/keep-me"]);
  assert.notEqual(real.code, 0);
  assert.match(real.stderr, /keep-me-stays/);
  const still = await kubectl(agent, ["-n", "staging", "get", "cm/keep-me", "-o", "name"]);
  assert.equal(still.stdout.trim(), "configmap/keep-me");
});

test("a deny on a label matches a delete of a labelled object (the stored object's labels), and a patch removing it", async () => {
  await makeConfigMap("guarded", { protected: "true" });
  const del = await kubectl(agent, ["-n", "staging", "delete", "cm/guarded"]);
  assert.notEqual(del.code, 0);
  assert.match(del.stderr, /denied by policy conditions rule protected-stays/);
  const unlabel = await kubectl(agent, ["-n", "staging", "label", "cm/guarded", "protected-"]);
  assert.notEqual(unlabel.code, 0);
  assert.match(unlabel.stderr, /protected-stays/);
});

test("an allow on owner=agent needs the label before AND after; labels in the body prove nothing", async () => {
  const { kubeconfig, token } = await gw.addIdentity("label-agent", "agent", []);
  await makeConfigMap("theirs");
  await makeConfigMap("mine", { owner: "agent" });
  // Adding the label in the same patch does not make someone else's object ours.
  const grab = await kubectl(kubeconfig, ["-n", "staging", "label", "cm/theirs", "owner=agent"]);
  assert.notEqual(grab.code, 0);
  assert.match(grab.stderr, /default-deny/);
  // A DeleteOptions body carrying the label is ignored.
  const body = JSON.stringify({
    kind: "DeleteOptions",
    apiVersion: "v1",
    metadata: { labels: { owner: "agent" } },
  });
  const del = await new Promise<{ code: number; text: string }>((resolve, reject) => {
    const req = request(
      `${gw.gateway.url}${CM}/theirs`,
      {
        method: "DELETE",
        headers: {
          authorization: `Bearer ${token}`,
          "content-type": "application/json",
          // Node sends a DELETE body with neither length nor chunking unless told: the body would be read as the
          // next request (400) and the delete never judged.
          "content-length": Buffer.byteLength(body),
        },
        ca: gw.gateway.caPem,
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8").on("data", (d: string) => {
          text += d;
        });
        res.on("end", () => resolve({ code: res.statusCode ?? 0, text }));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
  assert.equal(del.code, 403, del.text);
  const refusal = JSON.parse(del.text) as { kind: string; message: string };
  assert.equal(refusal.kind, "Status");
  assert.match(refusal.message, /delete denied by policy default rule default-deny/);
  // Our own object: changing data is fine; giving it away (removing the label) is not.
  const edit = await kubectl(kubeconfig, [
    "-n",
    "staging",
    "patch",
    "cm/mine",
    "--type=merge",
    "-p",
    '{"data":{"a":"2"}}',
  ]);
  assert.equal(edit.code, 0, edit.stderr);
  const away = await kubectl(kubeconfig, ["-n", "staging", "label", "cm/mine", "owner-"]);
  assert.notEqual(away.code, 0);
  assert.match(away.stderr, /patch denied by policy default rule default-deny/);
  const kept = await kubectl(kubeconfig, [
    "-n",
    "staging",
    "get",
    "cm/mine",
    "-o",
    "jsonpath={.metadata.labels.owner}",
  ]);
  assert.equal(kept.stdout, "agent", "the label is still there");
  const gone = await kubectl(kubeconfig, ["-n", "staging", "delete", "cm/mine"]);
  assert.equal(gone.code, 0, gone.stderr);
  const theirs = await kubectl(agent, ["-n", "staging", "get", "cm/theirs", "-o", "name"]);
  assert.equal(theirs.stdout.trim(), "configmap/theirs");
});

test("kubectl apply --server-side creating a privileged pod is decided as create (and denied)", async () => {
  const pod = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "ssa-priv", namespace: "staging" },
    spec: { containers: [{ name: "c", image: "busybox", securityContext: { privileged: true } }] },
  };
  const r = await kubectl(agent, ["apply", "--server-side", "-f", "-"], { input: JSON.stringify(pod) });
  assert.notEqual(r.code, 0, r.stdout);
  assert.match(r.stderr, /airlock: create denied by policy conditions rule no-privileged-pods/);
  const none = await kubectl(agent, ["-n", "staging", "get", "pod/ssa-priv", "-o", "name"]);
  assert.notEqual(none.code, 0);
  // An apply that creates a harmless pod is a create too, and runs.
  const plain = {
    ...pod,
    metadata: { name: "ssa-plain", namespace: "staging" },
    spec: { containers: [{ name: "c", image: "busybox" }] },
  };
  const ok = await kubectl(agent, ["apply", "--server-side", "-f", "-"], { input: JSON.stringify(plain) });
  assert.equal(ok.code, 0, ok.stderr);
});

test("patching namespace staging with a bogus ownerReference counts as deleting it: no-namespace-deletes refuses it", async () => {
  const owner = {
    apiVersion: "v1",
    kind: "ConfigMap",
    name: "ghost",
    uid: "0b0c1d2e-0000-4000-8000-000000000000",
  };
  const r = await kubectl(agent, [
    "patch",
    "namespace",
    "staging",
    "--type=merge",
    "-p",
    JSON.stringify({ metadata: { ownerReferences: [owner] } }),
  ]);
  assert.notEqual(r.code, 0, r.stdout);
  assert.match(
    r.stderr,
    /denied by policy demo rule no-namespace-deletes: this patch counts as delete of namespaces "staging"/,
  );
  // The same rule set lets the agent label the namespace: only the deleting effect is refused.
  const label = await kubectl(agent, ["label", "namespace", "staging", "team=web", "--overwrite"]);
  assert.equal(label.code, 0, label.stderr);
  const refs = await kubectl(agent, [
    "get",
    "namespace",
    "staging",
    "-o",
    "jsonpath={.metadata.ownerReferences}",
  ]);
  assert.equal(refs.stdout, "");
});

test("names on a create match the created object's name, also from a protobuf body (kubectl create configmap)", async () => {
  const proto = await kubectl(agent, [
    "-n",
    "staging",
    "create",
    "configmap",
    "reserved-one",
    "--from-literal=a=1",
  ]);
  assert.notEqual(proto.code, 0, proto.stdout);
  assert.match(proto.stderr, /denied by policy conditions rule no-reserved-names/);
  const json = await raw("POST", CM, JSON.stringify({ metadata: { name: "reserved-two" } }), {
    "content-type": "application/json",
  });
  assert.equal(json.code, 403, JSON.stringify(json.body));
  const fine = await kubectl(agent, [
    "-n",
    "staging",
    "create",
    "configmap",
    "unreserved",
    "--from-literal=a=1",
  ]);
  assert.equal(fine.code, 0, fine.stderr);
});

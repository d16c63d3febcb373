// Scopes and subresources through the demo policy (issue 13 §5), with real kubectl: Namespace objects are
// cluster-scoped for `namespaces: ["*"]`, non-resource URLs need a rule naming them (discovery excepted), and the
// demo still allows what its comments claim (logs, exec, discovery).
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { startTestGateway, type TestGateway } from "../helpers/gateway.ts";
import { kubectl } from "../helpers/kubectl.ts";

const DEMO = new URL("../../examples/policies/demo.yaml", import.meta.url).pathname;
let gw: TestGateway;
let agent: string;
let human: string;

before(async () => {
  gw = await startTestGateway({ policyFiles: [DEMO] });
  agent = (await gw.addIdentity("demo-agent", "agent", ["agents"])).kubeconfig;
  human = (await gw.addIdentity("sre-human", "human", ["sre"])).kubeconfig;
});

after(async () => {
  await gw?.close();
});

test("writes-outside-prod (namespaces: ['*']) no longer lets the agent label namespace default privileged", async () => {
  for (const args of [
    ["label", "namespace", "default", "pod-security.kubernetes.io/enforce=privileged"],
    ["annotate", "namespace", "staging", "x=y"],
  ]) {
    const r = await kubectl(agent, args);
    assert.notEqual(r.code, 0, args.join(" "));
    assert.match(
      r.stderr,
      /namespaces "(default|staging)" is forbidden: airlock: patch denied by policy default rule default-deny/,
    );
  }
  const ns = await kubectl(human, ["get", "namespace", "default", "-o", "jsonpath={.metadata.labels}"]);
  assert.doesNotMatch(ns.stdout, /enforce/);
  // Namespaced objects in those namespaces are still writable, as the demo's comment says.
  const cm = await kubectl(agent, [
    "create",
    "configmap",
    "scopes-cm",
    "-n",
    "staging",
    "--from-literal=a=b",
  ]);
  assert.equal(cm.code, 0, cm.stderr);
});

test("read-everything allows discovery and version but not the cluster's /logs or /debug/pprof", async () => {
  const version = await kubectl(agent, ["version", "-o", "json"]);
  assert.equal(version.code, 0, version.stderr);
  const resources = await kubectl(agent, ["api-resources", "-o", "name"]);
  assert.equal(resources.code, 0, resources.stderr);
  assert.match(resources.stdout, /^pods$/m);
  // (/metrics at the gateway's root is the gateway's own endpoint, not the cluster's; engine tests cover it.)
  for (const path of ["/logs/", "/logs/kube-apiserver.log", "/debug/pprof/", "/debug/pprof/goroutine"]) {
    const r = await kubectl(agent, ["get", "--raw", path]);
    assert.notEqual(r.code, 0, path);
    assert.match(r.stderr, /forbidden: airlock: get denied by policy default rule default-deny/, path);
  }
  // The SRE policy's every-url rule names them: the gateway forwards (the simulator has no /logs: 404, not 403).
  const sre = await kubectl(human, ["get", "--raw", "/logs/"]);
  assert.doesNotMatch(sre.stderr, /forbidden: airlock/);
});

test("the demo still allows logs (read-everything covers pods/log) and exec (exec-allowlist names the verb)", async () => {
  const pods = await kubectl(agent, ["get", "pods", "-n", "prod", "-l", "app=web", "-o", "name"]);
  const pod = pods.stdout.trim().split("\n")[0];
  assert.ok(pod, pods.stderr);
  const logs = await kubectl(agent, ["logs", "-n", "prod", pod, "--tail=1"]);
  assert.equal(logs.code, 0, logs.stderr);
  const exec = await kubectl(agent, ["exec", "-n", "prod", pod.replace("pod/", ""), "--", "echo", "hello"]);
  assert.equal(exec.code, 0, exec.stderr);
  assert.match(exec.stdout, /hello/);
  // (The simulator serves no ReplicationControllers; objects.test.ts pins the demo's */scale on them.)
});

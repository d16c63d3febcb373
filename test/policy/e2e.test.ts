// The demo policy end to end: real kubectl → Airlock (policy engine over examples/policies/demo.yaml) → simulator.
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { startTestGateway, type TestGateway } from "../helpers/gateway.ts";
import { kubectl } from "../helpers/kubectl.ts";
import { policy } from "./support.ts";

const DEMO = new URL("../../examples/policies/demo.yaml", import.meta.url).pathname;
let gw: TestGateway;
let agent: string;
let limited: string;
let extraDir: string;

before(async () => {
  // A second policy file, for the rate limit: 2 configmap lists every 10 seconds for one identity.
  extraDir = await mkdtemp(join(tmpdir(), "airlock-policy-e2e-"));
  const extra = join(extraDir, "rate.yaml");
  await writeFile(
    extra,
    policy(
      "rate",
      "[{ identity: limited-agent }]",
      [
        "    - { name: discovery, verbs: [get], nonResourceURLs: ['/api', '/api/*', '/apis', '/apis/*', '/version'], effect: allow }",
        "    - name: few-lists",
        "      verbs: [list]",
        "      resources: [configmaps]",
        "      effect: allow",
        "      rateLimit: { requests: 2, per: 10s }",
      ].join("\n"),
    ),
  );
  gw = await startTestGateway({ policyFiles: [DEMO, extra] });
  agent = (await gw.addIdentity("demo-agent", "agent", ["agents"])).kubeconfig;
  limited = (await gw.addIdentity("limited-agent", "agent", [])).kubeconfig;
});

after(async () => {
  await gw?.close();
  await rm(extraDir, { recursive: true, force: true });
});

async function webPod(): Promise<string> {
  const pods = await kubectl(agent, ["get", "pods", "-n", "prod", "-l", "app=web", "-o", "name"]);
  assert.equal(pods.code, 0, pods.stderr);
  const name = pods.stdout.trim().split("\n")[0]?.replace("pod/", "");
  assert.ok(name, "the demo has web pods");
  return name;
}

test("reads through the demo policy work", async () => {
  const r = await kubectl(agent, ["get", "deployments", "-n", "prod"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^web\s/m);
});

test("deleting a namespace is denied with the policy's message", async () => {
  const r = await kubectl(agent, ["delete", "namespace", "staging"]);
  assert.notEqual(r.code, 0);
  assert.match(
    r.stderr,
    /Error from server \(Forbidden\): namespaces "staging" is forbidden: airlock: delete denied by policy demo rule no-namespace-deletes: namespaces are never deleted by agents/,
  );
});

test("exec -- rm -rf / and a shell running rm are denied with the policy's message; a harmless exec runs", async () => {
  const pod = await webPod();
  for (const argv of [
    ["rm", "-rf", "/"],
    ["sh", "-c", "rm -rf /"],
  ]) {
    const r = await kubectl(agent, ["exec", "-n", "prod", pod, "--", ...argv]);
    assert.notEqual(r.code, 0);
    assert.match(
      r.stderr,
      new RegExp(
        `pods "${pod}" is forbidden: airlock: exec denied by policy demo rule no-destructive-commands: destructive commands`,
      ),
      argv.join(" "),
    );
  }
  const ok = await kubectl(agent, ["exec", "-n", "prod", pod, "--", "echo", "hello"]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /hello/);
});

test("exec commands the gateway cannot resolve statically are denied by the demo's deny rule, saying why", async () => {
  const pod = await webPod();
  const cases: [string[], RegExp][] = [
    [
      ["sh", "-c", "X=rm; $X -rf /tmp/x"],
      /could not be resolved statically: parameter expansion in command position `\$X`/,
    ],
    [["sh", "-c", "$(echo rm) -rf /tmp/x"], /command substitution in command position/],
    [["bash", "-c", "a=r;b=m;$a$b /tmp/x"], /parameter expansion in command position `\$a\$b`/],
    [["sh", "-c", "eval rm /tmp/x"], /`eval`/],
    [["python3", "-c", "import os; os.unlink('/tmp/x')"], /interpreter given inline code \(`python3 -c`\)/],
    [["find", "/tmp", "-delete"], /find -delete/],
    [["unlink", "/tmp/x"], /it runs `unlink`/],
    [["sh", "-c", "'r''m' /tmp/x"], /it runs `rm`/],
    [
      ["tar", "cf", "-", "/dev/null", "--checkpoint=1", "--checkpoint-action=exec=sh 1>&2"],
      /could not be resolved statically: tar option that runs a command/,
    ],
  ];
  for (const [argv, why] of cases) {
    const r = await kubectl(agent, ["exec", "-n", "prod", pod, "--", ...argv]);
    assert.notEqual(r.code, 0, argv.join(" "));
    assert.match(r.stderr, /exec denied by policy demo rule no-destructive-commands/, argv.join(" "));
    assert.match(r.stderr, why, argv.join(" "));
  }
});

test("kubectl scale --replicas=0 is denied by the CEL rule on the body", async () => {
  const r = await kubectl(agent, ["scale", "deployment", "web", "-n", "prod", "--replicas=0"]);
  assert.notEqual(r.code, 0);
  assert.match(
    r.stderr,
    /airlock: patch denied by policy demo rule no-scale-to-zero: scaling a workload to zero/,
  );
});

test("a rate limit answers 429 with Retry-After, and kubectl retries until it succeeds", async () => {
  for (let i = 0; i < 3; i++) {
    const r = await kubectl(limited, ["get", "configmaps", "-n", "prod", "-o", "name"], {
      timeoutMs: 30_000,
    });
    assert.equal(r.code, 0, r.stderr);
  }
  const events = await gw.gateway.store.audit.list({ identityName: "limited-agent", limit: 100 });
  const limitedEvents = events.filter((e) => e.status === 429);
  assert.ok(limitedEvents.length >= 1, "at least one request was rate-limited");
  assert.equal(limitedEvents[0]?.rule, "few-lists");
  const lists = events.filter((e) => e.resource === "configmaps" && e.status === 200);
  assert.equal(lists.length, 3, "every kubectl call finally succeeded");
});

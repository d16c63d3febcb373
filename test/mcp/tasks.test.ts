// Issue 20 §5: an agent-task suite, as evaluators of Kubernetes MCP servers run them. Each task is a scripted
// sequence of tool calls through the official SDK client (over HTTPS; the read-only tasks again over `airlock mcp
// stdio`) against the demo policy, with assertions on the answers' structure and size: every answer stays under the
// task's character budget, and no planted secret value appears in any answer (text or structuredContent).
// One simulator + gateway for the file; the tasks run in order (some change the cluster for later ones).
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { DEMO_DB_PASSWORD } from "@airlock/sim/seed.ts";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { Principal } from "../../src/identity/types.ts";
import { httpsFetch } from "../../src/mcp/fetch.ts";
import { AIRLOCK_BIN } from "../helpers/cli.ts";
import { startTestGateway, type TestGateway } from "../helpers/gateway.ts";
import { kubectl } from "../helpers/kubectl.ts";

const DEMO = fileURLToPath(new URL("../../examples/policies/demo.yaml", import.meta.url));
const MARKER = /‹masked:[0-9a-f]{8}›/;
const PLANTED = ["pk_live_PLANTED_9f8e7d6c5b4a", "PLANTED-webhook-signing-2b7c", DEMO_DB_PASSWORD];
const PLANTED_B64 = PLANTED.map((p) => Buffer.from(p).toString("base64"));

let gw: TestGateway;
let agentToken: string;
let alice: Principal;
let https: Client;

interface Answer {
  text: string;
  isError: boolean;
  structured: Record<string, unknown> | undefined;
}

interface Figures {
  task: string;
  transport: string;
  calls: number;
  chars: number;
  maxAnswer: number;
  budget: number;
  passed: boolean;
}
const figures: Figures[] = [];
let secretsSeen = 0;

/** One task's tool-call recorder: every answer is checked against the budget and for planted secrets. */
function session(c: Client, task: string, transport: string, budget: number) {
  const f: Figures = { task, transport, calls: 0, chars: 0, maxAnswer: 0, budget, passed: false };
  figures.push(f);
  const call = async (name: string, args: Record<string, unknown>): Promise<Answer> => {
    const r = await c.callTool({ name, arguments: args });
    const content = r.content as { type: string; text?: string }[];
    const answer: Answer = {
      text: content.map((x) => x.text ?? "").join("\n"),
      isError: r.isError === true,
      structured: r.structuredContent as Record<string, unknown> | undefined,
    };
    const size = answer.text.length + (answer.structured ? JSON.stringify(answer.structured).length : 0);
    f.calls++;
    f.chars += size;
    f.maxAnswer = Math.max(f.maxAnswer, size);
    const all = answer.text + JSON.stringify(answer.structured ?? {});
    for (const secret of [...PLANTED, ...PLANTED_B64])
      if (all.includes(secret)) {
        secretsSeen++;
        assert.fail(`${task}: ${name} answered a planted secret`);
      }
    assert.ok(size <= budget, `${task}: ${name} answered ${size} characters (budget ${budget})`);
    return answer;
  };
  const done = () => {
    f.passed = true;
  };
  return { call, done };
}

function connectHttps(token: string): Promise<Client> {
  const c = new Client({ name: "airlock-tasks", version: "1.0.0" });
  const transport = new StreamableHTTPClientTransport(new URL(`${gw.gateway.url}/mcp`), {
    fetch: httpsFetch({ ca: gw.gateway.caPem }),
    requestInit: { headers: { authorization: `Bearer ${token}` } },
  });
  return c.connect(transport).then(() => c);
}

async function connectStdio(token: string): Promise<Client> {
  const caFile = join(gw.dir, "tasks-ca.crt");
  await writeFile(caFile, gw.gateway.caPem);
  const c = new Client({ name: "airlock-tasks-stdio", version: "1.0.0" });
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [AIRLOCK_BIN, "mcp", "stdio"],
    env: {
      ...process.env,
      AIRLOCK_SERVER: gw.gateway.url,
      AIRLOCK_TOKEN: token,
      AIRLOCK_CA: caFile,
    } as Record<string, string>,
    stderr: "ignore",
  });
  await c.connect(transport);
  return c;
}

async function admin(args: string[], input?: string): Promise<void> {
  const r = await kubectl(gw.sim.kubeconfigPath, args, input ? { input } : {});
  assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
}

async function approve(id: string): Promise<void> {
  const reviews = gw.gateway.runtime.reviews;
  assert.ok(reviews);
  await reviews.approve(id, alice, { reason: "task suite" });
}

const yaml = (s: string) => `${s.trim()}\n`;

before(async () => {
  gw = await startTestGateway({ policyFiles: [DEMO] });
  const agent = await gw.addIdentity("demo-agent", "agent", ["agents"]);
  await gw.gateway.store.identities.update("demo-agent", { defaultNamespace: "prod" });
  agentToken = agent.token;
  const a = await gw.addIdentity("alice", "human", ["sre"]);
  alice = {
    identityId: a.id,
    kind: "human",
    name: "alice",
    groups: ["sre"],
    labels: {},
    credentialId: "tasks",
  };
  // Planted: a Secret whose values must never reach the agent, a crash-looping pod with its events, a Service
  // whose selector matches nothing, completed Jobs in prod.
  await admin(
    ["apply", "-f", "-"],
    yaml(`
apiVersion: v1
kind: Secret
metadata: { name: payment-keys, namespace: staging }
data: { api-key: ${PLANTED_B64[0]}, webhook-secret: ${PLANTED_B64[1]} }
---
apiVersion: v1
kind: Pod
metadata: { name: worker-7d9, namespace: staging, labels: { app: worker } }
spec: { containers: [ { name: worker, image: "ghcr.io/example/worker:2.0" } ] }
---
apiVersion: v1
kind: Service
metadata: { name: checkout, namespace: staging }
spec: { selector: { app: checkout-v2 }, ports: [ { port: 80, targetPort: 8080 } ] }
---
apiVersion: batch/v1
kind: Job
metadata: { name: report-1, namespace: prod, labels: { task: nightly-report } }
spec: { template: { spec: { restartPolicy: Never, containers: [ { name: r, image: busybox } ] } } }
---
apiVersion: batch/v1
kind: Job
metadata: { name: report-2, namespace: prod, labels: { task: nightly-report } }
spec: { template: { spec: { restartPolicy: Never, containers: [ { name: r, image: busybox } ] } } }
`),
  );
  await admin([
    "-n",
    "staging",
    "patch",
    "pod",
    "worker-7d9",
    "--subresource=status",
    "--type=merge",
    "-p",
    JSON.stringify({
      status: {
        phase: "Running",
        containerStatuses: [
          {
            name: "worker",
            ready: false,
            restartCount: 7,
            image: "ghcr.io/example/worker:2.0",
            imageID: "",
            state: {
              waiting: { reason: "CrashLoopBackOff", message: "back-off 5m0s restarting failed container" },
            },
            lastState: { terminated: { exitCode: 1, reason: "Error" } },
          },
        ],
      },
    }),
  ]);
  await admin(
    ["create", "-f", "-"],
    yaml(`
apiVersion: v1
kind: Event
metadata: { name: worker-7d9.backoff, namespace: staging }
involvedObject: { kind: Pod, name: worker-7d9, namespace: staging }
type: Warning
reason: BackOff
message: "Back-off restarting failed container worker: missing env PAYMENT_API_URL"
count: 7
`),
  );
  https = await connectHttps(agentToken);
});

after(async () => {
  await https?.close();
  await gw?.close();
  const total = figures.reduce((n, f) => n + f.calls, 0);
  const passed = figures.filter((f) => f.passed).length;
  const lines = [
    `MCP task suite: ${passed}/${figures.length} tasks passed, ${total} tool calls, secrets seen: ${secretsSeen}`,
    ...figures.map(
      (f) =>
        `  ${f.passed ? "pass" : "FAIL"} ${f.transport.padEnd(5)} ${f.task.padEnd(44)} calls ${String(f.calls).padStart(2)}  chars ${String(f.chars).padStart(6)}  largest ${String(f.maxAnswer).padStart(5)} / budget ${f.budget}`,
    ),
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
});

/** A task: a name, a budget per answer (characters), and the scripted calls. */
interface Task {
  name: string;
  budget: number;
  readOnly: boolean;
  run(call: (name: string, args: Record<string, unknown>) => Promise<Answer>): Promise<void>;
}

const rows = (a: Answer) => (a.structured?.rows ?? []) as Record<string, string>[];

const TASKS: Task[] = [
  {
    name: "who am I and where do my calls go",
    budget: 2000,
    readOnly: true,
    async run(call) {
      const who = await call("k8s_whoami", {});
      assert.equal(who.structured?.identity, "demo-agent");
      assert.equal(who.structured?.defaultNamespace, "prod");
    },
  },
  {
    name: "find why a pod fails",
    budget: 8000,
    readOnly: true,
    async run(call) {
      const pods = await call("k8s_list", {
        resource: "pods",
        namespace: "staging",
        columns:
          "NAME:.metadata.name,READY:.status.containerStatuses[*].ready,WAITING:.status.containerStatuses[*].state.waiting.reason,RESTARTS:.status.containerStatuses[*].restartCount",
      });
      const bad = rows(pods).find((r) => r.WAITING === "CrashLoopBackOff");
      assert.equal(bad?.NAME, "worker-7d9");
      assert.equal(bad?.RESTARTS, "7");
      const d = await call("k8s_describe", { resource: "pods", name: "worker-7d9", namespace: "staging" });
      assert.match(d.text, /^Name: {9}worker-7d9$/m);
      const ev = (d.structured?.events ?? []) as Record<string, string>[];
      assert.ok(
        ev.some((e) => e.REASON === "BackOff" && /missing env PAYMENT_API_URL/.test(e.MESSAGE ?? "")),
      );
    },
  },
  {
    name: "find a misconfigured Service",
    budget: 6000,
    readOnly: true,
    async run(call) {
      const svc = await call("k8s_list", {
        resource: "services",
        namespace: "staging",
        columns: "NAME:.metadata.name,SELECTOR:.spec.selector",
      });
      const checkout = rows(svc).find((r) => r.NAME === "checkout");
      assert.match(checkout?.SELECTOR ?? "", /checkout-v2/);
      const ep = await call("k8s_get", { resource: "endpoints", name: "checkout", namespace: "staging" });
      assert.equal(ep.isError, false, ep.text);
      const subsets = (ep.structured?.object as { subsets?: unknown[] })?.subsets ?? [];
      assert.equal(subsets.length, 0, "no endpoints");
      const pods = await call("k8s_list", {
        resource: "pods",
        namespace: "staging",
        labelSelector: "app=checkout-v2",
      });
      assert.equal(pods.structured?.count, 0);
    },
  },
  {
    name: "read a Secret's keys without values",
    budget: 4000,
    readOnly: true,
    async run(call) {
      const s = await call("k8s_get", { resource: "secrets", name: "payment-keys", namespace: "staging" });
      const data = (s.structured?.object as { data?: Record<string, string> })?.data ?? {};
      assert.deepEqual(Object.keys(data).sort(), ["api-key", "webhook-secret"]);
      for (const v of Object.values(data)) assert.match(v, MARKER);
      assert.match(s.text, /^Masked 2 values: data\.api-key, data\.webhook-secret/m);
    },
  },
  {
    name: "list secrets as JSON stays masked",
    budget: 12000,
    readOnly: true,
    async run(call) {
      const s = await call("k8s_list", { resource: "secrets", namespace: "prod", output: "json" });
      assert.equal(s.isError, false, s.text);
      assert.ok(((s.structured?.items ?? []) as unknown[]).length >= 1);
    },
  },
  {
    name: "which image does each deployment run",
    budget: 3000,
    readOnly: true,
    async run(call) {
      const d = await call("k8s_list", {
        resource: "deployments",
        allNamespaces: true,
        columns: "NS:.metadata.namespace,NAME:.metadata.name,IMAGE:.spec.template.spec.containers[*].image",
      });
      assert.ok(rows(d).some((r) => r.NAME === "web" && r.IMAGE === "nginx:1.27"));
    },
  },
  {
    name: "page through pods with continue",
    budget: 3000,
    readOnly: true,
    async run(call) {
      let token: string | undefined;
      const seen = new Set<string>();
      for (let i = 0; i < 10; i++) {
        const p = await call("k8s_list", {
          resource: "pods",
          allNamespaces: true,
          output: "name",
          limit: 2,
          ...(token ? { continue: token } : {}),
        });
        for (const n of (p.structured?.names ?? []) as string[]) seen.add(n);
        token = p.structured?.continue as string | undefined;
        if (!token) break;
      }
      assert.ok(seen.size >= 4, [...seen].join(" "));
    },
  },
  {
    name: "read the cluster overview",
    budget: 4000,
    readOnly: true,
    async run(call) {
      void call;
      // The resource read is not a tool call; its size is checked the same way.
      const res = await taskClient.readResource({ uri: "airlock://cluster/overview" });
      const t = (res.contents[0] as { text?: string })?.text ?? "";
      assert.match(t, /^Namespaces \(\d+\): .*prod/m);
      assert.match(t, /Pods: \d+/);
      assert.ok(t.length < 4000);
    },
  },
  {
    name: "look up what a field means",
    budget: 4000,
    readOnly: true,
    async run(call) {
      const e = await call("k8s_explain", { resource: "deployments", field: "spec" });
      assert.equal(e.isError, false, e.text);
      const fields = (e.structured?.fields ?? []) as { name: string; description: string }[];
      assert.match(fields.find((f) => f.name === "replicas")?.description ?? "", /Number of desired pods/);
      const r = await call("k8s_explain", { resource: "pods", field: "spec.containers.image" });
      assert.equal(r.structured?.type, "string");
      assert.match(r.text, /^FIELD: {4}image <string>$/m);
    },
  },
  {
    name: "tail a deployment's logs",
    budget: 12000,
    readOnly: true,
    async run(call) {
      const l = await call("k8s_logs", { deployment: "web", tailLines: 5 });
      assert.equal(l.isError, false, l.text);
      const pods = l.structured?.pods as string[];
      assert.ok(pods.length >= 3 && pods.every((p) => p.startsWith("web-")), pods.join(" "));
      assert.match(l.text, /^\[pod\/web-\S+\] /m);
    },
  },
  {
    name: "follow logs for a bounded window",
    budget: 12000,
    readOnly: true,
    async run(call) {
      const started = Date.now();
      const l = await call("k8s_logs", {
        labelSelector: "app=web",
        tailLines: 1,
        follow: true,
        followSeconds: 2,
      });
      assert.equal(l.isError, false, l.text);
      assert.ok(Date.now() - started < 10_000, "the follow stopped");
      assert.match(l.text, /Followed for up to 2 s, then stopped/);
    },
  },
  {
    name: "check what I may do before doing it",
    budget: 3000,
    readOnly: true,
    async run(call) {
      const create = await call("k8s_can_i", {
        verb: "create",
        resource: "configmaps",
        namespace: "staging",
      });
      assert.equal(create.structured?.effect, "allow", create.text);
      assert.equal(create.structured?.rule, "writes-outside-prod");
      const rm = await call("k8s_can_i", {
        verb: "exec",
        resource: "pods",
        name: "x",
        command: ["rm", "-rf", "/"],
      });
      assert.equal(rm.structured?.effect, "deny");
    },
  },
  {
    name: "preview a prod change without a review",
    budget: 6000,
    readOnly: true,
    async run(call) {
      const before = (await gw.gateway.store.reviews.list({ limit: 1000 })).length;
      const d = await call("k8s_diff", {
        manifest: yaml(`
apiVersion: v1
kind: ConfigMap
metadata: { name: web-config, namespace: prod }
data: { LOG_LEVEL: debug }
`),
        forceConflicts: true,
      });
      assert.equal(d.isError, false, d.text);
      assert.equal((await gw.gateway.store.reviews.list({ limit: 1000 })).length, before);
    },
  },
  {
    name: "run a diagnostic command in a pod",
    budget: 8000,
    readOnly: false,
    async run(call) {
      const pods = await call("k8s_list", { resource: "pods", labelSelector: "app=web", output: "name" });
      const pod = ((pods.structured?.names ?? []) as string[])[0]?.replace("pods/", "");
      assert.ok(pod);
      const env = await call("k8s_exec", { pod, command: ["env"] });
      assert.equal(env.structured?.exitCode, 0);
      assert.match(String(env.structured?.stdout), /DB_PASSWORD=‹masked:[0-9a-f]{8}›/);
      assert.ok(env.structured?.masked, "the answer says the output was masked");
    },
  },
  {
    name: "a destructive command is refused with how to ask",
    budget: 3000,
    readOnly: false,
    async run(call) {
      const pods = await call("k8s_list", { resource: "pods", labelSelector: "app=web", output: "name" });
      const pod = ((pods.structured?.names ?? []) as string[])[0]?.replace("pods/", "");
      const rm = await call("k8s_exec", { pod, command: ["rm", "-rf", "/data"] });
      assert.equal(rm.isError, true);
      assert.equal(rm.text.split("\n").filter((l) => l.startsWith("How to ask:")).length, 1);
    },
  },
  {
    name: "scale with approval",
    budget: 6000,
    readOnly: false,
    async run(call) {
      const args = { name: "web", replicas: 4, justification: "INC-42: traffic spike on checkout" };
      const held = await call("k8s_scale", args);
      assert.equal(held.isError, false, held.text);
      const review = held.structured?.review as { id: string; state: string };
      assert.equal(review.state, "pending");
      await approve(review.id);
      const w = await call("airlock_review_wait", { id: review.id, timeoutSeconds: 5 });
      assert.equal(w.structured?.state, "approved");
      const done = await call("k8s_scale", args);
      assert.equal(done.isError, false, done.text);
      assert.equal(done.structured?.changed, true);
      const again = await call("k8s_scale", args);
      assert.equal(again.structured?.changed, false, "a repeat is 'no change', no second review");
    },
  },
  {
    name: "roll back a bad rollout",
    budget: 6000,
    readOnly: false,
    async run(call) {
      const bad = await call("k8s_patch", {
        resource: "deployments",
        name: "api",
        namespace: "staging",
        type: "strategic",
        patch: {
          spec: {
            template: { spec: { containers: [{ name: "api", image: "ghcr.io/example/api:9.9.9-broken" }] } },
          },
        },
      });
      assert.equal(bad.isError, false, bad.text);
      const h = await call("k8s_rollout_history", { name: "api", namespace: "staging" });
      assert.ok(rows(h).length >= 2, h.text);
      assert.equal(rows(h).at(-1)?.IMAGES, "ghcr.io/example/api:9.9.9-broken");
      const undo = await call("k8s_rollout_undo", { name: "api", namespace: "staging" });
      assert.equal(undo.isError, false, undo.text);
      assert.equal(undo.structured?.changed, true);
      const got = await call("k8s_list", {
        resource: "deployments",
        namespace: "staging",
        columns: "NAME:.metadata.name,IMAGE:.spec.template.spec.containers[*].image",
      });
      assert.equal(rows(got).find((r) => r.NAME === "api")?.IMAGE, "ghcr.io/example/api:1.4.2");
    },
  },
  {
    name: "pause and resume a rollout",
    budget: 3000,
    readOnly: false,
    async run(call) {
      const p = await call("k8s_rollout_pause", { name: "api", namespace: "staging" });
      assert.equal(p.structured?.changed, true, p.text);
      const again = await call("k8s_rollout_pause", { name: "api", namespace: "staging" });
      assert.equal(again.structured?.changed, false);
      const r = await call("k8s_rollout_resume", { name: "api", namespace: "staging" });
      assert.equal(r.structured?.changed, true);
    },
  },
  {
    name: "watch a rollout happen",
    budget: 6000,
    readOnly: false,
    async run(call) {
      const watching = call("k8s_watch", {
        resource: "deployments",
        namespace: "staging",
        name: "api",
        seconds: 3,
      });
      await new Promise((r) => setTimeout(r, 500));
      await call("k8s_rollout_restart", { name: "api", namespace: "staging" });
      const w = await watching;
      const events = (w.structured?.events ?? []) as Record<string, string>[];
      assert.ok(
        events.some((e) => e.TYPE === "MODIFIED" && e.NAME === "api"),
        w.text,
      );
    },
  },
  {
    name: "clean up completed Jobs with approval",
    budget: 8000,
    readOnly: false,
    async run(call) {
      const jobs = await call("k8s_list", {
        resource: "jobs",
        labelSelector: "task=nightly-report",
        columns: "NAME:.metadata.name,SUCCEEDED:.status.succeeded",
      });
      assert.deepEqual(
        rows(jobs).map((r) => r.SUCCEEDED),
        ["1", "1"],
        jobs.text,
      );
      const args = {
        resource: "jobs",
        labelSelector: "task=nightly-report",
        justification: "CHG-7: nightly report cleanup",
      };
      const held = await call("k8s_delete", args);
      assert.equal(held.isError, false, held.text);
      const pending = held.structured?.pending as { object: string; review: string }[];
      assert.equal(pending.length, 2);
      for (const p of pending) {
        const r = await gw.gateway.store.reviews.get(p.review);
        assert.match(r?.request.name ?? "", /^report-[12]$/, "each review is bound to one listed object");
        await approve(p.review);
      }
      const done = await call("k8s_delete", args);
      assert.deepEqual(((done.structured?.deleted ?? []) as string[]).sort(), [
        "jobs.batch/report-1",
        "jobs.batch/report-2",
      ]);
      const left = await call("k8s_list", { resource: "jobs", labelSelector: "task=nightly-report" });
      assert.equal(left.structured?.count, 0);
    },
  },
  {
    name: "withdraw a change I no longer want",
    budget: 6000,
    readOnly: false,
    async run(call) {
      const held = await call("k8s_rollout_restart", {
        name: "web",
        justification: "CHG-9: pick up the new config",
      });
      const id = (held.structured?.review as { id?: string } | undefined)?.id;
      const w = await call("airlock_review_withdraw", { id, reason: "not needed" });
      assert.equal(w.structured?.state, "withdrawn");
    },
  },
];

// The client the current task runs over (the overview task reads a resource through it).
let taskClient: Client;

describe("agent tasks over HTTPS", () => {
  for (const task of TASKS)
    test(task.name, async () => {
      taskClient = https;
      const s = session(https, task.name, "https", task.budget);
      await task.run(s.call);
      s.done();
    });
});

describe("read-only agent tasks over stdio (airlock mcp stdio)", () => {
  let stdio: Client;
  before(async () => {
    stdio = await connectStdio(agentToken);
  });
  after(async () => {
    await stdio?.close();
  });
  for (const task of TASKS.filter((t) => t.readOnly))
    test(task.name, async () => {
      taskClient = stdio;
      const s = session(stdio, task.name, "stdio", task.budget);
      await task.run(s.call);
      s.done();
    });
});

test("the suite's figures: every task passed and no planted secret was seen", () => {
  assert.equal(secretsSeen, 0);
  assert.ok(TASKS.length >= 20);
  assert.equal(figures.length, TASKS.length + TASKS.filter((t) => t.readOnly).length);
  assert.deepEqual(
    figures.filter((f) => !f.passed).map((f) => `${f.transport} ${f.task}`),
    [],
  );
});

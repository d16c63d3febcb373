// Two gateway replicas on one PostgreSQL database, in front of one simulator (DESIGN.md "Storage"; issue 16 §7): what
// one replica writes the other uses at once, a review approved through one releases the request held on the other, a
// revocation through one closes the identity's open watch and exec on the other within a second (invariant 9), an
// agent's rate limit is one budget across both (N in total, not 2N), the sign-in throttle counts failures made on
// either, and a console session opened on one works on the other and after the first restarts.
//
// Each replica has its own data directory (its own bootstrap admin token and keys): everything shared goes through
// the database and its LISTEN/NOTIFY channel. Needs PostgreSQL (test/helpers/postgres.ts); fails, never skips.
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { after, before, test } from "node:test";
import { type Simulator, startSimulator } from "@airlock/sim";
import { type GatewayConfig, validateConfig } from "../../src/gateway/config.ts";
import type { Review } from "../../src/review/types.ts";
import { type Gateway, startGateway } from "../../src/server/index.ts";
import { kubectl, spawnKubectl } from "../helpers/kubectl.ts";
import { startTestPostgres, type TestPostgres } from "../helpers/postgres.ts";

// Deployment deletes in prod wait (60 s) for a human in group sre; reading config maps in staging is limited to 4 a
// minute; everything else is allowed.
const POLICY = `apiVersion: airlock.dev/v1alpha1
kind: Policy
metadata:
  name: test
spec:
  subjects: [{ group: agents }, { group: sre }]
  rules:
    - name: prod-deletes
      verbs: [delete]
      resources: [deployments]
      namespaces: [prod]
      effect: review
      review: { approvers: { groups: [sre] }, approvals: 1, mode: wait, timeout: 60s }
    - name: few-reads
      verbs: [get]
      resources: [configmaps]
      namespaces: [staging]
      effect: allow
      rateLimit: { requests: 4, per: 1m }
    - name: the-rest
      verbs: ["*"]
      effect: allow
`;

let dir: string;
let pg: TestPostgres | undefined;
let sim: Simulator | undefined;
const replicas: Gateway[] = [];
const configs: GatewayConfig[] = [];
const logs: string[] = [];
let a: Replica;
let b: Replica;

interface Replica {
  gateway: Gateway;
  adminToken: string;
}

interface Answer {
  status: number;
  body: string;
  headers: import("node:http").IncomingHttpHeaders;
}

function call(
  r: Replica,
  method: string,
  path: string,
  token: string | undefined,
  body?: unknown,
  extra: Record<string, string> = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${r.gateway.url}${path}`,
      {
        method,
        ca: r.gateway.caPem,
        headers: {
          ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
          ...(body === undefined ? {} : { "content-type": "application/json" }),
          ...extra,
        },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => {
          text += c;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text, headers: res.headers }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

async function startReplica(config: GatewayConfig): Promise<Replica> {
  const sink = new Writable({
    write(chunk, _enc, cb) {
      logs.push(String(chunk));
      cb();
    },
  });
  const gateway = await startGateway(config, { logDestination: sink });
  replicas.push(gateway);
  return { gateway, adminToken: (await readFile(gateway.adminTokenPath, "utf8")).trim() };
}

before(async () => {
  pg = await startTestPostgres();
  dir = await mkdtemp(join(tmpdir(), "airlock-replicas-"));
  sim = await startSimulator({ dir: join(dir, "sim"), port: 0, seed: "demo" });
  await writeFile(join(dir, "policy.yaml"), POLICY);
  for (const name of ["a", "b"]) {
    const validated = validateConfig(
      {
        listen: { address: "127.0.0.1", port: 0 },
        dataDir: join(dir, `gateway-${name}`),
        clusters: [{ name: "sim", kubeconfig: { path: sim.kubeconfigPath } }],
        store: { kind: "postgres", url: pg.url },
        policy: { files: [join(dir, "policy.yaml")] },
        identity: { throttle: { failuresPerSource: 3 } },
        log: { level: "info" },
      },
      dir,
    );
    if (!validated.ok) throw new Error(validated.errors.join("; "));
    configs.push(validated.config);
  }
  a = await startReplica(configs[0] as GatewayConfig);
  b = await startReplica(configs[1] as GatewayConfig);
  assert.ok(!logs.join("").includes(new URL(pg.url).password), "the database password is never logged");
});

after(async () => {
  for (const gateway of replicas) await gateway.close().catch(() => {});
  await sim?.close();
  await pg?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function createIdentity(on: Replica, name: string, kind: "agent" | "human", groups: string[]) {
  const created = await call(on, "POST", "/airlock/v1/identities", on.adminToken, { name, kind, groups });
  assert.equal(created.status, 201, created.body);
  return (JSON.parse(created.body) as { token: string }).token;
}

test("an identity created through one replica is usable through the other", async () => {
  const token = await createIdentity(a, "bot-shared", "agent", ["agents"]);
  const viaB = await call(b, "GET", "/api/v1/namespaces/prod/pods", token);
  assert.equal(viaB.status, 200, viaB.body);
  assert.equal((JSON.parse(viaB.body) as { kind: string }).kind, "PodList");
  const listed = await call(b, "GET", "/airlock/v1/identities/bot-shared", b.adminToken);
  assert.equal(listed.status, 200);
});

test("a request held on replica A proceeds as soon as replica B's admin API approves its review", async () => {
  const agent = await createIdentity(b, "bot-deleter", "agent", ["agents"]);
  const alice = await createIdentity(a, "alice", "human", ["sre"]);
  const held = call(a, "DELETE", "/apis/apps/v1/namespaces/prod/deployments/web", agent);
  let review: Review | undefined;
  for (let i = 0; i < 100 && !review; i++) {
    const list = await call(b, "GET", "/airlock/v1/reviews?state=pending", alice);
    assert.equal(list.status, 200, list.body);
    review = (JSON.parse(list.body) as { items: Review[] }).items.find((r) => r.request.name === "web");
    if (!review) await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(review, "the held request opened a review that replica B lists");
  const approved = await call(b, "POST", `/airlock/v1/reviews/${review.id}/approve`, alice, { reason: "ok" });
  assert.equal(approved.status, 200, approved.body);
  const approvedAt = Date.now();
  const answer = await held;
  const waited = Date.now() - approvedAt;
  assert.equal(answer.status, 200, answer.body);
  // The waiter re-reads the store only when woken or at its 60 s deadline: a prompt answer is the NOTIFY's doing.
  assert.ok(waited < 3000, `the held request finished ${waited} ms after the approval`);
  const gone = await call(a, "GET", "/apis/apps/v1/namespaces/prod/deployments/web", agent);
  assert.equal(gone.status, 404, "the approved delete reached the cluster");
});

test("a request held on replica B proceeds as soon as replica A's admin API approves its review", async () => {
  const agent = await createIdentity(a, "bot-deleter-b", "agent", ["agents"]);
  const erin = await createIdentity(b, "erin", "human", ["sre"]);
  const labels = { app: "wait-on-b" };
  const made = await call(a, "POST", "/apis/apps/v1/namespaces/prod/deployments", erin, {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "wait-on-b", namespace: "prod" },
    spec: {
      replicas: 1,
      selector: { matchLabels: labels },
      template: { metadata: { labels }, spec: { containers: [{ name: "app", image: "busybox" }] } },
    },
  });
  assert.equal(made.status, 201, made.body);
  const held = call(b, "DELETE", "/apis/apps/v1/namespaces/prod/deployments/wait-on-b", agent);
  let review: Review | undefined;
  for (let i = 0; i < 100 && !review; i++) {
    const list = await call(a, "GET", "/airlock/v1/reviews?state=pending", erin);
    review = (JSON.parse(list.body) as { items: Review[] }).items.find((r) => r.request.name === "wait-on-b");
    if (!review) await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(review, "the request held on B opened a review that replica A lists");
  const approved = await call(a, "POST", `/airlock/v1/reviews/${review.id}/approve`, erin, { reason: "ok" });
  assert.equal(approved.status, 200, approved.body);
  const approvedAt = Date.now();
  const answer = await held;
  const waited = Date.now() - approvedAt;
  assert.equal(answer.status, 200, answer.body);
  assert.ok(waited < 3000, `the request held on B finished ${waited} ms after the approval on A`);
});

test("revoking an identity through replica B closes its open watch on replica A within a second", async () => {
  const token = await createIdentity(a, "bot-watcher", "agent", ["agents"]);
  const opened = Promise.withResolvers<void>();
  const closed = Promise.withResolvers<number>();
  const req = request(
    // Config maps: a watch with objects to send answers at once (the simulator sends headers with the first event).
    `${a.gateway.url}/api/v1/namespaces/prod/configmaps?watch=true`,
    { ca: a.gateway.caPem, headers: { authorization: `Bearer ${token}` } },
    (res) => {
      assert.equal(res.statusCode, 200);
      opened.resolve();
      res.resume();
      res.on("close", () => closed.resolve(Date.now()));
    },
  );
  req.on("error", () => closed.resolve(Date.now()));
  req.end();
  const noAnswer = setTimeout(
    () => opened.reject(new Error("the watch on A did not answer within 10 s")),
    10_000,
  );
  await opened.promise;
  clearTimeout(noAnswer);
  await new Promise((r) => setTimeout(r, 200)); // the watch is registered as a live stream
  const revoked = await call(b, "POST", "/airlock/v1/identities/bot-watcher/revoke", b.adminToken);
  assert.equal(revoked.status, 200, revoked.body);
  const revokedAt = Date.now();
  const timeout = setTimeout(() => closed.resolve(Number.POSITIVE_INFINITY), 5000);
  const at = await closed.promise;
  clearTimeout(timeout);
  req.destroy();
  assert.ok(at - revokedAt < 1000, `the watch on A closed ${at - revokedAt} ms after the revocation on B`);
  const refused = await call(a, "GET", "/api/v1/namespaces/prod/pods", token);
  assert.equal(refused.status, 401, "and the next request on A is refused");
});

test("revoking an agent through replica B answers its request held on replica A at once and withdraws the review", async () => {
  const agent = await createIdentity(a, "bot-held", "agent", ["agents"]);
  const carol = await createIdentity(b, "carol", "human", ["sre"]);
  const labels = { app: "held-app" };
  const made = await call(a, "POST", "/apis/apps/v1/namespaces/prod/deployments", carol, {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "held-app", namespace: "prod" },
    spec: {
      replicas: 1,
      selector: { matchLabels: labels },
      template: { metadata: { labels }, spec: { containers: [{ name: "app", image: "busybox" }] } },
    },
  });
  assert.equal(made.status, 201, made.body);
  const held = call(a, "DELETE", "/apis/apps/v1/namespaces/prod/deployments/held-app", agent);
  let review: Review | undefined;
  for (let i = 0; i < 100 && !review; i++) {
    const list = await call(b, "GET", "/airlock/v1/reviews?state=pending", carol);
    review = (JSON.parse(list.body) as { items: Review[] }).items.find(
      (r) => r.requester.name === "bot-held",
    );
    if (!review) await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(review, "the held request opened a review");
  const revoked = await call(b, "POST", "/airlock/v1/identities/bot-held/revoke", b.adminToken);
  assert.equal(revoked.status, 200, revoked.body);
  const revokedAt = Date.now();
  const answer = await held;
  assert.ok(Date.now() - revokedAt < 1500, `answered ${Date.now() - revokedAt} ms after the revocation on B`);
  assert.equal(answer.status, 403, answer.body);
  assert.match(answer.body, /identity bot-held was revoked while this request waited for review/);
  const after = JSON.parse((await call(b, "GET", `/airlock/v1/reviews/${review.id}`, carol)).body) as {
    review: Review;
  };
  assert.equal(after.review.state, "withdrawn");
  const approve = await call(b, "POST", `/airlock/v1/reviews/${review.id}/approve`, carol, {});
  assert.equal(approve.status, 403, approve.body);
  const still = await call(a, "GET", "/apis/apps/v1/namespaces/prod/deployments/held-app", carol);
  assert.equal(still.status, 200, "the delete never reached the cluster");
});

test("an agent limited to 4 reads a minute gets 4 in total through both replicas, then 429 on either", async () => {
  const token = await createIdentity(a, "bot-limited", "agent", ["agents"]);
  const path = "/api/v1/namespaces/staging/configmaps/none";
  const codes: number[] = [];
  for (let i = 0; i < 6; i++) codes.push((await call(i % 2 ? b : a, "GET", path, token)).status);
  // Counted per process, each replica would admit 4 (8 in all); shared, the 5th and 6th are refused.
  assert.deepEqual(codes, [404, 404, 404, 404, 429, 429]);
  const refused = await call(b, "GET", path, token);
  assert.equal(refused.status, 429);
  assert.ok(Number(refused.headers["retry-after"]) > 0, "Retry-After says when a place opens");
  assert.match(
    refused.body,
    /rate-limited by policy test rule few-reads: at most 4 requests per 1m for bot-limited/,
  );
  // Another agent has its own budget, and requests no limited rule matches are not counted.
  const other = await createIdentity(b, "bot-other", "agent", ["agents"]);
  assert.equal((await call(a, "GET", path, other)).status, 404);
  assert.equal((await call(a, "GET", "/api/v1/namespaces/staging/configmaps", token)).status, 200);
});

function kubeconfigFor(r: Replica, token: string, file: string): Promise<string> {
  const ca = Buffer.from(r.gateway.caPem).toString("base64");
  const yaml = `apiVersion: v1
kind: Config
clusters: [{ name: gw, cluster: { server: "${r.gateway.url}", certificate-authority-data: ${ca} } }]
users: [{ name: u, user: { token: "${token}" } }]
contexts: [{ name: c, context: { cluster: gw, user: u, namespace: prod } }]
current-context: c
`;
  return writeFile(file, yaml, { mode: 0o600 }).then(() => file);
}

test("revoking an agent through replica A ends its kubectl exec and watch on replica B within a second", async () => {
  const token = await createIdentity(a, "bot-exec", "agent", ["agents"]);
  const kubeconfig = await kubeconfigFor(b, token, join(dir, "bot-exec.kubeconfig"));
  let pod = "";
  for (let i = 0; i < 50 && !pod; i++) {
    const r = await kubectl(kubeconfig, [
      "get",
      "pods",
      "-n",
      "staging",
      "-l",
      "app=api",
      "--field-selector=status.phase=Running",
      "-o",
      "name",
    ]);
    pod =
      r.stdout
        .trim()
        .split("\n")[0]
        ?.replace(/^pod\//, "") ?? "";
    if (!pod) await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(pod, "a running api pod");
  const exec = spawnKubectl(kubeconfig, ["exec", "-i", "-n", "staging", pod, "--", "cat"]);
  const watch = spawnKubectl(kubeconfig, ["get", "configmaps", "-w"]);
  const ended = (c: ChildProcess) => new Promise<void>((resolve) => c.on("exit", () => resolve()));
  const bothEnded = Promise.all([ended(exec), ended(watch)]);
  try {
    let echoed = "";
    exec.stdout?.setEncoding("utf8").on("data", (d: string) => {
      echoed += d;
    });
    let watched = "";
    watch.stdout?.setEncoding("utf8").on("data", (d: string) => {
      watched += d;
    });
    exec.stdin?.write("ping\n");
    for (let i = 0; i < 100 && (!echoed.includes("ping") || !watched.includes("NAME")); i++)
      await new Promise((r) => setTimeout(r, 100));
    assert.match(echoed, /ping/, "exec through B is running");
    assert.match(watched, /NAME/, "the watch through B is running");
    const revoked = await call(a, "POST", "/airlock/v1/identities/bot-exec/revoke", a.adminToken);
    assert.equal(revoked.status, 200, revoked.body);
    const revokedAt = performance.now();
    const outcome = await Promise.race([
      bothEnded.then(() => "ended"),
      new Promise((r) => setTimeout(() => r("open"), 3000)),
    ]);
    const took = performance.now() - revokedAt;
    assert.equal(outcome, "ended", "exec and watch on B ended after the revocation on A");
    assert.ok(took < 1000, `exec and watch on B ended ${Math.round(took)} ms after the revocation on A`);
  } finally {
    exec.kill("SIGKILL");
    watch.kill("SIGKILL");
  }
});

test("an MCP call carrying a session id another replica issued is answered (the id groups calls, it is no credential)", async () => {
  const token = await createIdentity(a, "bot-mcp", "agent", ["agents"]);
  const rpc = (r: Replica, body: unknown, session?: string) =>
    call(r, "POST", "/mcp", token, body, {
      accept: "application/json, text/event-stream",
      ...(session ? { "mcp-session-id": session } : {}),
    });
  const init = await rpc(a, {
    jsonrpc: "2.0",
    id: 1,
    method: "initialize",
    params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "t", version: "1" } },
  });
  assert.equal(init.status, 200, init.body);
  const session = String(init.headers["mcp-session-id"] ?? "");
  assert.ok(session, "replica A issued a session id");
  const listed = await rpc(b, { jsonrpc: "2.0", id: 2, method: "tools/list" }, session);
  assert.equal(listed.status, 200, listed.body);
  assert.match(listed.body, /k8s_/, "replica B lists the tools for A's session");
});

test("a console session opened on replica A works on replica B and after A restarts; signing out on B ends it", async () => {
  const token = await createIdentity(a, "dora", "human", ["sre"]);
  const signedIn = await call(a, "POST", "/ui/api/login", undefined, { token });
  assert.equal(signedIn.status, 200, signedIn.body);
  const cookie = String(signedIn.headers["set-cookie"]?.[0] ?? "").split(";")[0] ?? "";
  assert.match(cookie, /^__Host-airlock-session=/);
  const { csrfToken } = JSON.parse(signedIn.body) as { csrfToken: string };
  const session = (r: Replica) => call(r, "GET", "/ui/api/session", undefined, undefined, { cookie });
  const onB = await session(b);
  assert.equal(onB.status, 200, onB.body);
  assert.equal((JSON.parse(onB.body) as { name: string }).name, "dora");
  // The cookie acts on B's admin API as dora (with the session's CSRF token).
  const reviews = await call(b, "GET", "/airlock/v1/reviews?state=pending", undefined, undefined, { cookie });
  assert.equal(reviews.status, 200, reviews.body);
  // Restart A: a new process on the same data directory and database.
  const old = a.gateway;
  await old.close();
  replicas.splice(replicas.indexOf(old), 1);
  a = await startReplica(configs[0] as GatewayConfig);
  const afterRestart = await session(a);
  assert.equal(afterRestart.status, 200, afterRestart.body);
  assert.equal((JSON.parse(afterRestart.body) as { csrfToken: string }).csrfToken, csrfToken);
  const out = await call(b, "POST", "/ui/api/logout", undefined, {}, { cookie, "x-airlock-csrf": csrfToken });
  assert.equal(out.status, 200, out.body);
  assert.equal((await session(a)).status, 401, "signed out on B is signed out on A");
});

// Last: it uses up sign-in attempts from 127.0.0.1 for a minute.
test("failed sign-ins on either replica count against one budget per address", async () => {
  const bad = { token: "not-a-token-of-anyone" };
  const signIn = (r: Replica) => call(r, "POST", "/ui/api/login", undefined, bad);
  // failuresPerSource is 3: two failures on A and one on B use it up for both.
  assert.equal((await signIn(a)).status, 401);
  assert.equal((await signIn(a)).status, 401);
  assert.equal((await signIn(b)).status, 401);
  const throttled = await signIn(b);
  assert.equal(throttled.status, 429, throttled.body);
  assert.match(throttled.body, /console sign-in is throttled: at most 3 failed attempts from one address/);
  assert.equal((await signIn(a)).status, 429);
});

// Two gateway replicas on one PostgreSQL database, in front of one simulator (DESIGN.md "Storage"): what one replica
// writes the other uses at once, a review approved through one releases the request held on the other, and a
// revocation through one closes the identity's open watch on the other within a second (invariant 9).
//
// Each replica has its own data directory (its own bootstrap admin token and keys): everything shared goes through
// the database and its LISTEN/NOTIFY channel. Needs PostgreSQL (test/helpers/postgres.ts); fails, never skips.
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { after, before, test } from "node:test";
import { type Simulator, startSimulator } from "@airlock/sim";
import { validateConfig } from "../../src/gateway/config.ts";
import type { Decider } from "../../src/gateway/decide.ts";
import type { KubeRequest } from "../../src/kube/request.ts";
import type { Decision } from "../../src/policy/decision.ts";
import type { Review } from "../../src/review/types.ts";
import { type Gateway, startGateway } from "../../src/server/index.ts";
import { startTestPostgres, type TestPostgres } from "../helpers/postgres.ts";

// Deployment deletes in prod wait (60 s) for a human in group sre; everything else is allowed.
const decider: Decider = {
  decide(_principal, kube: KubeRequest): Decision {
    if (kube.action === "delete" && kube.info.namespace === "prod" && kube.info.resource === "deployments") {
      return {
        effect: "review",
        policy: "test",
        rule: "prod-deletes",
        review: {
          approvers: { identities: [], groups: ["sre"] },
          approvals: 1,
          mode: "wait",
          timeoutSeconds: 60,
        },
      };
    }
    return { effect: "allow", policy: "test", rule: "the-rest" };
  },
};

let dir: string;
let pg: TestPostgres | undefined;
let sim: Simulator | undefined;
const replicas: Gateway[] = [];
let a: Replica;
let b: Replica;

interface Replica {
  gateway: Gateway;
  adminToken: string;
}

interface Answer {
  status: number;
  body: string;
}

function call(r: Replica, method: string, path: string, token: string, body?: unknown): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${r.gateway.url}${path}`,
      {
        method,
        ca: r.gateway.caPem,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { "content-type": "application/json" }),
        },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => {
          text += c;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

before(async () => {
  pg = await startTestPostgres();
  dir = await mkdtemp(join(tmpdir(), "airlock-replicas-"));
  sim = await startSimulator({ dir: join(dir, "sim"), port: 0, seed: "demo" });
  const logs: string[] = [];
  for (const name of ["a", "b"]) {
    const validated = validateConfig(
      {
        listen: { address: "127.0.0.1", port: 0 },
        dataDir: join(dir, `gateway-${name}`),
        clusters: [{ name: "sim", kubeconfig: { path: sim.kubeconfigPath } }],
        store: { kind: "postgres", url: pg.url },
        log: { level: "info" },
      },
      dir,
    );
    if (!validated.ok) throw new Error(validated.errors.join("; "));
    const sink = new Writable({
      write(chunk, _enc, cb) {
        logs.push(String(chunk));
        cb();
      },
    });
    const gateway = await startGateway(validated.config, { logDestination: sink });
    gateway.runtime.decider = decider;
    replicas.push(gateway);
  }
  const [ga, gb] = replicas as [Gateway, Gateway];
  a = { gateway: ga, adminToken: (await readFile(ga.adminTokenPath, "utf8")).trim() };
  b = { gateway: gb, adminToken: (await readFile(gb.adminTokenPath, "utf8")).trim() };
  assert.ok(!logs.join("").includes(new URL(pg.url).password), "the database password is never logged");
});

after(async () => {
  for (const gateway of replicas) await gateway.close();
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

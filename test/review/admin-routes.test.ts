// The review routes of the admin API over real HTTPS: who may read, approve and deny, and how mistakes are answered
// (every error a Kubernetes Status naming what was wrong).
import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, request } from "node:https";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { createAdminApi } from "../../src/admin/api.ts";
import { inProcessBus } from "../../src/review/bus.ts";
import { ReviewService } from "../../src/review/service.ts";
import type { Review } from "../../src/review/types.ts";
import { createCertificateAuthority, issueServerCertificate } from "../../src/shared/tls.ts";
import { generateToken, hashToken } from "../../src/shared/tokens.ts";
import { openStore } from "../../src/store/index.ts";
import type { Store } from "../../src/store/types.ts";
import { review as makeReview } from "../store/contract-reviews.ts";

let store: Store;
let reviews: ReviewService;
let url = "";
let caPem = "";
const adminToken = generateToken();
const tokens: Record<string, string> = {};
const ca = createCertificateAuthority("airlock-review-test-ca");
const cert = issueServerCertificate(ca, {
  commonName: "airlock",
  dnsNames: ["localhost"],
  ipAddresses: ["127.0.0.1"],
});
let close: () => Promise<void>;

before(async () => {
  store = await openStore({ kind: "sqlite", path: ":memory:" });
  reviews = new ReviewService({ store, bus: inProcessBus() });
  for (const [name, kind, groups] of [
    ["alice", "human", ["sre"]],
    ["carol", "human", ["dev"]],
    ["demo-agent", "agent", ["agents"]],
  ] as const) {
    tokens[name] = (await store.identities.create({ name, kind, groups: [...groups] })).token;
  }
  const api = createAdminApi({
    store,
    adminTokenHash: hashToken(adminToken),
    gatewayUrl: "https://x",
    caPem: ca.certPem,
    reviews,
  });
  const server = createServer({ cert: cert.certPem, key: cert.keyPem }, (req, res) => {
    void api.authenticate(req).then((principal) => api.handle(req, res, principal));
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  caPem = ca.certPem;
  close = async () => {
    server.closeAllConnections();
    server.close();
    await store.close();
  };
});
after(() => close());

function call(
  token: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = { authorization: `Bearer ${token}` };
    if (payload !== undefined) headers["content-type"] = "application/json";
    const req = request(`${url}${path}`, { method, headers, ca: caPem }, (res) => {
      let text = "";
      res.setEncoding("utf8").on("data", (d: string) => {
        text += d;
      });
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> }),
      );
    });
    req.on("error", reject);
    req.end(payload);
  });
}

async function pending(): Promise<Review> {
  const agent = await store.identities.get("demo-agent");
  assert.ok(agent);
  const r = makeReview({
    requester: { identityId: agent.id, name: "demo-agent", kind: "agent", groups: ["agents"] },
    expiresAt: new Date(Date.now() + 600_000).toISOString(),
  });
  await store.reviews.create(r);
  return r;
}

describe("admin API review routes", () => {
  test("humans list and read reviews; agents are refused", async () => {
    const r = await pending();
    const list = await call(tokens.carol ?? "", "GET", "/airlock/v1/reviews?state=pending");
    assert.equal(list.status, 200);
    assert.ok((list.body.items as Review[]).some((x) => x.id === r.id));
    const one = await call(tokens.alice ?? "", "GET", `/airlock/v1/reviews/${r.id}`);
    assert.equal(one.status, 200);
    assert.equal((one.body.review as Review).id, r.id);
    assert.ok(Array.isArray(one.body.events));
    const agent = await call(tokens["demo-agent"] ?? "", "GET", "/airlock/v1/reviews");
    assert.equal(agent.status, 403);
    assert.match(String(agent.body.message), /agents may not use the admin API/);
  });

  test("a human outside the rule's reviewers gets 403 naming the reviewers; alice approves", async () => {
    const r = await pending();
    const carol = await call(tokens.carol ?? "", "POST", `/airlock/v1/reviews/${r.id}/approve`, {});
    assert.equal(carol.status, 403);
    assert.equal(carol.body.kind, "Status");
    assert.match(
      String(carol.body.message),
      /"carol" is not a reviewer for this rule \(reviewers: group sre\)/,
    );
    const admin = await call(adminToken, "POST", `/airlock/v1/reviews/${r.id}/approve`, {});
    assert.equal(admin.status, 403, "the admin token is not a person");
    const alice = await call(tokens.alice ?? "", "POST", `/airlock/v1/reviews/${r.id}/approve`, {
      reason: "ok",
      grant: "15m",
    });
    assert.equal(alice.status, 200);
    assert.equal((alice.body.review as Review).state, "approved");
    assert.ok(alice.body.grant);
    const again = await call(tokens.alice ?? "", "POST", `/airlock/v1/reviews/${r.id}/deny`, {
      reason: "changed my mind",
    });
    assert.equal(again.status, 409, "a decided review cannot be decided again");
  });

  test("mistakes are 400 or 404 Statuses: no reason to deny, a bad grant, an unknown id", async () => {
    const r = await pending();
    const noReason = await call(tokens.alice ?? "", "POST", `/airlock/v1/reviews/${r.id}/deny`, {});
    assert.equal(noReason.status, 400);
    assert.match(String(noReason.body.message), /reason/);
    const badGrant = await call(tokens.alice ?? "", "POST", `/airlock/v1/reviews/${r.id}/approve`, {
      grant: "soon",
    });
    assert.equal(badGrant.status, 400);
    assert.match(String(badGrant.body.message), /grant: a duration/);
    const unknown = await call(
      tokens.alice ?? "",
      "GET",
      "/airlock/v1/reviews/00000000-0000-4000-8000-000000000000",
    );
    assert.equal(unknown.status, 404);
    const badState = await call(tokens.alice ?? "", "GET", "/airlock/v1/reviews?state=maybe");
    assert.equal(badState.status, 400);
    const denied = await call(adminToken, "POST", `/airlock/v1/reviews/${r.id}/deny`, { reason: "stop" });
    assert.equal(denied.status, 200, "the admin token may deny");
  });

  test("grants are listed and revoked by id", async () => {
    const r = await pending();
    const approved = await call(tokens.alice ?? "", "POST", `/airlock/v1/reviews/${r.id}/approve`, {
      grant: "1h",
    });
    assert.equal(approved.status, 200);
    const list = await call(tokens.alice ?? "", "GET", "/airlock/v1/grants?active=true");
    const id = (approved.body.grant as { id: string }).id;
    assert.ok((list.body.items as { id: string }[]).some((g) => g.id === id));
    const revoked = await call(tokens.alice ?? "", "POST", `/airlock/v1/grants/${id}/revoke`);
    assert.equal(revoked.status, 200);
    assert.equal(revoked.body.revokedBy, "alice");
    const active = await call(tokens.alice ?? "", "GET", "/airlock/v1/grants?active=true");
    assert.ok(!(active.body.items as { id: string }[]).some((g) => g.id === id));
  });
});

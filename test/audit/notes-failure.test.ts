// When an audit note cannot be written: steps that give access (an approval, a review, a token, enabling, a policy
// reload) do not take effect; steps that take access away (revocations, grant revocation, expiry) always do.
import assert from "node:assert/strict";
import { once } from "node:events";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, request } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { createAdminApi } from "../../src/admin/api.ts";
import type { Principal } from "../../src/identity/types.ts";
import { openPolicyEngine } from "../../src/policy/engine.ts";
import { describeToRequest } from "../../src/policy/request.ts";
import { inProcessBus } from "../../src/review/bus.ts";
import { type OpenInput, ReviewService } from "../../src/review/service.ts";
import { createCertificateAuthority, issueServerCertificate } from "../../src/shared/tls.ts";
import { generateToken, hashToken } from "../../src/shared/tokens.ts";
import { openStore } from "../../src/store/index.ts";
import type { Store } from "../../src/store/types.ts";
import { policy } from "../policy/support.ts";

let real: Store;
let failing = false;
/** The real store, except that audit.note fails while `failing` is set. */
let store: Store;
let url = "";
let close: () => Promise<void>;
const adminToken = generateToken();
const ca = createCertificateAuthority("airlock-notes-test-ca");
const cert = issueServerCertificate(ca, { commonName: "airlock", dnsNames: [], ipAddresses: ["127.0.0.1"] });

before(async () => {
  real = await openStore({ kind: "sqlite", path: ":memory:" });
  const audit = new Proxy(real.audit, {
    get(target, prop) {
      if (prop === "note" && failing) return () => Promise.reject(new Error("audit store unavailable"));
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  store = { ...real, audit };
  const api = createAdminApi({
    store,
    adminTokenHash: hashToken(adminToken),
    gatewayUrl: "https://x",
    caPem: ca.certPem,
    log: { error: () => {} },
  });
  const server = createServer({ cert: cert.certPem, key: cert.keyPem }, (req, res) => {
    void api.authenticate(req).then((principal) => api.handle(req, res, principal));
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  close = async () => {
    server.closeAllConnections();
    server.close();
    await real.close();
  };
});
after(() => close());

function call(method: string, path: string, body?: unknown): Promise<number> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { authorization: `Bearer ${adminToken}` };
    if (payload) headers["content-type"] = "application/json";
    request(`${url}${path}`, { method, headers, ca: ca.certPem }, (res) => {
      res.resume().on("end", () => resolve(res.statusCode ?? 0));
    })
      .on("error", reject)
      .end(payload);
  });
}

async function withFailingNotes<T>(fn: () => Promise<T>): Promise<T> {
  failing = true;
  try {
    return await fn();
  } finally {
    failing = false;
  }
}

const reviewer: Principal = {
  identityId: "id-alice",
  kind: "human",
  name: "alice",
  groups: ["sre"],
  labels: {},
  credentialId: "c",
};

function input(fingerprint: string): OpenInput {
  return {
    fingerprint,
    requester: { identityId: "id-agent", name: "demo-agent", kind: "agent", groups: ["agents"] },
    justification: null,
    cluster: "sim",
    policy: "p",
    rule: "r",
    requirement: {
      approvers: { identities: [], groups: ["sre"] },
      approvals: 1,
      mode: "retry",
      timeoutSeconds: 600,
    },
    request: {
      method: "DELETE",
      path: "/api/v1/namespaces/prod/pods/web",
      query: "",
      contentType: "",
      body: "",
      bodyEncoding: "utf8",
      bodySha256: "0".repeat(64),
      action: "delete",
      apiGroup: "",
      apiVersion: "v1",
      resource: "pods",
      subresource: "",
      namespace: "prod",
      name: "web",
      execCommand: null,
    },
    held: false,
  };
}

test("an approval that cannot be chained does not take effect; the review stays pending and usable later", async () => {
  const reviews = new ReviewService({ store, bus: inProcessBus() });
  const { review } = await reviews.open(input("fp-approve"));
  await assert.rejects(
    withFailingNotes(() => reviews.approve(review.id, reviewer, { reason: "ok" })),
    /audit store unavailable/,
  );
  assert.equal((await reviews.get(review.id)).state, "pending");
  assert.equal(await reviews.consumeApproved("fp-approve", "req-1"), undefined, "nothing to run");
  assert.equal((await real.reviews.events(review.id)).filter((e) => e.type === "approved").length, 0);
  const { review: approved } = await reviews.approve(review.id, reviewer, { reason: "ok" });
  assert.equal(approved.state, "approved");
});

test("a review that cannot be chained is not created, and an approved one is not used without its note", async () => {
  const reviews = new ReviewService({ store, bus: inProcessBus() });
  await assert.rejects(withFailingNotes(() => reviews.open(input("fp-create"))));
  assert.deepEqual(await real.reviews.find("fp-create", ["pending"]), []);
  const { review } = await reviews.open(input("fp-use"));
  await reviews.approve(review.id, reviewer, {});
  await assert.rejects(withFailingNotes(() => reviews.consumeApproved("fp-use", "req-2")));
  assert.equal((await reviews.get(review.id)).usesLeft, 1, "the use was not taken");
});

test("a grant revocation takes effect even when its note fails", async () => {
  const reviews = new ReviewService({ store, bus: inProcessBus() });
  const { review } = await reviews.open(input("fp-grant"));
  const { grant } = await reviews.approve(review.id, reviewer, { grantSeconds: 600 });
  assert.ok(grant);
  const revoked = await withFailingNotes(() => reviews.revokeGrant(grant.id, reviewer));
  assert.ok(revoked.revokedAt);
  assert.deepEqual(
    await real.grants.list({ identityId: "id-agent", activeAt: new Date().toISOString() }),
    [],
  );
});

test("identity revocation and disabling take effect when their notes fail; enabling and new tokens do not", async () => {
  await real.identities.create({ name: "cut-bot", kind: "agent", groups: ["agents"] });
  await real.identities.create({ name: "off-bot", kind: "agent", groups: ["agents"] });
  assert.equal(await withFailingNotes(() => call("POST", "/airlock/v1/identities/cut-bot/revoke")), 200);
  assert.equal((await real.identities.get("cut-bot"))?.state, "revoked");
  assert.equal(await withFailingNotes(() => call("POST", "/airlock/v1/identities/off-bot/disable")), 200);
  assert.equal((await real.identities.get("off-bot"))?.state, "disabled");
  assert.equal(await withFailingNotes(() => call("POST", "/airlock/v1/identities/off-bot/enable")), 500);
  assert.equal((await real.identities.get("off-bot"))?.state, "disabled", "still disabled");

  const before = (await real.credentials.list("off-bot"))?.length ?? 0;
  assert.equal(await call("POST", "/airlock/v1/identities/off-bot/enable"), 200);
  assert.equal(await withFailingNotes(() => call("POST", "/airlock/v1/identities/off-bot/tokens", {})), 500);
  const creds = (await real.credentials.list("off-bot")) ?? [];
  assert.equal(creds.length, before + 1);
  assert.ok(creds.at(-1)?.revokedAt, "the unseen token was revoked");
  assert.equal(
    await withFailingNotes(() => call("POST", "/airlock/v1/identities", { name: "new-bot", kind: "agent" })),
    500,
  );
  assert.equal((await real.identities.get("new-bot"))?.state, "revoked", "created, never shown, revoked");
});

test("a policy reload that cannot be chained is refused and the last good set stays in force", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "airlock-notes-policy-"));
  const file = join(dir, "agents.yaml");
  const rules = (verb: string) => `    - { name: only-${verb}, verbs: [${verb}], effect: allow }`;
  await writeFile(file, policy("agents", "[{ group: agents }]", rules("get")));
  const opened = await openPolicyEngine({ paths: [file], watch: false });
  assert.ok(opened.ok);
  const engine = opened.engine;
  t.after(() => rm(dir, { recursive: true, force: true }));
  let down = false;
  const types: string[] = [];
  await engine.recordReloadsWith(async (note) => {
    if (down) throw new Error("audit store unavailable");
    types.push(note.type);
  });
  const list = describeToRequest({
    identity: { name: "bot", groups: ["agents"] },
    request: { verb: "list", resource: "pods", namespace: "x" },
  });
  assert.ok(list.ok);
  await writeFile(file, policy("agents", "[{ group: agents }]", rules("list")));
  down = true;
  const refused = await engine.reload();
  assert.equal(refused.ok, false);
  assert.match(engine.lastError()?.[0] ?? "", /could not be recorded in the audit log/);
  assert.equal(engine.decide(list.principal, list.kube).rule, "default-deny", "the old set is in force");
  down = false;
  assert.equal((await engine.reload()).ok, true);
  assert.equal(engine.decide(list.principal, list.kube).rule, "only-list");
  assert.deepEqual(types, ["policy.loaded", "policy.reloaded"]);
});

import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, request as httpRequest } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { parse } from "yaml";
import { createAdminApi } from "../../src/admin/api.ts";
import { ROUTES } from "../../src/admin/routes.ts";
import { hashToken } from "../../src/shared/tokens.ts";
import type { Store } from "../../src/store/types.ts";
import { auditEvent } from "../store/contract.ts";
import { type AdminServer, request, startAdminServer } from "./harness.ts";

let srv: AdminServer;
before(async () => {
  srv = await startAdminServer();
});
after(() => srv.close());

const asAdmin = (method: string, path: string, body?: unknown) =>
  request(
    srv,
    method,
    path,
    body === undefined ? { token: srv.adminToken } : { token: srv.adminToken, body },
  );

function assertStatus(
  reply: { status: number; body: unknown },
  code: number,
  reason: string,
  message?: RegExp,
) {
  assert.equal(reply.status, code);
  const body = reply.body as Record<string, unknown>;
  assert.equal(body.kind, "Status");
  assert.equal(body.apiVersion, "v1");
  assert.equal(body.status, "Failure");
  assert.equal(body.code, code);
  assert.equal(body.reason, reason);
  if (message) assert.match(String(body.message), message);
}

describe("admin API over HTTPS", () => {
  test("the OpenAPI 3.1 document is served without a token and describes every route", async () => {
    const reply = await request(srv, "GET", "/airlock/v1/openapi.json");
    assert.equal(reply.status, 200);
    const doc = reply.body as {
      openapi: string;
      paths: Record<string, Record<string, { operationId: string }>>;
    };
    assert.equal(doc.openapi, "3.1.0");
    for (const route of ROUTES) {
      assert.equal(doc.paths[route.path]?.[route.method.toLowerCase()]?.operationId, route.id, route.path);
    }
  });

  test("a request without a token, or with an unknown one, gets 401 Unauthorized as a Status", async () => {
    const none = await request(srv, "GET", "/airlock/v1/identities");
    assertStatus(none, 401, "Unauthorized", /valid token/);
    assert.match(String(none.headers["www-authenticate"]), /^Bearer/);
    assertStatus(
      await request(srv, "GET", "/airlock/v1/identities", { token: "airlock_nope" }),
      401,
      "Unauthorized",
    );
  });

  test("the admin creates an identity and gets its token and a kubeconfig once", async () => {
    const reply = await asAdmin("POST", "/airlock/v1/identities", {
      name: "mcp-agent",
      kind: "agent",
      groups: ["agents"],
      labels: { team: "platform" },
    });
    assert.equal(reply.status, 201);
    assert.equal(reply.headers["cache-control"], "no-store");
    const { identity, token, kubeconfig } = reply.body as {
      identity: { name: string; kind: string; groups: string[]; labels: Record<string, string> };
      token: string;
      kubeconfig: string;
    };
    assert.deepEqual(
      { name: identity.name, kind: identity.kind, groups: identity.groups, labels: identity.labels },
      { name: "mcp-agent", kind: "agent", groups: ["agents"], labels: { team: "platform" } },
    );
    assert.equal(
      (await srv.store.identities.authenticateToken(hashToken(token)))?.identity.name,
      "mcp-agent",
    );
    const config = parse(kubeconfig);
    assert.equal(config.users[0].user.token, token);
    assert.equal(config.clusters[0].cluster.server, srv.url);
    const got = await asAdmin("GET", "/airlock/v1/identities/mcp-agent");
    assert.equal(got.status, 200);
    assert.equal((got.body as { name: string }).name, "mcp-agent");
    assert.ok(!got.text.includes(token), "the token is never shown again");
    const list = await asAdmin("GET", "/airlock/v1/identities");
    assert.ok((list.body as { items: { name: string }[] }).items.some((i) => i.name === "mcp-agent"));
    assert.ok(!list.text.includes(token));
  });

  test("creating an identity whose name exists is 409 AlreadyExists", async () => {
    await asAdmin("POST", "/airlock/v1/identities", { name: "taken", kind: "agent" });
    assertStatus(
      await asAdmin("POST", "/airlock/v1/identities", { name: "taken", kind: "human" }),
      409,
      "AlreadyExists",
      /identity "taken" already exists/,
    );
  });

  test("an invalid identity is 422 Invalid with one cause per problem", async () => {
    const reply = await asAdmin("POST", "/airlock/v1/identities", {
      name: "Bad Name",
      kind: "robot",
      groups: ["system:masters"],
      extra: true,
    });
    assertStatus(reply, 422, "Invalid", /identities "Bad Name" is invalid/);
    const causes = (reply.body as { details: { causes: { field: string; message: string }[] } }).details
      .causes;
    const fields = causes.map((c) => c.field).sort();
    assert.deepEqual(fields, ["<root>", "groups.0", "kind", "name"]);
    assert.match(causes.find((c) => c.field === "groups.0")?.message ?? "", /reserved by Kubernetes/);
  });

  test("a body that is not JSON is 415, malformed JSON is 400", async () => {
    const form = await request(srv, "POST", "/airlock/v1/identities", {
      token: srv.adminToken,
      rawBody: "name=x&kind=agent",
      contentType: "application/x-www-form-urlencoded",
    });
    assertStatus(form, 415, "UnsupportedMediaType", /application\/json/);
    const broken = await request(srv, "POST", "/airlock/v1/identities", {
      token: srv.adminToken,
      rawBody: "{",
    });
    assertStatus(broken, 400, "BadRequest", /not valid JSON/);
    const big = await request(srv, "POST", "/airlock/v1/identities", {
      token: srv.adminToken,
      rawBody: JSON.stringify({ name: "x".repeat(70_000) }),
    });
    assertStatus(big, 413, "RequestEntityTooLarge");
  });

  test("a human may read identities and audit but not create or revoke without airlock:admins", async () => {
    const { token } = await srv.store.identities.create({ name: "alice", kind: "human", groups: ["sre"] });
    assert.equal((await request(srv, "GET", "/airlock/v1/identities", { token })).status, 200);
    assert.equal((await request(srv, "GET", "/airlock/v1/audit", { token })).status, 200);
    assertStatus(
      await request(srv, "POST", "/airlock/v1/identities", { token, body: { name: "x1", kind: "agent" } }),
      403,
      "Forbidden",
      /creating identities is forbidden: human identity "alice" .* airlock:admins/,
    );
    assertStatus(
      await request(srv, "POST", "/airlock/v1/identities/alice/revoke", { token }),
      403,
      "Forbidden",
    );
    assert.equal((await srv.store.identities.get("alice"))?.revokedAt, null);
  });

  test("a human in airlock:admins may create identities", async () => {
    const { token } = await srv.store.identities.create({
      name: "root-human",
      kind: "human",
      groups: ["airlock:admins"],
    });
    const reply = await request(srv, "POST", "/airlock/v1/identities", {
      token,
      body: { name: "made-by-human", kind: "agent" },
    });
    assert.equal(reply.status, 201);
  });

  test("an agent is refused the admin API entirely, even for reads", async () => {
    const { token } = await srv.store.identities.create({ name: "sneaky-agent", kind: "agent", groups: [] });
    for (const [method, path] of [
      ["GET", "/airlock/v1/identities"],
      ["GET", "/airlock/v1/audit"],
      ["POST", "/airlock/v1/identities/sneaky-agent/revoke"],
    ] as const) {
      assertStatus(await request(srv, method, path, { token }), 403, "Forbidden", /is an agent/);
    }
  });

  test("revoking an identity calls onRevoke and its token fails on the next request", async () => {
    const { token } = await srv.store.identities.create({ name: "bob", kind: "human", groups: [] });
    assert.equal((await request(srv, "GET", "/airlock/v1/identities", { token })).status, 200);
    const reply = await asAdmin("POST", "/airlock/v1/identities/bob/revoke");
    assert.equal(reply.status, 200);
    assert.ok((reply.body as { revokedAt: string | null }).revokedAt);
    assert.deepEqual(
      srv.revoked.map((i) => i.name),
      ["bob"],
    );
    assertStatus(await request(srv, "GET", "/airlock/v1/identities", { token }), 401, "Unauthorized");
    assertStatus(
      await asAdmin("POST", "/airlock/v1/identities/nobody/revoke"),
      404,
      "NotFound",
      /"nobody" not found/,
    );
  });

  test("the audit list filters by identity, since and limit, newest first", async () => {
    const t = (m: number) => new Date(Date.parse("2026-02-01T00:00:00Z") + m * 60_000).toISOString();
    await srv.store.audit.begin(auditEvent({ id: "a1", time: t(1), identityName: "carol" }));
    await srv.store.audit.begin(auditEvent({ id: "a2", time: t(2), identityName: "dave" }));
    await srv.store.audit.begin(auditEvent({ id: "a3", time: t(3), identityName: "carol" }));
    const ids = async (query: string) => {
      const reply = await asAdmin("GET", `/airlock/v1/audit${query}`);
      assert.equal(reply.status, 200, reply.text);
      return (reply.body as { items: { id: string }[] }).items.map((e) => e.id);
    };
    assert.deepEqual(await ids("?identity=carol"), ["a3", "a1"]);
    assert.deepEqual(await ids(`?since=${encodeURIComponent(t(2))}&limit=5`), ["a3", "a2"]);
    assert.deepEqual(await ids("?limit=1"), ["a3"]);
    assertStatus(await asAdmin("GET", "/airlock/v1/audit?since=yesterday"), 400, "BadRequest", /RFC 3339/);
    assertStatus(await asAdmin("GET", "/airlock/v1/audit?limit=0"), 400, "BadRequest", /limit/);
    assertStatus(
      await asAdmin("GET", "/airlock/v1/audit?identity=a&identity=b"),
      400,
      "BadRequest",
      /more than once/,
    );
    assertStatus(await asAdmin("GET", "/airlock/v1/audit?colour=red"), 400, "BadRequest", /colour/);
  });

  test("unknown paths are 404, wrong methods 405 with Allow, and encoded path tricks never match", async () => {
    assertStatus(await asAdmin("GET", "/airlock/v1/nothing"), 404, "NotFound", /openapi\.json/);
    const wrong = await asAdmin("DELETE", "/airlock/v1/identities/x");
    assertStatus(wrong, 405, "MethodNotAllowed");
    assert.equal(wrong.headers.allow, "GET, PATCH");
    for (const path of [
      "/airlock/v1/identities/..%2fidentities",
      "/airlock/v1/identities/%61lice",
      "/airlock/v1/identities/",
      "/airlock/v1//identities",
      "/airlock/v1/identities/alice/revoke/",
    ]) {
      assertStatus(await asAdmin("GET", path), 404, "NotFound");
    }
  });
});

test("an unexpected store failure is a generic 500 Status that leaks nothing", async () => {
  const failing = {
    identities: {
      list: () => Promise.reject(new Error("disk on fire at /var/lib/secret")),
      authenticateToken: () => Promise.resolve(undefined),
    },
  } as unknown as Store;
  const errors: unknown[] = [];
  const api = createAdminApi({
    store: failing,
    adminTokenHash: hashToken("admin"),
    gatewayUrl: "https://127.0.0.1:1",
    caPem: "",
    onError: (err) => errors.push(err),
  });
  const server = createServer((req, res) => void api.authenticate(req).then((p) => api.handle(req, res, p)));
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  try {
    const { port } = server.address() as AddressInfo;
    const reply = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      httpRequest(
        {
          host: "127.0.0.1",
          port,
          path: "/airlock/v1/identities",
          headers: { authorization: "Bearer admin" },
        },
        (res) => {
          let text = "";
          res.on("data", (c) => {
            text += c;
          });
          res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
        },
      )
        .on("error", reject)
        .end();
    });
    assertStatus({ status: reply.status, body: JSON.parse(reply.text) }, 500, "InternalError");
    assert.ok(!reply.text.includes("secret"));
    assert.equal(errors.length, 1);
  } finally {
    server.close();
  }
});

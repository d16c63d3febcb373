// The security invariants of DESIGN.md that the gateway core owns (1–7 and 9), each pinned through real sockets: a
// simulator, a gateway in front of it, and raw HTTPS/TLS clients that do what a hostile client would.
import assert from "node:assert/strict";
import { once } from "node:events";
import { after, before, describe, test } from "node:test";
import tls from "node:tls";
import type { Simulator } from "@airlock/sim";
import type { RequestRecord } from "@airlock/sim/record.ts";
import type { AuditEvent } from "../../src/audit/types.ts";
import { openStore } from "../../src/store/index.ts";
import type { Store } from "../../src/store/types.ts";
import { callGateway, startTestGateway, type TestGateway } from "../helpers/gateway.ts";
import { kubectl } from "../helpers/kubectl.ts";
import { type SimClient, simClient } from "../helpers/simclient.ts";

let t: TestGateway;
let agent: { token: string; kubeconfig: string; id: string };
let asAgent: SimClient;
let asAdminOfSim: SimClient;

function clientFor(t: TestGateway, token: string): SimClient {
  return simClient({ url: t.gateway.url, caPem: t.gateway.caPem, adminToken: token } as Simulator);
}

async function simRecordSince(seq: number): Promise<RequestRecord[]> {
  const res = await asAdminOfSim.req("GET", `/sim/v1/requests?since=${seq}`);
  return res.body.items as RequestRecord[];
}

async function lastSeq(): Promise<number> {
  const items = await simRecordSince(0);
  return items.at(-1)?.seq ?? 0;
}

/** Sends raw bytes over TLS and returns everything the server sent until it closed (or the timeout). */
async function rawExchange(
  request: string,
  timeoutMs = 3000,
): Promise<{ text: string; closedByServer: boolean }> {
  const url = new URL(t.gateway.url);
  const socket = tls.connect({
    host: url.hostname,
    port: Number(url.port),
    ca: t.gateway.caPem,
    ALPNProtocols: ["http/1.1"],
  });
  await once(socket, "secureConnect");
  socket.write(request);
  let text = "";
  socket.setEncoding("utf8").on("data", (d: string) => {
    text += d;
  });
  const closed = once(socket, "close").then(() => true);
  const timedOut = new Promise<boolean>((r) => setTimeout(() => r(false), timeoutMs));
  const closedByServer = await Promise.race([closed, timedOut]);
  socket.destroy();
  return { text, closedByServer };
}

before(async () => {
  t = await startTestGateway();
  agent = await t.addIdentity("demo-agent", "agent", ["agents"]);
  asAgent = clientFor(t, agent.token);
  asAdminOfSim = simClient(t.sim);
});

after(async () => {
  asAgent.close();
  asAdminOfSim.close();
  await t.close();
});

describe("invariant 1: default deny", () => {
  test("a gateway with no allowing policy refuses with 403 naming the policy and rule, and forwards nothing", async () => {
    const denying = await startTestGateway({ policy: "deny-all" });
    try {
      const a = await denying.addIdentity("agent-x", "agent");
      const seq = (await simClient(denying.sim).req("GET", "/sim/v1/requests")).body.items.at(-1)?.seq ?? 0;
      const res = await clientFor(denying, a.token).req("GET", "/api/v1/namespaces/prod/pods/web-1");
      assert.equal(res.code, 403);
      assert.equal(res.body.kind, "Status");
      assert.equal(res.body.reason, "Forbidden");
      assert.match(
        res.body.message,
        /^pods "web-1" is forbidden: airlock: get denied by policy builtin:deny-all rule default-deny/,
      );
      const arrived = (await simClient(denying.sim).req("GET", `/sim/v1/requests?since=${seq}`)).body.items;
      assert.deepEqual(arrived, [], "nothing reached the cluster");
      const out = await kubectl(a.kubeconfig, ["get", "--raw", "/api/v1/namespaces/prod/pods"]);
      assert.notEqual(out.code, 0);
      assert.match(
        out.stderr,
        /Error from server \(Forbidden\): pods is forbidden: airlock: list denied by policy builtin:deny-all/,
      );
    } finally {
      await denying.close();
    }
  });
});

describe("invariant 4: header hygiene", () => {
  test("kubectl --as=system:admin is refused with a Status", async () => {
    const out = await kubectl(agent.kubeconfig, [
      "get",
      "--raw",
      "/api/v1/namespaces/prod/pods",
      "--as=system:admin",
    ]);
    assert.notEqual(out.code, 0);
    assert.match(
      out.stderr,
      /Error from server \(Forbidden\): airlock: impersonation headers are not accepted from clients/,
    );
  });

  test("a raw client smuggling Impersonate-Group: system:masters is refused before anything is forwarded", async () => {
    const seq = await lastSeq();
    for (const [name, value] of [
      ["Impersonate-Group", "system:masters"],
      ["impersonate-user", "system:admin"],
      ["Impersonate-Uid", "0"],
      ["Impersonate-Extra-scopes", "all"],
    ] as const) {
      const res = await asAgent.req("GET", "/api/v1/namespaces/prod/secrets", { headers: { [name]: value } });
      assert.equal(res.code, 403, name);
      assert.equal(res.body.reason, "Forbidden");
    }
    assert.deepEqual(await simRecordSince(seq), []);
  });

  test("X-Remote-User and X-Forwarded-* from the client are not forwarded: the cluster still sees the agent", async () => {
    const res = await asAgent.req("POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews", {
      body: { apiVersion: "authentication.k8s.io/v1", kind: "SelfSubjectReview" },
      headers: {
        "X-Remote-User": "system:admin",
        "X-Remote-Group": "system:masters",
        "X-Forwarded-For": "10.0.0.1",
      },
    });
    assert.equal(res.code, 201);
    assert.equal(res.body.status.userInfo.username, "airlock:demo-agent");
    assert.ok(!res.body.status.userInfo.groups.includes("system:masters"));
  });
});

describe("invariant 5: no path games", () => {
  const corpus = [
    "/api/v1/namespaces/prod/pods/../secrets",
    "/api/v1/namespaces/prod/./pods",
    "/api/v1/namespaces/prod/%2e%2e/secrets",
    "/api/v1/namespaces/prod/%2E/pods",
    "/api//v1/namespaces/prod/pods",
    "/api/v1/namespaces//pods",
    "/api/v1/namespaces/prod/configmaps/a%2Fb",
    "/api/v1/namespaces/prod/configmaps/a%2fb",
    "/api/v1/namespaces/prod/pods%00",
    "/api/v1/namespaces/prod/pods/x%00y",
    "/api/v1/namespaces/prod\\pods",
    "/api/v1/namespaces/prod/pods%5Cx",
    "/api/v1/namespaces/prod/pods/%zz",
    "/api/v1/namespaces/prod/pods/%4",
    "/api/v1/namespaces/prod/pods/%C0%AF",
    "/api/v1/namespaces/prod/pods/%FF",
  ];
  test("each ambiguous path is refused with a 400 Status and never reaches the cluster", async () => {
    const seq = await lastSeq();
    for (const path of corpus) {
      const { text } = await rawExchange(
        `GET ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${agent.token}\r\nConnection: close\r\n\r\n`,
      );
      assert.match(text, /^HTTP\/1\.1 400 /, `${path} → ${text.split("\r\n")[0]}`);
      assert.match(text, /"kind":"Status"/, path);
    }
    assert.deepEqual(await simRecordSince(seq), [], "none of them reached the simulator");
  });
});

describe("invariant 6: upgrades", () => {
  const wsHeaders = (protocol: string) =>
    "Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n" +
    `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: ${protocol}\r\n`;

  test("an upgrade the cluster refuses is relayed and the client connection is closed, not left open", async () => {
    const { text, closedByServer } = await rawExchange(
      `GET /api/v1/namespaces/prod/pods/no-such-pod/exec?command=sh&stdout=true HTTP/1.1\r\nHost: x\r\n` +
        `Authorization: Bearer ${agent.token}\r\n${wsHeaders("v5.channel.k8s.io")}\r\n`,
    );
    assert.match(text, /^HTTP\/1\.1 404 /);
    assert.ok(closedByServer, "the gateway closed the connection after relaying the refusal");
  });

  test("a WebSocket upgrade on anything but exec, attach or portforward is refused", async () => {
    const { text, closedByServer } = await rawExchange(
      `GET /api/v1/namespaces/prod/pods?watch=true HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${agent.token}\r\n${wsHeaders("v5.channel.k8s.io")}\r\n`,
    );
    assert.match(text, /^HTTP\/1\.1 400 /);
    assert.match(
      text,
      /protocol upgrades are accepted only for pods\/exec, pods\/attach and pods\/portforward/,
    );
    assert.ok(closedByServer);
  });

  test("a SPDY exec is answered with a Status that says what to do", async () => {
    // A pod that exists: the gateway reads its Secrets (to mask their values) before it looks at the protocol.
    const pods = await callGateway(t, "GET", "/api/v1/namespaces/prod/pods", agent.token);
    const name = (pods.body as { items: { metadata: { name: string } }[] }).items[0]?.metadata.name ?? "";
    const { text } = await rawExchange(
      `POST /api/v1/namespaces/prod/pods/${name}/exec?command=sh&stdout=true HTTP/1.1\r\nHost: x\r\n` +
        `Authorization: Bearer ${agent.token}\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nContent-Length: 0\r\n\r\n`,
    );
    assert.match(text, /^HTTP\/1\.1 400 /);
    assert.match(text, /over SPDY is not supported/);
  });

  test("a denial answers both the WebSocket GET and the SPDY POST fallback with 403", async () => {
    const denying = await startTestGateway({ policy: "deny-all" });
    try {
      const a = await denying.addIdentity("agent-y", "agent");
      const url = new URL(denying.gateway.url);
      for (const request of [
        `GET /api/v1/namespaces/prod/pods/web/exec?command=sh&stdout=true HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${a.token}\r\n${wsHeaders("v5.channel.k8s.io")}\r\n`,
        `POST /api/v1/namespaces/prod/pods/web/exec?command=sh&stdout=true HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${a.token}\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nContent-Length: 0\r\n\r\n`,
      ]) {
        const socket = tls.connect({
          host: url.hostname,
          port: Number(url.port),
          ca: denying.gateway.caPem,
          ALPNProtocols: ["http/1.1"],
        });
        await once(socket, "secureConnect");
        socket.write(request);
        let text = "";
        socket.setEncoding("utf8").on("data", (d: string) => {
          text += d;
        });
        await once(socket, "close");
        assert.match(text, /^HTTP\/1\.1 403 /);
        assert.match(text, /exec denied by policy builtin:deny-all/);
      }
    } finally {
      await denying.close();
    }
  });
});

describe("invariants 2 and 3: write-ahead audit, fail closed", () => {
  test("nothing is forwarded before the audit record is committed", async () => {
    const store = t.gateway.runtime.store;
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let begun = false;
    // A store whose audit write waits on a gate we hold; everything else goes to the real store.
    const gatedBegin = async (event: AuditEvent) => {
      await gate;
      await store.audit.begin(event);
      begun = true;
    };
    const audit = new Proxy(store.audit, {
      get(target, prop) {
        if (prop === "begin") return gatedBegin;
        const value = Reflect.get(target, prop, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const gated: Store = { ...store, audit };
    t.gateway.runtime.store = gated;
    try {
      const seq = await lastSeq();
      const pending = asAgent.req("GET", "/api/v1/namespaces/prod/configmaps/web-config");
      // A wait is what this checks: with the audit write held, nothing reaches the cluster meanwhile.
      await new Promise((r) => setTimeout(r, 300));
      assert.deepEqual(
        await simRecordSince(seq),
        [],
        "the cluster has seen nothing while the audit write is pending",
      );
      release();
      const res = await pending;
      assert.equal(res.code, 200);
      assert.ok(begun);
      const arrived = await simRecordSince(seq);
      assert.equal(arrived.length, 1);
    } finally {
      t.gateway.runtime.store = store;
    }
  });

  test("an audit store that cannot be written makes requests fail with 503 and nothing reach the cluster", async () => {
    const store = t.gateway.runtime.store;
    const readOnly = await openStore({ kind: "sqlite", path: `${t.dir}/gateway/airlock.db`, readOnly: true });
    t.gateway.runtime.store = readOnly;
    try {
      const seq = await lastSeq();
      const res = await asAgent.req("GET", "/api/v1/namespaces/prod/pods");
      assert.equal(res.code, 503);
      assert.equal(res.body.reason, "ServiceUnavailable");
      assert.match(res.body.message, /audit log cannot be written/);
      assert.deepEqual(await simRecordSince(seq), []);
    } finally {
      t.gateway.runtime.store = store;
      await readOnly.close();
    }
  });

  test("an unparseable JSON body is refused, not forwarded", async () => {
    const seq = await lastSeq();
    const res = await asAgent.req("POST", "/api/v1/namespaces/prod/configmaps", {
      raw: "{not json",
      contentType: "application/json",
    });
    assert.equal(res.code, 400);
    assert.deepEqual(await simRecordSince(seq), []);
  });
});

describe("invariant 7 and the audit log", () => {
  test("every request is audited with identity and verb/resource, and no token appears in logs or audit", async () => {
    await kubectl(agent.kubeconfig, ["get", "configmaps"]);
    const events = await t.gateway.store.audit.list({ identityName: "demo-agent", limit: 500 });
    const list = events.find(
      (e) => e.verb === "list" && e.resource === "configmaps" && e.namespace === "prod",
    );
    assert.ok(list, "the kubectl list is in the audit log");
    assert.equal(list.identityName, "demo-agent");
    assert.equal(list.status, 200);
    assert.equal(list.kubectlCommand, "kubectl get");
    assert.ok(list.kubectlSession);
    const everything = JSON.stringify(events) + t.logs.join("");
    assert.ok(!everything.includes(agent.token), "the agent's token is nowhere in the audit log or the logs");
    assert.ok(!everything.includes(t.sim.adminToken), "the upstream credential is nowhere either");
  });
});

describe("invariant 9: revocation", () => {
  test("a revoked identity's next request gets 401 and its open watch is closed within a second", async () => {
    const victim = await t.addIdentity("short-lived", "agent");
    const client = clientFor(t, victim.token);
    const watch = await client.watch("/api/v1/namespaces/prod/configmaps?watch=true");
    assert.equal(watch.code, 200);
    const adminToken = (await import("node:fs/promises")).readFile(t.gateway.adminTokenPath, "utf8");
    const admin = clientFor(t, (await adminToken).trim());
    const revokedAt = performance.now();
    const res = await admin.req("POST", "/airlock/v1/identities/short-lived/revoke");
    assert.equal(res.code, 200, res.text);
    await Promise.race([
      watch.ended,
      new Promise((_, reject) => setTimeout(() => reject(new Error("watch still open after 1 s")), 1000)),
    ]);
    assert.ok(performance.now() - revokedAt < 1000);
    const next = await client.req("GET", "/api/v1/namespaces/prod/pods");
    assert.equal(next.code, 401);
    assert.equal(next.body.reason, "Unauthorized");
    client.close();
    admin.close();
  });
});

import assert from "node:assert/strict";
import https from "node:https";
import { after, before, test } from "node:test";
import { openUpstream, type Upstream } from "../../src/upstream/index.ts";
import { type Simulator, startTestSimulator } from "../helpers/sim.ts";

let sim: Simulator;
let upstream: Upstream;
before(async () => {
  sim = await startTestSimulator();
  upstream = await openUpstream({ name: "sim", kubeconfig: { path: sim.kubeconfigPath } });
});
after(async () => {
  upstream?.close();
  await sim?.close();
});

interface Reply {
  status: number;
  json: {
    kind?: string;
    items?: { metadata: { name: string } }[];
    status?: { userInfo?: { username?: string; groups?: string[] } };
  };
}

function request(options: https.RequestOptions, body?: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = https.request(options, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString()) }),
      );
    });
    req.on("error", reject);
    req.end(body);
  });
}

test("namespaces are listed from the simulator through requestOptions with its kubeconfig", async () => {
  const { status, json } = await request(
    await upstream.requestOptions("GET", "/api/v1/namespaces", [["Accept", "application/json"]]),
  );
  assert.equal(status, 200);
  assert.equal(json.kind, "NamespaceList");
  const names = (json.items ?? []).map((n) => n.metadata.name);
  assert.ok(names.includes("default"), names.join(","));
});

test("impersonation headers added by the forwarder reach the cluster beside the connection's credential", async () => {
  const body = JSON.stringify({ apiVersion: "authentication.k8s.io/v1", kind: "SelfSubjectReview" });
  const { status, json } = await request(
    await upstream.requestOptions("POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews", [
      ["Content-Type", "application/json"],
      ["Content-Length", String(Buffer.byteLength(body))],
      ["Authorization", "Bearer not-the-upstream-credential"],
      ["Impersonate-User", "airlock:agent:bot"],
      ["Impersonate-Group", "airlock:agents"],
    ]),
    body,
  );
  assert.equal(status, 201, JSON.stringify(json));
  assert.equal(json.status?.userInfo?.username, "airlock:agent:bot");
  assert.ok(json.status?.userInfo?.groups?.includes("airlock:agents"));
});

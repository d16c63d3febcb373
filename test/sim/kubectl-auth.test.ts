// Real kubectl 1.32 against the simulator: authentication, impersonation, RBAC and the auth/token commands, which
// send protobuf bodies.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { after, before, describe, test } from "node:test";
import { kubeconfigFor } from "@airlock/sim";
import { kubectl } from "../helpers/kubectl.ts";
import { type Simulator, startTestSimulator } from "../helpers/sim.ts";

let sim: Simulator;
let alice: string; // kubeconfig of a tokens.csv user without bindings
let carol: string; // kubeconfig of a tokens.csv user who may impersonate
const admin = (args: string[], input?: string) => kubectl(sim.kubeconfigPath, args, input ? { input } : {});

function kubeconfigWithToken(name: string, token: string): string {
  const path = join(dirname(sim.kubeconfigPath), `${name}.kubeconfig`);
  writeFileSync(path, kubeconfigFor(sim.url, sim.caPem, token), { mode: 0o600 });
  return path;
}

before(async () => {
  sim = await startTestSimulator();
  // startSimulator keeps its data (and so tokens.csv) in the directory of its kubeconfig.
  writeFileSync(
    join(dirname(sim.kubeconfigPath), "tokens.csv"),
    'alice-token,alice,uid-alice,"dev"\ncarol-token,carol,uid-carol,\n',
  );
  alice = kubeconfigWithToken("alice", "alice-token");
  carol = kubeconfigWithToken("carol", "carol-token");
  const setup = await admin(
    ["apply", "-f", "-"],
    `apiVersion: v1
kind: Namespace
metadata: {name: prod}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: mcp-server, namespace: prod}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: impersonate-users}
rules: [{verbs: [impersonate], apiGroups: [""], resources: [users, groups]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: carol-impersonates}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: impersonate-users}
subjects: [{kind: User, name: carol}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: pod-reader, namespace: prod}
rules: [{verbs: [get, list], apiGroups: [""], resources: [pods]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: mcp-reads-pods, namespace: prod}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: pod-reader}
subjects: [{kind: ServiceAccount, name: mcp-server}]
`,
  );
  assert.equal(setup.code, 0, setup.stderr);
});
after(async () => {
  await sim?.close();
});

describe("kubectl auth and tokens against the simulator", () => {
  test("auth can-i get pods says yes for the admin", async () => {
    const r = await admin(["auth", "can-i", "get", "pods"]);
    assert.equal(r.stdout.trim(), "yes", r.stderr);
    assert.equal(r.code, 0);
  });

  test("auth can-i get pods says no for a tokens.csv user without bindings", async () => {
    const r = await kubectl(alice, ["auth", "can-i", "get", "pods"]);
    assert.equal(r.stdout.trim(), "no", r.stderr);
    assert.equal(r.code, 1);
  });

  test("auth can-i --list shows the admin's wildcard rule and a plain user's bootstrap rules", async () => {
    const a = await admin(["auth", "can-i", "--list"]);
    assert.equal(a.code, 0, a.stderr);
    assert.match(a.stdout, /^\*\.\*\s+\[\]\s+\[\]\s+\[\*\]$/m);
    const u = await kubectl(alice, ["auth", "can-i", "--list"]);
    assert.equal(u.code, 0, u.stderr);
    assert.match(u.stdout, /selfsubjectaccessreviews\.authorization\.k8s\.io\s+\[\]\s+\[\]\s+\[create\]/);
    assert.doesNotMatch(u.stdout, /^\*\.\*/m);
  });

  test("auth whoami shows the user, and the impersonated user with --as", async () => {
    const me = await admin(["auth", "whoami"]);
    assert.equal(me.code, 0, me.stderr);
    assert.match(me.stdout, /Username\s+sim:admin/);
    assert.match(me.stdout, /Groups\s+\[system:masters system:authenticated\]/);
    const as = await admin(["auth", "whoami", "--as=bob", "--as-group=team-a"]);
    assert.equal(as.code, 0, as.stderr);
    assert.match(as.stdout, /Username\s+bob/);
    assert.match(as.stdout, /Groups\s+\[team-a system:authenticated\]/);
    const u = await kubectl(alice, ["auth", "whoami"]);
    assert.match(u.stdout, /Username\s+alice/);
    assert.match(u.stdout, /UID\s+uid-alice/);
  });

  test("an --as request is refused for a user without impersonate rights, with kube's message", async () => {
    const r = await kubectl(alice, ["get", "--raw", "/api/v1/namespaces/default/pods", "--as=someone"]);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /Error from server \(Forbidden\): users "someone" is forbidden: User "alice" cannot impersonate resource "users" in API group "" at the cluster scope/,
    );
    // Commands that need discovery fail there first, and client-go reads a JSON discovery error as "unknown", exactly
    // as against a real kube-apiserver 1.32.
    const get = await kubectl(alice, ["get", "pods", "--as=someone"]);
    assert.equal(get.code, 1);
    assert.match(get.stderr, /Error from server \(Forbidden\): unknown/);
    const canI = await kubectl(alice, ["auth", "can-i", "get", "pods", "--as=someone"]);
    assert.equal(canI.code, 1);
    assert.match(
      canI.stderr,
      /users "someone" is forbidden: User "alice" cannot impersonate resource "users"/,
    );
  });

  test("a user granted impersonate on users may act as someone else", async () => {
    const r = await kubectl(carol, ["auth", "whoami", "--as=dave"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Username\s+dave/);
    const denied = await kubectl(carol, ["auth", "can-i", "get", "pods", "--as=dave"]);
    assert.equal(denied.stdout.trim(), "no");
  });

  test("create token issues a service-account token that authenticates and is authorised by RBAC", async () => {
    const r = await admin(["create", "token", "mcp-server", "-n", "prod", "--duration=15m"]);
    assert.equal(r.code, 0, r.stderr);
    const token = r.stdout.trim();
    assert.match(token, /^[\w-]+\.[\w-]+\.[\w-]+$/);
    const claims = JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString());
    assert.equal(claims.exp - claims.iat, 900);
    const sa = kubeconfigWithToken("mcp", token);
    const who = await kubectl(sa, ["auth", "whoami"]);
    assert.equal(who.code, 0, who.stderr);
    assert.match(who.stdout, /Username\s+system:serviceaccount:prod:mcp-server/);
    assert.match(
      who.stdout,
      /Groups\s+\[system:serviceaccounts system:serviceaccounts:prod system:authenticated\]/,
    );
    const pods = await kubectl(sa, ["get", "pods", "-n", "prod"]);
    assert.equal(pods.code, 0, pods.stderr);
    const other = await kubectl(sa, ["get", "pods", "-n", "default"]);
    assert.equal(other.code, 1);
    assert.match(
      other.stderr,
      /Error from server \(Forbidden\): pods is forbidden: User "system:serviceaccount:prod:mcp-server" cannot list resource "pods" in API group "" in the namespace "default"/,
    );
  });

  test("create token for an unknown service account is NotFound", async () => {
    const r = await admin(["create", "token", "ghost", "-n", "prod"]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /serviceaccounts "ghost" not found/);
  });

  test("an unknown token is told to log in", async () => {
    const r = await kubectl(kubeconfigWithToken("bad", "not-a-token"), ["get", "pods"]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /You must be logged in to the server/);
  });
});

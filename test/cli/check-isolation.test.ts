// `airlock check-isolation` against the simulator, with test-only fixture "pods": an environment and temp folders
// standing in for a pod's service-account mount, HOME, ~/.aws and ~/.kube. A pod with a mounted token and a
// reachable API server fails (and shows the token works, without printing it); a pod with no token, no credentials
// and the API server's port closed (what the agents' NetworkPolicy does) passes; and the demo's pods hold no token.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { airlock } from "../helpers/cli.ts";
import { kubectl } from "../helpers/kubectl.ts";
import { type Simulator, startTestSimulator } from "../helpers/sim.ts";

let sim: Simulator;
let tmp: string;
let simPort: string;
let closedPort: string;
let listener: Server;
let listenerPort: string;

/** A port nothing listens on: bound, then closed. */
async function freePort(): Promise<string> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return String(port);
}

interface Pod {
  env: Record<string, string>;
  /** Stands in for the pod's filesystem root (--root): the well-known token and kubeconfig paths are read under it. */
  root: string;
  saDir: string;
  home: string;
}

/** A fixture pod: its own HOME and (optionally) a service-account mount holding `token`. */
function pod(name: string, opts: { token?: string; apiPort: string }): Pod {
  const root = join(tmp, name);
  const saDir = join(root, "serviceaccount");
  const home = join(root, "home");
  mkdirSync(saDir, { recursive: true });
  mkdirSync(home, { recursive: true });
  if (opts.token) {
    writeFileSync(join(saDir, "token"), opts.token);
    writeFileSync(join(saDir, "namespace"), "prod");
  }
  return {
    root,
    saDir,
    home,
    env: { HOME: home, KUBERNETES_SERVICE_HOST: "127.0.0.1", KUBERNETES_SERVICE_PORT: opts.apiPort },
  };
}

function check(p: Pod, extra: string[] = [], env: Record<string, string> = {}) {
  return airlock(
    [
      "check-isolation",
      "--root",
      p.root,
      "--service-account-dir",
      p.saDir,
      "--metadata-endpoint",
      `127.0.0.1:${closedPort}`,
      "--timeout-ms",
      "1000",
      ...extra,
    ],
    { ...p.env, ...env },
  );
}

before(async () => {
  sim = await startTestSimulator({ seed: "demo" });
  tmp = mkdtempSync(join(tmpdir(), "airlock-isolation-"));
  simPort = new URL(sim.url).port;
  closedPort = await freePort();
  listener = createServer((s) => s.destroy());
  await new Promise<void>((r) => listener.listen(0, "127.0.0.1", r));
  listenerPort = String((listener.address() as { port: number }).port);
});

after(async () => {
  await new Promise<void>((r) => listener.close(() => r()));
  await sim.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe("airlock check-isolation", () => {
  test("a pod with a mounted service-account token and a reachable API server fails, naming both", async () => {
    const token = (
      await kubectl(sim.kubeconfigPath, ["create", "token", "mcp-server", "-n", "prod"])
    ).stdout.trim();
    assert.ok(token.length > 20, "the simulator issued a token");
    const p = pod("with-token", { token, apiPort: simPort });
    const r = await check(p);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /^OPEN {4}in-cluster API server \(KUBERNETES_SERVICE_HOST\) 127\.0\.0\.1:\d+$/m);
    assert.match(r.stdout, /TCP connect succeeds/);
    assert.match(r.stdout, /unauthenticated GET \/version: 200/);
    assert.match(r.stdout, /GET \/api with the mounted service-account token: 200 \(the token is accepted\)/);
    assert.match(r.stdout, /^OPEN {4}service-account token \(.*\/serviceaccount\/token\)$/m);
    assert.match(
      r.stdout,
      /a JWT for system:serviceaccount:prod:mcp-server, expires .* is mounted \(namespace prod\)/,
    );
    assert.match(r.stdout, /fix: set automountServiceAccountToken: false/);
    assert.match(r.stdout, /fix: exclude this address from the agents' egress NetworkPolicy/);
    assert.match(r.stdout, /paths checked: 2 open\. Close each OPEN path/);
    assert.ok(
      !r.stdout.includes(token) && !r.stdout.includes(token.split(".")[2] as string),
      "the token is never printed",
    );
  });

  test("a pod with no token, no credentials and the API server's port dropped passes", async () => {
    const p = pod("no-token", { apiPort: closedPort });
    // Its kubeconfig names Airlock only.
    mkdirSync(join(p.home, ".kube"));
    writeFileSync(
      join(p.home, ".kube", "config"),
      "apiVersion: v1\nkind: Config\nclusters:\n- name: airlock\n  cluster: {server: 'https://airlock.airlock.svc:8443'}\n",
    );
    const r = await check(p, ["--airlock", "https://airlock.airlock.svc:8443"]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(
      r.stdout,
      /^closed {2}in-cluster API server \(KUBERNETES_SERVICE_HOST\) 127\.0\.0\.1:\d+\n {8}TCP connect fails \(ECONNREFUSED\)$/m,
    );
    assert.match(r.stdout, /^closed {2}service-account token .*\n {8}no token mounted$/m);
    assert.match(r.stdout, /^closed {2}AWS credentials$/m);
    assert.match(r.stdout, /^closed {2}kubeconfig .*\.kube\/config\n {8}every cluster in it is Airlock$/m);
    assert.match(r.stdout, /^closed {2}instance metadata \/ credential endpoint 127\.0\.0\.1:\d+$/m);
    assert.match(r.stdout, /none open/);
    assert.doesNotMatch(r.stdout, /^OPEN/m);
  });

  test("AWS credentials, a kubeconfig to the cluster itself and a reachable metadata endpoint are each open", async () => {
    const p = pod("aws", { apiPort: closedPort });
    mkdirSync(join(p.home, ".aws"));
    writeFileSync(
      join(p.home, ".aws", "credentials"),
      "[default]\naws_access_key_id = AKIAEXAMPLE\naws_secret_access_key = s3cr3t-value\n",
    );
    writeFileSync(join(tmp, "aws", "web-identity"), "eyJhbGciOi.fake.token");
    const r = await check(
      p,
      [
        "--kubeconfig",
        sim.kubeconfigPath,
        "--airlock",
        "https://airlock.airlock.svc:8443",
        "--metadata-endpoint",
        `127.0.0.1:${listenerPort}`,
      ],
      {
        AWS_ACCESS_KEY_ID: "AKIAEXAMPLEENV",
        AWS_SECRET_ACCESS_KEY: "env-secret-value",
        AWS_WEB_IDENTITY_TOKEN_FILE: join(tmp, "aws", "web-identity"),
        AWS_ROLE_ARN: "arn:aws:iam::111122223333:role/agent",
      },
    );
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /^OPEN {4}AWS credentials$/m);
    assert.match(r.stdout, /AWS_ACCESS_KEY_ID is set/);
    assert.match(
      r.stdout,
      /web identity token file .* for role arn:aws:iam::111122223333:role\/agent \(IRSA\)/,
    );
    assert.match(r.stdout, /\.aws\/credentials holds credentials or a role to assume/);
    assert.match(r.stdout, /not called: this check sends nothing to AWS/);
    assert.match(r.stdout, /fix: give the agents' ServiceAccount no IAM role/);
    assert.match(r.stdout, new RegExp(`^OPEN {4}kubeconfig ${sim.kubeconfigPath}$`, "m"));
    assert.match(
      r.stdout,
      new RegExp(`cluster \\S+ → ${sim.url.replace(/[.]/g, "\\.")} is not Airlock, with a credential`),
    );
    assert.match(r.stdout, /^OPEN {4}API server of kubeconfig cluster \S+ 127\.0\.0\.1:\d+$/m);
    assert.match(
      r.stdout,
      new RegExp(`^OPEN {4}instance metadata / credential endpoint 127\\.0\\.0\\.1:${listenerPort}$`, "m"),
    );
    for (const secret of ["s3cr3t-value", "env-secret-value", "eyJhbGciOi.fake.token", sim.adminToken]) {
      assert.ok(!r.stdout.includes(secret), "no secret is printed");
    }
  });

  test("credentials at the well-known paths count without any environment: an IRSA token mount, a node's admin.conf", async () => {
    const p = pod("well-known", { apiPort: closedPort });
    const irsa = join(p.root, "var/run/secrets/eks.amazonaws.com/serviceaccount");
    mkdirSync(irsa, { recursive: true });
    writeFileSync(join(irsa, "token"), "eyJhbGciOi.irsa.token");
    mkdirSync(join(p.root, "etc/kubernetes"), { recursive: true });
    writeFileSync(
      join(p.root, "etc/kubernetes/admin.conf"),
      `apiVersion: v1\nkind: Config\nclusters:\n- name: prod\n  cluster: {server: '${sim.url}'}\n`,
    );
    const r = await check(p, ["--airlock", "https://airlock.airlock.svc:8443"]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(
      r.stdout,
      /^OPEN {4}AWS credentials\n {8}a token for an IAM role is mounted at \/var\/run\/secrets\/eks\.amazonaws\.com\/serviceaccount\/token$/m,
    );
    assert.match(r.stdout, /^OPEN {4}kubeconfig .*\/etc\/kubernetes\/admin\.conf$/m);
    assert.match(r.stdout, /^OPEN {4}API server of kubeconfig cluster prod 127\.0\.0\.1:\d+$/m);
    assert.ok(!r.stdout.includes("irsa.token"), "no token is printed");
  });

  test("bad flags exit 2 with the usage", async () => {
    const r = await airlock(["check-isolation", "--timeout-ms", "soon"]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--timeout-ms takes a positive whole number/);
  });
});

describe("the demo's pods", () => {
  test("hold no service-account token: nothing is mounted at the token path of any running demo pod", async () => {
    const pods = await kubectl(sim.kubeconfigPath, [
      "get",
      "pods",
      "-A",
      "--field-selector=status.phase=Running",
      "-o",
      "jsonpath={range .items[*]}{.metadata.namespace}/{.metadata.name}{'\\n'}{end}",
    ]);
    const names = pods.stdout.trim().split("\n").filter(Boolean);
    assert.ok(names.length >= 3, `the demo runs pods (${pods.stdout} ${pods.stderr})`);
    for (const full of names) {
      const [ns, name] = full.split("/") as [string, string];
      const r = await kubectl(sim.kubeconfigPath, [
        "exec",
        "-n",
        ns,
        name,
        "--",
        "sh",
        "-c",
        "test -e /var/run/secrets/kubernetes.io/serviceaccount/token && echo MOUNTED || echo none",
      ]);
      assert.equal(r.stdout.trim(), "none", `${full}: ${r.stderr}`);
    }
    // And the pod specs ask for none: no projected service-account token volume.
    const specs = await kubectl(sim.kubeconfigPath, ["get", "pods", "-A", "-o", "json"]);
    for (const item of JSON.parse(specs.stdout).items as {
      metadata: { name: string };
      spec: { volumes?: { projected?: { sources?: { serviceAccountToken?: unknown }[] } }[] };
    }[]) {
      const projected = (item.spec.volumes ?? []).flatMap((v) => v.projected?.sources ?? []);
      assert.ok(!projected.some((s) => s.serviceAccountToken), `${item.metadata.name} projects no token`);
    }
  });
});

import assert from "node:assert/strict";
import { test } from "node:test";
import { stringify } from "yaml";
import { StatusError } from "../../src/kube/status.ts";
import { parseKubeconfig } from "../../src/upstream/kubeconfig.ts";

const FILE = "/etc/airlock/clusters/prod.kubeconfig";
const PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
const b64 = (s: string) => Buffer.from(s).toString("base64");

function kubeconfig(
  user: Record<string, unknown>,
  cluster: Record<string, unknown> = {},
  extra = {},
): string {
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    "current-context": "admin",
    clusters: [
      { name: "prod", cluster: { server: "https://10.0.0.1:6443", ...cluster } },
      { name: "staging", cluster: { server: "https://staging.example.com/k8s/clusters/c-1" } },
    ],
    users: [
      { name: "admin", user },
      { name: "ci", user: { token: "ci-token-123456" } },
    ],
    contexts: [
      { name: "admin", context: { cluster: "prod", user: "admin" } },
      { name: "staging-ci", context: { cluster: "staging", user: "ci", namespace: "ci" } },
    ],
    ...extra,
  });
}

test("a token user and the current-context are read, with the CA from certificate-authority-data", () => {
  const { connection } = parseKubeconfig(
    kubeconfig({ token: "secret-token-value" }, { "certificate-authority-data": b64(PEM) }),
    FILE,
  );
  assert.equal(connection.server.href, "https://10.0.0.1:6443/");
  assert.deepEqual(connection.auth, { token: "secret-token-value" });
  assert.deepEqual(connection.ca, {
    pem: PEM,
    origin: `kubeconfig ${FILE}: clusters[prod].cluster.certificate-authority-data`,
  });
  assert.match(connection.where, /context admin/);
});

test("a named context selects its own cluster and user; the context namespace is ignored with a warning", () => {
  const { connection, warnings } = parseKubeconfig(kubeconfig({ token: "t" }), FILE, "staging-ci");
  assert.equal(connection.server.pathname, "/k8s/clusters/c-1");
  assert.deepEqual(connection.auth, { token: "ci-token-123456" });
  assert.equal(warnings.length, 1);
  assert.match(warnings[0] ?? "", /namespace ignored/);
});

test("relative file paths resolve against the kubeconfig's folder; absolute ones stay", () => {
  const { connection } = parseKubeconfig(
    kubeconfig(
      { tokenFile: "tokens/sa", "client-certificate": "/pki/client.crt", "client-key": "client.key" },
      { "certificate-authority": "../ca.crt", "tls-server-name": "kubernetes.default" },
    ),
    FILE,
  );
  assert.deepEqual(connection.auth, {
    tokenFile: "/etc/airlock/clusters/tokens/sa",
    clientCert: { file: "/pki/client.crt" },
    clientKey: { file: "/etc/airlock/clusters/client.key" },
  });
  assert.deepEqual(connection.ca, { file: "/etc/airlock/ca.crt" });
  assert.equal(connection.tlsServerName, "kubernetes.default");
});

test("inline client certificate and key data are decoded from base64", () => {
  const { connection } = parseKubeconfig(
    kubeconfig({
      "client-certificate-data": b64(PEM),
      "client-key-data": b64("-----BEGIN EC PRIVATE KEY-----\n"),
    }),
    FILE,
  );
  assert.equal((connection.auth.clientCert as { pem: string }).pem, PEM);
  assert.match((connection.auth.clientKey as { pem: string }).pem, /PRIVATE KEY/);
});

for (const apiVersion of ["client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1"]) {
  test(`an exec plugin (${apiVersion}) keeps args and env; a relative command with a slash is kubeconfig-relative`, () => {
    const { connection } = parseKubeconfig(
      kubeconfig(
        {
          exec: {
            apiVersion,
            command: "./bin/get-token",
            args: ["--cluster", "prod"],
            env: [{ name: "AWS_PROFILE", value: "gateway" }],
            interactiveMode: "Never",
            provideClusterInfo: true,
          },
        },
        {
          "certificate-authority-data": b64(PEM),
          extensions: [{ name: "client.authentication.k8s.io/exec", extension: { audience: "prod" } }],
        },
      ),
      FILE,
    );
    const exec = connection.auth.exec;
    assert.ok(exec);
    assert.equal(exec.apiVersion, apiVersion);
    assert.equal(exec.command, "/etc/airlock/clusters/bin/get-token");
    assert.deepEqual(exec.args, ["--cluster", "prod"]);
    assert.deepEqual(exec.env, [{ name: "AWS_PROFILE", value: "gateway" }]);
    assert.equal(exec.provideClusterInfo, true);
    assert.deepEqual(exec.cluster, {
      server: "https://10.0.0.1:6443",
      "certificate-authority-data": b64(PEM),
      config: { audience: "prod" },
    });
  });
}

test("a bare exec command name is left for PATH lookup", () => {
  const { connection } = parseKubeconfig(
    kubeconfig({
      exec: {
        apiVersion: "client.authentication.k8s.io/v1beta1",
        command: "aws",
        args: ["eks", "get-token"],
      },
    }),
    FILE,
  );
  assert.equal(connection.auth.exec?.command, "aws");
});

const refusals: {
  name: string;
  user?: Record<string, unknown>;
  cluster?: Record<string, unknown>;
  field: string;
  why: RegExp;
}[] = [
  {
    name: "basic auth",
    user: { username: "admin", password: "hunter2-password" },
    field: "users[admin].user.username",
    why: /basic authentication/,
  },
  {
    name: "an auth-provider",
    user: { "auth-provider": { name: "oidc", config: { "id-token": "eyJsecret" } } },
    field: "users[admin].user.auth-provider",
    why: /exec plugin/,
  },
  {
    name: "impersonation in the kubeconfig",
    user: { token: "t", as: "bob" },
    field: "users[admin].user.as",
    why: /sets impersonation itself/,
  },
  {
    name: "insecure-skip-tls-verify",
    user: { token: "t" },
    cluster: { "insecure-skip-tls-verify": true },
    field: "clusters[prod].cluster.insecure-skip-tls-verify",
    why: /always verifies/,
  },
  {
    name: "a proxy-url",
    user: { token: "t" },
    cluster: { "proxy-url": "http://proxy:3128" },
    field: "clusters[prod].cluster.proxy-url",
    why: /proxy/,
  },
  {
    name: "a plain-http server",
    user: { token: "t" },
    cluster: { server: "http://10.0.0.1:8080" },
    field: "clusters[prod].cluster.server",
    why: /clear text/,
  },
  {
    name: "a user without any credential",
    user: {},
    field: "users[admin].user",
    why: /never connects anonymously/,
  },
  {
    name: "exec combined with a token",
    user: { token: "t", exec: { apiVersion: "client.authentication.k8s.io/v1beta1", command: "x" } },
    field: "users[admin].user.exec",
    why: /use one/,
  },
  {
    name: "an exec v1 plugin without interactiveMode",
    user: { exec: { apiVersion: "client.authentication.k8s.io/v1", command: "x" } },
    field: "users[admin].user.exec.interactiveMode",
    why: /required/,
  },
  {
    name: "an interactive exec plugin",
    user: {
      exec: { apiVersion: "client.authentication.k8s.io/v1", command: "x", interactiveMode: "Always" },
    },
    field: "users[admin].user.exec.interactiveMode",
    why: /terminal/,
  },
  {
    name: "the removed exec v1alpha1",
    user: { exec: { apiVersion: "client.authentication.k8s.io/v1alpha1", command: "x" } },
    field: "users[admin].user.exec.apiVersion",
    why: /must be one of/,
  },
  {
    name: "a client certificate without its key",
    user: { "client-certificate": "c.crt" },
    field: "users[admin].user.client-key",
    why: /missing/,
  },
];

for (const r of refusals) {
  test(`${r.name} is refused with an error naming the file and the field, not the value`, () => {
    assert.throws(
      () => parseKubeconfig(kubeconfig(r.user ?? {}, r.cluster ?? {}), FILE),
      (err: unknown) => {
        assert.ok(err instanceof StatusError);
        const msg = err.message;
        assert.ok(msg.startsWith(`kubeconfig ${FILE}: ${r.field}:`), msg);
        assert.match(msg, r.why);
        assert.doesNotMatch(msg, /hunter2|eyJsecret/);
        return true;
      },
    );
  });
}

test("an unknown context, a missing current-context and broken YAML are reported with the file", () => {
  assert.throws(
    () => parseKubeconfig(kubeconfig({ token: "t" }), FILE, "nope"),
    /prod\.kubeconfig: contexts: no context named "nope"/,
  );
  assert.throws(
    () => parseKubeconfig(kubeconfig({ token: "t" }, {}, { "current-context": "" }), FILE),
    /current-context: no context given/,
  );
  assert.throws(() => parseKubeconfig("clusters: [", FILE), /prod\.kubeconfig: \(file\): not valid YAML/);
});

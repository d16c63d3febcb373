import assert from "node:assert/strict";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { loadConfigFile, validateConfig } from "../../src/gateway/config.ts";

test("a minimal config is accepted, defaults filled in, paths resolved against the file's folder, and frozen", () => {
  const result = validateConfig(
    { clusters: [{ name: "prod", kubeconfig: { path: "prod.kubeconfig" } }] },
    "/etc/airlock",
  );
  assert.ok(result.ok);
  const { config } = result;
  assert.equal(config.listen.address, "127.0.0.1");
  assert.equal(config.listen.port, 8443);
  assert.equal(config.policy.builtin, "deny-all", "default deny when no policy is chosen");
  assert.equal(config.defaultCluster, "prod");
  const cluster = config.clusters[0];
  assert.ok(cluster && "kubeconfig" in cluster);
  assert.equal(cluster.kubeconfig.path, "/etc/airlock/prod.kubeconfig");
  assert.equal(config.dataDir, "/etc/airlock/airlock-data");
  assert.ok(Object.isFrozen(config) && Object.isFrozen(config.clusters));
});

test("every config error is reported at once, each with its path in the file", () => {
  const result = validateConfig(
    {
      listen: { port: "eighty" },
      clusters: [{ name: "Bad Name", kubeconfig: {} }],
      polcy: {},
    },
    "/",
  );
  assert.equal(result.ok, false);
  assert.ok(!result.ok);
  const text = result.errors.join("\n");
  assert.match(text, /listen\.port/);
  assert.match(text, /clusters\[0\]/);
  assert.match(text, /polcy/, "an unknown (misspelt) key is an error");
  assert.ok(result.errors.length >= 3, text);
});

test("duplicate cluster names and an unknown default cluster are refused", () => {
  const result = validateConfig(
    {
      clusters: [
        { name: "a", server: "https://a.example:6443", token: "t" },
        { name: "a", server: "https://b.example:6443", token: "t" },
      ],
      defaultCluster: "c",
    },
    "/",
  );
  assert.ok(!result.ok);
  assert.match(result.errors.join("\n"), /duplicate cluster name "a"/);
  assert.match(result.errors.join("\n"), /defaultCluster: "c" is not one of the clusters/);
});

test("a YAML syntax error is reported with the file name", async () => {
  const dir = await mkdtemp(join(tmpdir(), "airlock-config-"));
  const file = join(dir, "airlock.yaml");
  await writeFile(file, "clusters: [\n  - name: x\n");
  const result = await loadConfigFile(file);
  assert.ok(!result.ok);
  assert.match(result.errors[0] ?? "", /airlock\.yaml/);
});

test("a missing config file is reported, not thrown", async () => {
  const result = await loadConfigFile("/nonexistent/airlock.yaml");
  assert.ok(!result.ok);
  assert.match(result.errors[0] ?? "", /cannot read \/nonexistent\/airlock\.yaml/);
});

test("masking.defaults: agents masked by `default` unless set, humans opt-in unless set, `none` never a default", async () => {
  const { defaultProfileFor } = await import("../../src/gateway/transform/stage.ts");
  const cluster = [{ name: "prod", kubeconfig: { path: "prod.kubeconfig" } }];
  const plain = validateConfig({ clusters: cluster }, "/");
  assert.ok(plain.ok);
  assert.deepEqual(plain.config.masking.defaults, { agents: "default" });
  assert.equal(defaultProfileFor(plain.config.masking.defaults, { kind: "agent" }), "default");
  assert.equal(defaultProfileFor(plain.config.masking.defaults, { kind: "human" }), undefined);
  assert.equal(defaultProfileFor(plain.config.masking.defaults, { kind: "admin" }), undefined);
  assert.equal(defaultProfileFor(undefined, undefined), "default", "no principal counts as an agent");
  const set = validateConfig(
    { clusters: cluster, masking: { defaults: { agents: "strict", humans: "default" } } },
    "/",
  );
  assert.ok(set.ok);
  assert.equal(defaultProfileFor(set.config.masking.defaults, { kind: "agent" }), "strict");
  assert.equal(defaultProfileFor(set.config.masking.defaults, { kind: "human" }), "default");
  const none = validateConfig(
    { clusters: cluster, masking: { defaults: { agents: "none", humans: "none" } } },
    "/",
  );
  assert.ok(!none.ok);
  assert.match(none.errors.join("\n"), /masking\.defaults\.agents/);
  assert.match(none.errors.join("\n"), /masking\.defaults\.humans/);
});

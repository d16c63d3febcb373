// The pure parts of what a reviewer sees: the unified diff, Secret masking, the rendering of objects, the dry-run
// query, and the ownerReferences walk that finds what a delete takes with it.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, test } from "node:test";
import {
  BUILTIN_PROFILES,
  createPlaceholders,
  DEFAULT_PROFILE,
  type MaskContext,
  maskedCopy,
} from "../../src/mask/index.ts";
import { unifiedDiff } from "../../src/review/diff.ts";
import { ownedBy, renderObject, withDryRun } from "../../src/review/preview.ts";

// Reviewers see what the one masking engine (src/mask) makes of an object: the same ‹masked:…› markers as responses.
const ctx = (): MaskContext => ({
  profile: BUILTIN_PROFILES.get(DEFAULT_PROFILE) as NonNullable<ReturnType<typeof BUILTIN_PROFILES.get>>,
  ph: createPlaceholders(randomBytes(32)),
  counts: new Map(),
});
const MARKER = /^‹masked:[0-9a-f]{8}›$/;
const maskSecrets = <T>(v: T) => maskedCopy(v, ctx());
const unb64 = (v: unknown) => Buffer.from(String(v), "base64").toString("utf8");

describe("unified diff", () => {
  test("identical texts give no diff", () => {
    assert.deepEqual(unifiedDiff("a\nb\n", "a\nb\n"), { text: "", added: 0, removed: 0 });
  });

  test("a changed line in the middle is one hunk with three lines of context", () => {
    const before = "1\n2\n3\n4\n5\n6\n7\n8\n9\n";
    const after = "1\n2\n3\n4\nfive\n6\n7\n8\n9\n";
    const d = unifiedDiff(before, after, { a: "old", b: "new" });
    assert.equal(d.text, "--- old\n+++ new\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n");
    assert.equal(d.added, 1);
    assert.equal(d.removed, 1);
  });

  test("everything removed (a delete) and everything added (a create)", () => {
    assert.equal(unifiedDiff("a\nb\n", "").text, "--- current\n+++ proposed\n@@ -1,2 +0,0 @@\n-a\n-b\n");
    assert.equal(unifiedDiff("", "x\n").text, "--- current\n+++ proposed\n@@ -0,0 +1,1 @@\n+x\n");
  });

  test("changes far apart make two hunks", () => {
    const lines = Array.from({ length: 20 }, (_, i) => `l${i}`);
    const after = [...lines];
    after[1] = "changed-1";
    after[18] = "changed-18";
    const d = unifiedDiff(`${lines.join("\n")}\n`, `${after.join("\n")}\n`);
    assert.equal(d.text.match(/^@@/gm)?.length, 2);
  });
});

describe("masking secrets for reviewers", () => {
  test("every value of a Secret's data and stringData is masked, keys kept", () => {
    const masked = maskSecrets({
      kind: "Secret",
      metadata: { name: "db" },
      data: { password: "c2VjcmV0", user: "YWRtaW4=" },
      stringData: { token: "abc" },
    });
    assert.match(unb64(masked.data.password), MARKER);
    assert.match(unb64(masked.data.user), MARKER);
    assert.match(masked.stringData.token, MARKER);
    assert.doesNotMatch(JSON.stringify(masked), /c2VjcmV0|YWRtaW4=|abc/);
  });

  test("env values whose names look secret are masked, others kept; secretKeyRef stays", () => {
    const pod = {
      kind: "Deployment",
      spec: {
        template: {
          spec: {
            containers: [
              {
                env: [
                  { name: "DB_PASSWORD", value: "hunter2" },
                  { name: "API_TOKEN", value: "t0k" },
                  { name: "LOG_LEVEL", value: "debug" },
                  { name: "DB_PASS_REF", valueFrom: { secretKeyRef: { name: "db", key: "password" } } },
                ],
              },
            ],
          },
        },
      },
    };
    const text = JSON.stringify(maskSecrets(pod));
    assert.doesNotMatch(text, /hunter2|t0k/);
    assert.match(text, /"debug"/);
    assert.match(text, /secretKeyRef/);
  });

  test("the last-applied-configuration annotation is masked too (kubectl apply copies the Secret into it)", () => {
    const applied = JSON.stringify({ kind: "Secret", data: { password: "c2VjcmV0" } });
    const masked = maskSecrets({
      kind: "Secret",
      metadata: { annotations: { "kubectl.kubernetes.io/last-applied-configuration": applied } },
      data: {},
    });
    assert.doesNotMatch(JSON.stringify(masked), /c2VjcmV0/);
  });

  test("a ConfigMap's db_password is masked in the rendered preview (the engine's key rules, not only Secrets)", () => {
    const yaml = renderObject(
      { kind: "ConfigMap", metadata: { name: "app" }, data: { db_password: "hunter2-x", mode: "fast" } },
      ctx(),
    );
    assert.doesNotMatch(yaml, /hunter2-x/);
    assert.match(yaml, /db_password: ‹masked:[0-9a-f]{8}›/);
    assert.match(yaml, /mode: fast/);
  });

  test("a connection string in any field is masked by the detectors (url-password)", () => {
    const yaml = renderObject(
      { kind: "Widget", metadata: { name: "w" }, spec: { dsn: "postgres://app:pa55-word-9@db:5432/x" } },
      ctx(),
    );
    assert.doesNotMatch(yaml, /pa55-word-9/);
  });

  test("masking returns a copy and leaves the input alone", () => {
    const secret = { kind: "Secret", data: { a: "b" } };
    maskSecrets(secret);
    assert.deepEqual(secret.data, { a: "b" });
  });
});

describe("rendering and the dependents walk", () => {
  test("objects render as YAML without managedFields, resourceVersion, generation, uid or creationTimestamp", () => {
    const yaml = renderObject(
      {
        kind: "ConfigMap",
        metadata: {
          name: "c",
          resourceVersion: "7",
          generation: 2,
          uid: "u",
          managedFields: [{}],
          creationTimestamp: "t",
        },
        data: { k: "v" },
      },
      ctx(),
    );
    assert.equal(yaml, "kind: ConfigMap\nmetadata:\n  name: c\ndata:\n  k: v\n");
    assert.equal(renderObject(undefined, ctx()), "");
  });

  test("withDryRun adds dryRun=All and keeps the rest of the query", () => {
    assert.equal(withDryRun("/api/v1/namespaces/prod/pods/p"), "/api/v1/namespaces/prod/pods/p?dryRun=All");
    assert.equal(withDryRun("/x?fieldManager=kubectl&dryRun=None"), "/x?fieldManager=kubectl&dryRun=All");
  });

  test("ownedBy follows ownerReferences transitively: a Deployment's ReplicaSets and their Pods", () => {
    const obj = (uid: string, owner?: string) => ({
      item: { metadata: { uid, name: uid, ...(owner ? { ownerReferences: [{ uid: owner }] } : {}) } },
    });
    const pods = [obj("pod-1", "rs-1"), obj("pod-2", "rs-2"), obj("pod-x", "rs-other")];
    const sets = [obj("rs-1", "deploy"), obj("rs-2", "deploy"), obj("rs-other", "other")];
    const found = ownedBy("deploy", [...pods, ...sets]).map((c) => c.item.metadata.uid);
    assert.deepEqual(found.sort(), ["pod-1", "pod-2", "rs-1", "rs-2"]);
  });
});

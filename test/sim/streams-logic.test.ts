// Pure logic of the simulator's streams: container environment, sandbox path mapping, log selection and lines.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { KubeObject } from "@airlock/sim/contracts.ts";
import { containerEnv, expandReferences } from "@airlock/sim/streams/env.ts";
import { liveLine, startupLines } from "@airlock/sim/streams/loglines.ts";
import { parseLogOptions, selectLines } from "@airlock/sim/streams/logs.ts";
import { chooseContainer, viewPod } from "@airlock/sim/streams/pod.ts";
import { resolveExecutable } from "@airlock/sim/streams/process.ts";
import { mapArgv, mapPath, sandboxPath } from "@airlock/sim/streams/sandbox.ts";

const pod: KubeObject = {
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name: "web-abc12", namespace: "prod", uid: "u-1", labels: { app: "web" } },
  spec: {
    nodeName: "sim-node-1",
    containers: [
      {
        name: "web",
        image: "nginx:1.27",
        envFrom: [{ configMapRef: { name: "cfg" } }, { prefix: "S_", secretRef: { name: "creds" } }],
        env: [
          { name: "DB_PASSWORD", valueFrom: { secretKeyRef: { name: "creds", key: "password" } } },
          { name: "LOG_LEVEL", value: "debug" },
          { name: "URL", value: "http://$(POD_NAME):80/$(NOPE)" },
          { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
          { name: "POD_IP", valueFrom: { fieldRef: { fieldPath: "status.podIP" } } },
          { name: "APP", valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
          { name: "MISSING", valueFrom: { secretKeyRef: { name: "nope", key: "x" } } },
        ],
      },
      { name: "sidecar", image: "busybox" },
    ],
  },
  status: { phase: "Running", podIP: "10.244.0.9", startTime: "2026-01-01T00:00:00Z" },
};

const sources = {
  secret: (name: string) => (name === "creds" ? { password: "s3cr3t", user: "app" } : undefined),
  configMap: (name: string) => (name === "cfg" ? { LOG_LEVEL: "info", MODE: "x" } : undefined),
};

describe("container environment", () => {
  it("envFrom comes first, env wins, fieldRefs resolve, missing sources are left out", () => {
    const view = viewPod(pod);
    const env = containerEnv(view, view.containers[0] as never, sources);
    assert.equal(env.DB_PASSWORD, "s3cr3t");
    assert.equal(env.LOG_LEVEL, "debug");
    assert.equal(env.MODE, "x");
    assert.equal(env.S_user, "app");
    assert.equal(env.POD_IP, "10.244.0.9");
    assert.equal(env.APP, "web");
    assert.equal("MISSING" in env, false);
    // $(POD_NAME) is defined after URL, so it stays unexpanded, as the kubelet does
    assert.equal(env.URL, "http://$(POD_NAME):80/$(NOPE)");
  });

  it("$(VAR) expands earlier variables and $$ escapes", () => {
    assert.equal(expandReferences("a-$(X)-$$(X)-$(Y)", { X: "1" }), "a-1-$(X)-$(Y)");
  });
});

describe("container choice", () => {
  it("several containers and none named is a 400 with kube's wording", () => {
    assert.throws(() => chooseContainer(viewPod(pod), null), {
      message: "a container name must be specified for pod web-abc12, choose one of: [web sidecar]",
    });
    assert.throws(() => chooseContainer(viewPod(pod), "db"), {
      message: "container db is not valid for pod web-abc12",
    });
    assert.equal(chooseContainer(viewPod(pod), "sidecar").name, "sidecar");
  });
});

describe("sandbox path mapping", () => {
  it("absolute arguments become paths relative to the sandbox root; argv[0] and relative ones stay", () => {
    const table: [string[], string[]][] = [
      [
        ["tar", "cf", "-", "/tmp/x.txt"],
        ["tar", "cf", "-", "tmp/x.txt"],
      ],
      [
        ["tar", "-xmf", "-", "-C", "/tmp"],
        ["tar", "-xmf", "-", "-C", "tmp"],
      ],
      [
        ["/bin/cat", "/"],
        ["/bin/cat", "."],
      ],
      [
        ["cat", "rel/x", "/../../etc/passwd"],
        ["cat", "rel/x", "etc/passwd"],
      ],
    ];
    for (const [argv, want] of table) assert.deepEqual(mapArgv(argv), want);
    assert.equal(mapPath("/var/tmp/"), "var/tmp/");
  });

  it("names that could leave the sandbox root are refused", () => {
    assert.throws(() => sandboxPath("/r", "..", "p", "c"));
    assert.throws(() => sandboxPath("/r", "ns", "a/b", "c"));
    assert.equal(sandboxPath("/r", "ns", "p", "c"), "/r/ns/p/c");
  });

  it("an unknown command reports what the runtime reports", () => {
    const r = resolveExecutable("no-such-cmd-x", "/", "/usr/bin:/bin");
    assert.deepEqual(r, { ok: false, detail: 'exec: "no-such-cmd-x": executable file not found in $PATH' });
    assert.equal(resolveExecutable("sh", "/", "/usr/bin:/bin").ok, true);
  });
});

describe("logs", () => {
  const subject = {
    namespace: "prod",
    pod: "web-abc12",
    container: "web",
    image: "nginx:1.27",
    podIP: "",
    port: 80,
  };

  it("an nginx container starts with the nginx entrypoint's lines, deterministically", () => {
    const start = new Date("2026-01-01T00:00:00Z");
    const a = startupLines(subject, start);
    assert.equal(
      a[0]?.text,
      "/docker-entrypoint.sh: /docker-entrypoint.d/ is not empty, will attempt to perform configuration",
    );
    assert.ok(a.some((l) => l.text.includes("nginx/1.27")));
    assert.deepEqual(startupLines(subject, start), a);
    assert.equal(liveLine(subject, 3, start), liveLine(subject, 3, start));
    assert.match(liveLine(subject, 0, start), /^10\.244\.0\.\d+ - - \[01\/Jan\/2026:00:00:00 \+0000\] "GET /);
    assert.match(
      startupLines({ ...subject, image: "ghcr.io/x/api:1" }, start)[0]?.text ?? "",
      /INFO {2}starting web/,
    );
  });

  it("sinceSeconds filters before tailLines takes the last lines", () => {
    const now = new Date("2026-01-01T00:10:00Z");
    const lines = [0, 1, 2, 3].map((m) => ({
      time: new Date(now.getTime() - (4 - m) * 60_000),
      text: `l${m}`,
    }));
    const pick = (q: string) =>
      selectLines(lines, parseLogOptions(new URLSearchParams(q), now)).map((l) => l.text);
    assert.deepEqual(pick(""), ["l0", "l1", "l2", "l3"]);
    assert.deepEqual(pick("tailLines=2"), ["l2", "l3"]);
    assert.deepEqual(pick("tailLines=0"), []);
    assert.deepEqual(pick("sinceSeconds=150"), ["l2", "l3"]);
    assert.deepEqual(pick("sinceSeconds=200&tailLines=1"), ["l3"]);
    assert.throws(() => parseLogOptions(new URLSearchParams("tailLines=-1"), now), { message: /tailLines/ });
    assert.throws(() => parseLogOptions(new URLSearchParams("sinceSeconds=1&sinceTime=x"), now));
  });
});

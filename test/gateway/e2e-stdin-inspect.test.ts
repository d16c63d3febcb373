// `exec: { stdin: inspect }` end to end with the real kubectl: lines piped into `kubectl exec -i … -- sh` are checked
// one by one against the rules that inspect; a refused line never reaches the shell, the agent reads why on stderr,
// and the audit note and the recording say so. A tty session under an inspect rule is refused as unresolved.
import assert from "node:assert/strict";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { eventually } from "../helpers/eventually.ts";
import { startTestGateway, type TestGateway } from "../helpers/gateway.ts";
import { kubectl, runningPod } from "../helpers/kubectl.ts";
import { kubectlOnTerminal, waitFor } from "./e2e-recording-support.ts";

const POLICY = `apiVersion: airlock.dev/v1alpha1
kind: Policy
metadata: { name: denylist }
spec:
  subjects: [{ group: deny-list }]
  rules:
    - name: read
      verbs: [get, list]
      effect: allow
    - name: exec
      verbs: [exec]
      effect: allow
    - name: no-destructive
      verbs: [exec]
      exec: { commandMatches: [rm, unlink], stdin: inspect }
      effect: deny
      message: destructive commands are blocked
---
apiVersion: airlock.dev/v1alpha1
kind: Policy
metadata: { name: allowlist }
spec:
  subjects: [{ group: allow-list }]
  rules:
    - name: read
      verbs: [get, list]
      effect: allow
    - name: agent-exec
      verbs: [exec]
      exec: { commandMatches: [sh, echo, ls, cat, touch], stdin: inspect }
      effect: allow
---
apiVersion: airlock.dev/v1alpha1
kind: Policy
metadata: { name: operators }
spec:
  subjects: [{ group: operators }]
  rules:
    - name: everything
      verbs: ["*"]
      effect: allow
`;

let t: TestGateway;
let denyAgent: string;
let allowAgent: string;
let operator: string;
let pod: string;

before(async () => {
  const policyDir = await mkdtemp(join(tmpdir(), "airlock-inspect-policy-"));
  await writeFile(join(policyDir, "policy.yaml"), POLICY);
  t = await startTestGateway({ policyFiles: [join(policyDir, "policy.yaml")] });
  denyAgent = (await t.addIdentity("deny-agent", "agent", ["deny-list"])).kubeconfig;
  allowAgent = (await t.addIdentity("allow-agent", "agent", ["allow-list"])).kubeconfig;
  operator = (await t.addIdentity("operator", "agent", ["operators"])).kubeconfig;
  pod = await runningPod(t.sim.kubeconfigPath);
});

after(async () => {
  await t?.close();
});

const shell = (kubeconfig: string, input: string) =>
  kubectl(kubeconfig, ["exec", "-i", "-n", "prod", pod, "--", "sh"], { input, timeoutMs: 20_000 });
const exists = async (path: string) =>
  (
    await kubectl(operator, [
      "exec",
      "-n",
      "prod",
      pod,
      "--",
      "sh",
      "-c",
      `test -e ${path} && echo yes || echo no`,
    ])
  ).stdout;

describe("a deny rule that inspects stdin", () => {
  test("refused lines never reach the shell; the others run; the agent reads why on stderr", async () => {
    await kubectl(operator, [
      "exec",
      "-n",
      "prod",
      pod,
      "--",
      "touch",
      "/tmp/keep1",
      "/tmp/keep2",
      "/tmp/keep3",
    ]);
    const r = await shell(
      denyAgent,
      [
        "echo one",
        "rm /tmp/keep1",
        "echo two",
        "X=rm; $X /tmp/keep2",
        // a line continued with a backslash is read as the one command the shell runs
        "r\\",
        "m /tmp/keep3",
        "echo 'three",
        "four'",
        "",
      ].join("\n"),
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "one\ntwo\nthree\nfour\n");
    assert.match(
      r.stderr,
      /airlock: line not run by policy denylist rule no-destructive: destructive commands are blocked \(it runs `rm`\): rm \/tmp\/keep1/,
    );
    assert.match(r.stderr, /could not be resolved statically: parameter expansion in command position `\$X`/);
    assert.match(r.stderr, /line not run .*: r\\\?m \/tmp\/keep3/);
    for (const f of ["/tmp/keep1", "/tmp/keep2", "/tmp/keep3"]) assert.equal(await exists(f), "yes\n", f);
  });

  test("the audit note and the recording show the refused lines", async () => {
    await shell(denyAgent, "echo hello\nunlink /tmp/keep1\n");
    // The completion is written once the gateway has closed the stream, just after kubectl returns.
    const e = await eventually("the exec's audit record with the inspection note", async () =>
      (await t.gateway.store.audit.list({ limit: 200 })).find(
        (x) =>
          x.identityName === "deny-agent" &&
          x.subresource === "exec" &&
          /stdin inspection: 1 line/.test(x.reason ?? ""),
      ),
    );
    assert.match(
      e.reason ?? "",
      /stdin inspection: 1 line\(s\) not run \(first by policy denylist rule no-destructive/,
    );
    const recs = await t.gateway.store.recordings.list(e.sessionId ?? "");
    const casts = await Promise.all(
      recs
        .filter((r) => r.kind === "exec")
        .map((r) => readFile(join(t.gateway.runtime.recordings?.dir ?? "", r.file), "utf8")),
    );
    const cast = casts.find((c) => c.includes("echo hello"));
    assert.ok(cast, "the recording holds the delivered line");
    // asciicast v2: a header line, then [time, code, data] events; "m" is a marker (a refused line, the exit).
    const refusals = cast
      .trim()
      .split("\n")
      .slice(1)
      .map((l) => JSON.parse(l) as [number, string, string])
      .filter(([, code]) => code === "m")
      .map(([, , text]) => text)
      .filter((text) => text.includes("stdin line not run"));
    assert.equal(refusals.length, 1, `one marker for the one refused line: ${JSON.stringify(refusals)}`);
    assert.match(
      refusals[0] ?? "",
      /^airlock: stdin line not run by policy denylist rule no-destructive: .*it runs `unlink`/,
    );
    assert.doesNotMatch(cast, /"i","unlink/, "the refused line is not recorded as input the shell got");
  });

  test("a tty session under an inspect rule is refused as unresolved", async () => {
    const { output, closed } = kubectlOnTerminal(denyAgent, ["exec", "-it", "-n", "prod", pod, "--", "sh"]);
    await waitFor(output, /forbidden/);
    assert.notEqual(await closed, 0);
    assert.match(output(), /interactive terminal \(tty\): the gateway cannot know which typed line runs/);
  });

  test("stdin that is data for a program that does not read shell commands is not inspected", async () => {
    const r = await kubectl(denyAgent, ["exec", "-i", "-n", "prod", pod, "--", "cat"], {
      input: "rm -rf /\n",
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "rm -rf /\n");
  });
});

describe("an allow rule that inspects stdin", () => {
  test("only lines whose every program is listed run", async () => {
    const r = await shell(
      allowAgent,
      "echo a\nid -u\nls / | cat > /dev/null && echo b\necho $(id -u)\necho c\n",
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "a\nb\nc\n");
    assert.match(
      r.stderr,
      /line not run by policy allowlist rule agent-exec: rule allowlist\/agent-exec allows only listed programs, and it runs `id`, which the rule does not list: id -u/,
    );
    assert.match(r.stderr, /: echo \$\(id -u\)/);
  });
});

// The simulator's streams through the real kubectl 1.32: logs (and -f), exec (env, stdin, exit codes, unknown
// commands), cp both ways, and the SPDY fallback refusal. One demo-seeded simulator for the file.
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { eventually } from "../helpers/eventually.ts";
import { kubectl, runningPod, spawnKubectl } from "../helpers/kubectl.ts";
import { type Simulator, startTestSimulator } from "../helpers/sim.ts";

let sim: Simulator;
let pod: string;
let work: string;
const k = (args: string[], opts: { input?: string; env?: Record<string, string> } = {}) =>
  kubectl(sim.kubeconfigPath, args, { timeoutMs: 20_000, ...opts });

before(async () => {
  sim = await startTestSimulator({ seed: "demo" });
  work = await mkdtemp(join(tmpdir(), "airlock-streams-"));
  pod = await runningPod(sim.kubeconfigPath);
});

after(async () => {
  await sim?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

describe("kubectl logs", () => {
  it("logs prints the nginx start-up lines; --tail and --timestamps shape them", async () => {
    const all = await k(["logs", "-n", "prod", pod]);
    assert.equal(all.code, 0, all.stderr);
    assert.match(all.stdout, /^\/docker-entrypoint\.sh: /);
    assert.match(all.stdout, /\[notice\] 1#1: start worker processes\n/);
    const tail = await k(["logs", "-n", "prod", pod, "--tail=2", "--timestamps"]);
    const lines = tail.stdout.trimEnd().split("\n");
    assert.equal(lines.length, 2);
    for (const l of lines) assert.match(l, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z /);
    const limited = await k(["logs", "-n", "prod", pod, "--limit-bytes=10"]);
    assert.equal(limited.stdout, "/docker-en");
  });

  it("logs -f keeps printing new lines until the client goes away", async () => {
    const child = spawnKubectl(sim.kubeconfigPath, ["logs", "-f", "--tail=1", "-n", "prod", pod]);
    let out = "";
    child.stdout?.setEncoding("utf8").on("data", (d: string) => {
      out += d;
    });
    await eventually("four lines of output", () => out, { until: (o) => o.split("\n").length >= 4 });
    child.kill();
    await new Promise((r) => child.on("close", r));
    const lines = out.trimEnd().split("\n");
    assert.ok(lines.length >= 3, out);
    assert.match(lines[0] ?? "", /start worker process/);
    assert.match(lines[1] ?? "", /^10\.244\.0\.\d+ - - \[.+\] "GET \/\S* HTTP\/1\.1" \d{3} \d+ /);
  });

  it("an unknown pod is NotFound and a wrong container is a 400 with kube's message", async () => {
    const missing = await k(["logs", "-n", "prod", "no-such-pod"]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /\(NotFound\): pods "no-such-pod" not found/i);
    const wrong = await k(["logs", "-n", "prod", pod, "-c", "db"]);
    assert.match(wrong.stderr, /container db is not valid for pod/);
  });
});

describe("kubectl exec", () => {
  it("exec -- env shows the container environment with the Secret decoded", async () => {
    const r = await k(["exec", "-n", "prod", pod, "--", "env"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^DB_PASSWORD=s3cr3t-pa55w0rd-7f1c$/m);
    assert.match(r.stdout, /^DB_USER=app$/m);
    assert.match(r.stdout, new RegExp(`^HOSTNAME=${pod}$`, "m"));
    assert.match(r.stdout, /^HOME=\/$/m, "the pod folder is the sandboxed process's root");
  });

  it("exec -i streams stdin to the process and EOF ends it", async () => {
    const r = await k(["exec", "-i", "-n", "prod", pod, "--", "cat"], { input: "hi\nthere\n" });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "hi\nthere\n");
  });

  it("stdout and stderr stay apart and the exit code reaches kubectl", async () => {
    const r = await k(["exec", "-n", "prod", pod, "--", "sh", "-c", "echo out; echo err >&2; exit 3"]);
    assert.equal(r.code, 3);
    assert.equal(r.stdout, "out\n");
    assert.match(r.stderr, /^err\ncommand terminated with exit code 3\n$/);
  });

  it("an unknown command fails like the container runtime says", async () => {
    const r = await k(["exec", "-n", "prod", pod, "--", "foo"]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /exec: "foo": executable file not found in \$PATH/);
  });

  it("the SPDY fallback is refused with a Status that says to use WebSocket", async () => {
    const r = await k(["exec", "-n", "prod", pod, "--", "true"], {
      env: { KUBECTL_REMOTE_COMMAND_WEBSOCKETS: "false" },
    });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /speaks only WebSocket for pods\/exec/);
  });
});

describe("kubectl cp", () => {
  it("cp uploads into the pod's sandbox, exec sees it at the same path, and cp downloads it back", async () => {
    const local = join(work, "local.txt");
    await writeFile(local, "cp round trip 42\n");
    const up = await k(["cp", local, `prod/${pod}:/tmp/x.txt`]);
    assert.equal(up.code, 0, up.stderr);
    const cat = await k(["exec", "-n", "prod", pod, "--", "cat", "/tmp/x.txt"]);
    assert.equal(cat.stdout, "cp round trip 42\n");
    const back = join(work, "back.txt");
    const down = await k(["cp", `prod/${pod}:/tmp/x.txt`, back]);
    assert.equal(down.code, 0, down.stderr);
    assert.equal(await readFile(back, "utf8"), "cp round trip 42\n");
  });
});

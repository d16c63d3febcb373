// Interactive streams through real clients: kubectl exec -it on a real pty (kubectl itself runs under `script` so
// it has a terminal), kubectl attach, kubectl port-forward (SPDY inside WebSocket), and @kubernetes/client-node's
// Exec and PortForward. One demo-seeded simulator for the file.
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { after, before, describe, it } from "node:test";
import { Exec, KubeConfig, PortForward } from "@kubernetes/client-node";
import { eventuallyMatches } from "../helpers/eventually.ts";
import { kubectl, runningPod, spawnKubectl } from "../helpers/kubectl.ts";
import { type Simulator, startTestSimulator } from "../helpers/sim.ts";

let sim: Simulator;
let pod: string;
const caches: string[] = [];

before(async () => {
  sim = await startTestSimulator({ seed: "demo" });
  pod = await runningPod(sim.kubeconfigPath);
});

after(async () => {
  await sim?.close();
  for (const c of caches) rmSync(c, { recursive: true, force: true });
});

/** kubectl under `script`, so that it sees a terminal of the given size. */
function kubectlOnTerminal(args: string[]): { child: ChildProcess; output: () => string } {
  const cache = mkdtempSync(join(tmpdir(), "airlock-kubectl-cache-"));
  caches.push(cache);
  const quoted = ["kubectl", "--kubeconfig", sim.kubeconfigPath, "--cache-dir", cache, ...args]
    .map((a) => `'${a.replace(/'/g, "'\\''")}'`)
    .join(" ");
  const child = spawn("script", ["-qec", `stty cols 91 rows 27; exec ${quoted}`, "/dev/null"], {
    stdio: ["pipe", "pipe", "pipe"],
  });
  let out = "";
  child.stdout?.setEncoding("utf8").on("data", (d: string) => {
    out += d;
  });
  child.stderr?.setEncoding("utf8").on("data", (d: string) => {
    out += d;
  });
  return { child, output: () => out };
}

const closed = (child: ChildProcess) =>
  new Promise<number>((resolve) => child.on("close", (code) => resolve(code ?? -1)));

describe("terminals", () => {
  it("exec -it gives a shell prompt on a real pty that computes, resizes and exits with its code", async () => {
    const { child, output } = kubectlOnTerminal(["exec", "-it", "-n", "prod", pod, "--", "sh"]);
    const code = closed(child);
    await eventuallyMatches(output, /[$#] $/);
    child.stdin?.write("echo $((6*7)); stty size\r");
    await eventuallyMatches(output, /\r\n42\r\n27 91\r\n/);
    child.stdin?.write("exit 4\r");
    assert.equal(await code, 4);
    assert.match(output(), /command terminated with exit code 4/);
  });

  it("attach -i joins the main process, which echoes what it reads and keeps printing", async () => {
    const child = spawnKubectl(sim.kubeconfigPath, ["attach", "-i", "-n", "prod", pod]);
    let out = "";
    child.stdout?.setEncoding("utf8").on("data", (d: string) => {
      out += d;
    });
    const code = closed(child);
    child.stdin?.write("hello main process\n");
    await eventuallyMatches(() => out, /^hello main process$/m);
    await eventuallyMatches(() => out, /"GET \//);
    child.stdin?.end();
    assert.equal(await code, 0);
    const logs = await kubectl(sim.kubeconfigPath, ["logs", "-n", "prod", pod]);
    assert.match(logs.stdout, /^hello main process$/m, "what the main process printed is in its log");
  });
});

describe("port-forward", () => {
  it("kubectl port-forward carries HTTP to the pod's declared port, and an undeclared port is refused", async () => {
    const child = spawnKubectl(sim.kubeconfigPath, [
      "port-forward",
      "-n",
      "prod",
      `pod/${pod}`,
      ":80",
      ":81",
    ]);
    let out = "";
    let err = "";
    child.stdout?.setEncoding("utf8").on("data", (d: string) => {
      out += d;
    });
    child.stderr?.setEncoding("utf8").on("data", (d: string) => {
      err += d;
    });
    try {
      await eventuallyMatches(() => out, /Forwarding from 127\.0\.0\.1:\d+ -> 81/);
      const port80 = /Forwarding from 127\.0\.0\.1:(\d+) -> 80\n/.exec(out)?.[1];
      const port81 = /Forwarding from 127\.0\.0\.1:(\d+) -> 81\n/.exec(out)?.[1];
      for (const path of ["/", "/again"]) {
        const res = await fetch(`http://127.0.0.1:${port80}${path}`);
        assert.equal(res.status, 200);
        assert.equal(await res.text(), `hello from prod/${pod} port 80\n`);
      }
      await fetch(`http://127.0.0.1:${port81}/`).then(
        (r) => r.text(),
        () => "",
      );
      await eventuallyMatches(
        () => err,
        /an error occurred forwarding \d+ -> 81: error forwarding port 81 .*connection refused/,
      );
    } finally {
      child.kill();
      await closed(child);
    }
  });
});

describe("@kubernetes/client-node", () => {
  const kubeConfig = () => {
    const kc = new KubeConfig();
    kc.loadFromFile(sim.kubeconfigPath);
    return kc;
  };

  it("Exec runs a command, returns its output and a Success status, then a NonZeroExitCode one", async () => {
    const exec = new Exec(kubeConfig());
    const run = (command: string[]) =>
      new Promise<{ out: string; status: { status?: string; reason?: string } }>((resolve, reject) => {
        const stdout = new PassThrough();
        let out = "";
        stdout.on("data", (d: Buffer) => {
          out += d.toString();
        });
        exec
          .exec("prod", pod, "web", command, stdout, null, null, false, (status) =>
            setImmediate(() => resolve({ out, status })),
          )
          .catch(reject);
      });
    const ok = await run(["sh", "-c", "echo from-client-node $DB_USER"]);
    assert.equal(ok.out, "from-client-node app\n");
    assert.equal(ok.status.status, "Success");
    const failed = await run(["sh", "-c", "exit 5"]);
    assert.equal(failed.status.reason, "NonZeroExitCode");
  });

  it("PortForward (the channel protocol) reaches the pod's responder", async () => {
    const output = new PassThrough();
    const errors = new PassThrough();
    const input = new PassThrough();
    let text = "";
    output.on("data", (d: Buffer) => {
      text += d.toString();
    });
    const socket = await new PortForward(kubeConfig()).portForward("prod", pod, [80], output, errors, input);
    input.write("GET / HTTP/1.1\r\nHost: pod\r\nConnection: close\r\n\r\n");
    await eventuallyMatches(() => text, /\r\n\r\nhello from prod\/\S+ port 80\n$/);
    assert.match(text, /^HTTP\/1\.1 200 OK\r\n/);
    (socket as { close?: () => void }).close?.();
  });
});

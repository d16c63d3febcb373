// Simulated pods cannot be escaped (issue 12 §7): every exec'd command runs in bubblewrap as an unprivileged user,
// with the pod folder as its only writable root and nothing else of the host in sight. And where no sandbox works,
// the simulator refuses exec unless told --unsafe-exec. Real kubectl against real simulators.
import assert from "node:assert/strict";
import { once } from "node:events";
import { statSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { type AddressInfo, createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { kubectl, runningPod } from "../helpers/kubectl.ts";
import { type Simulator, startTestSimulator } from "../helpers/sim.ts";

describe("a sandboxed pod", () => {
  let sim: Simulator;
  let pod: string;
  let outside: string;
  const exec = (script: string) =>
    kubectl(sim.kubeconfigPath, ["exec", "-n", "prod", pod, "--", "sh", "-c", script], { timeoutMs: 20_000 });

  before(async () => {
    sim = await startTestSimulator({ seed: "demo" });
    assert.equal(sim.isolation.kind, "bwrap", "bubblewrap is installed on test machines (.ci/run)");
    pod = await runningPod(sim.kubeconfigPath);
    // Stand-ins for the demo folder's secrets: a gateway admin token and a human's token next to the simulator.
    outside = await mkdtemp(join(tmpdir(), "airlock-demo-secrets-"));
    await writeFile(join(outside, "admin.token"), "airlock-admin-secret\n");
    await writeFile(join(outside, "alice.env"), "AIRLOCK_TOKEN=alice-secret\n");
  });
  after(async () => {
    await sim.close();
    await rm(outside, { recursive: true, force: true });
  });

  it("runs as an unprivileged user, not root", async () => {
    const r = await exec("id -u; id -g");
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "65534\n65534\n");
  });

  it("cannot read the gateway's admin token, a human's token or the simulator's own admin token", async () => {
    const simToken = join(dirname(sim.kubeconfigPath), "admin-token");
    for (const path of [
      join(outside, "admin.token"),
      join(outside, "alice.env"),
      simToken,
      sim.kubeconfigPath,
    ]) {
      const r = await exec(`cat '${path}'`);
      assert.notEqual(r.code, 0, path);
      assert.match(r.stderr, /No such file or directory/, path);
      assert.doesNotMatch(r.stdout, /secret|token/i, path);
    }
  });

  it("does not see the host's /work, /root, /home, or the simulator's folder", async () => {
    const r = await exec(
      `for d in /work /root /home '${dirname(sim.kubeconfigPath)}'; do test -e "$d" && echo "visible: $d"; done; ls /`,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stdout, /visible:/);
    assert.doesNotMatch(r.stdout, /^(work|root|home)$/m);
  });

  it("replacing /dev/null inside the pod leaves the host's /dev/null alone", async () => {
    const before = statSync("/dev/null");
    const r = await exec("echo pwned > /tmp/x; mv /tmp/x /dev/null; rm -f /dev/null; echo done");
    assert.match(r.stdout, /done/);
    const now = statSync("/dev/null");
    assert.ok(now.isCharacterDevice(), "the host's /dev/null is still a character device");
    assert.equal(now.rdev, before.rdev);
  });

  it("cannot write the host's system directories or reach the host's network", async () => {
    // A listener on the host's loopback, which any process outside the sandbox can connect to.
    let reached = 0;
    const server = createServer((socket) => {
      reached++;
      socket.destroy();
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const { port } = server.address() as AddressInfo;
    try {
      const r = await exec(
        `touch /usr/bin/airlock-was-here 2>&1; echo; python3 -c "import socket; socket.create_connection(('127.0.0.1', ${port}), 2); print('connected')" 2>&1 | tail -1`,
      );
      assert.match(r.stdout, /Read-only file system|Permission denied/);
      assert.match(r.stdout, /ConnectionRefusedError|Network is unreachable/, r.stdout);
      assert.doesNotMatch(r.stdout, /connected/);
      assert.equal(reached, 0, "no connection reached the host's listener");
    } finally {
      server.close();
    }
    assert.throws(() => statSync("/usr/bin/airlock-was-here"));
  });

  it("keeps what it writes in its own folder, seen by the next exec at the same path", async () => {
    const w = await exec("mkdir -p /data && echo kept > /data/f && cat /data/f");
    assert.equal(w.stdout, "kept\n", w.stderr);
    const r = await exec("cat /data/f");
    assert.equal(r.stdout, "kept\n");
  });
});

describe("no sandbox available", () => {
  let refused: Simulator;
  let unsafe: Simulator;
  const lines: string[] = [];

  before(async () => {
    refused = await startTestSimulator({
      seed: "demo",
      bwrap: "/nonexistent/bwrap",
      log: (l) => lines.push(l),
    });
    unsafe = await startTestSimulator({
      seed: "demo",
      bwrap: "/nonexistent/bwrap",
      unsafeExec: true,
      log: (l) => lines.push(l),
    });
  });
  after(async () => {
    await refused.close();
    await unsafe.close();
  });

  it("the simulator says so loudly and refuses exec, naming the cause and the flag", async () => {
    assert.equal(refused.isolation.kind, "refuse");
    assert.ok(
      lines.some((l) =>
        /^WARNING: no exec sandbox \(bubblewrap \(bwrap\) was not found at \/nonexistent\/bwrap\): exec is refused/.test(
          l,
        ),
      ),
      lines.join("\n"),
    );
    const pod = await runningPod(refused.kubeconfigPath);
    const r = await kubectl(refused.kubeconfigPath, ["exec", "-n", "prod", pod, "--", "id", "-u"]);
    assert.notEqual(r.code, 0);
    assert.match(
      r.stderr,
      /only inside a sandbox, and none is available \(bubblewrap \(bwrap\) was not found/,
    );
    assert.match(r.stderr, /apt-get install bubblewrap\) or start the simulator with --unsafe-exec/);
    assert.equal(r.stdout, "");
  });

  it("with --unsafe-exec it runs commands unsandboxed, and says that too", async () => {
    assert.equal(unsafe.isolation.kind, "unsafe");
    assert.ok(lines.some((l) => /--unsafe-exec runs exec'd commands as UNSANDBOXED host processes/.test(l)));
    const pod = await runningPod(unsafe.kubeconfigPath);
    const r = await kubectl(unsafe.kubeconfigPath, [
      "exec",
      "-n",
      "prod",
      pod,
      "--",
      "sh",
      "-c",
      "echo $HOME",
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /\/prod\/web-[^/]+\/web\n$/, "unsandboxed, HOME is the pod folder on the host");
  });
});

import assert from "node:assert/strict";
import { once } from "node:events";
import { readdirSync, readFileSync } from "node:fs";
import { after, before, test } from "node:test";
import { sessionCount } from "@airlock/sim/streams/sessions.ts";
import { eventually } from "../helpers/eventually.ts";
import { kubectl, spawnKubectl } from "../helpers/kubectl.ts";
import { type Simulator, startTestSimulator } from "../helpers/sim.ts";

// Exec processes live no longer than their pod, and no longer than the simulator.
let sim: Simulator;
const k = (args: string[]) => kubectl(sim.kubeconfigPath, args);
const streams = () => ({ store: sim.store, types: sim.registry, sandboxRoot: "", isolation: sim.isolation });

before(async () => {
  sim = await startTestSimulator();
});
after(async () => {
  await sim.close();
});

/** The pids of live processes whose command line is exactly `argv`. */
function pidsOf(argv: string[]): number[] {
  const want = `${argv.join("\0")}\0`;
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, "latin1") === want) pids.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return pids;
}

async function runningPod(name: string): Promise<void> {
  const made = await k(["run", name, "--image=busybox", "--restart=Never"]);
  assert.equal(made.code, 0, made.stderr);
  const ready = await k(["wait", `pod/${name}`, "--for=condition=Ready", "--timeout=20s"]);
  assert.equal(ready.code, 0, ready.stderr);
}

/** Starts `kubectl exec <pod> -- sh -c 'echo started; exec sleep <secs>'` and waits until the sleep runs. */
async function startSleep(pod: string, secs: string) {
  const child = spawnKubectl(sim.kubeconfigPath, [
    "exec",
    pod,
    "--",
    "sh",
    "-c",
    `echo started; exec sleep ${secs}`,
  ]);
  let stdout = "";
  let stderr = "";
  child.stdout?.setEncoding("utf8").on("data", (d: string) => {
    stdout += d;
  });
  child.stderr?.setEncoding("utf8").on("data", (d: string) => {
    stderr += d;
  });
  const exited = once(child, "close").then(([code]) => code as number | null);
  await eventually(
    `the exec to print "started" and run sleep ${secs}`,
    () => stdout.includes("started") && pidsOf(["sleep", secs]).length === 1,
  );
  return { child, exited, out: () => ({ stdout, stderr }) };
}

test("deleting a pod kills its exec process and the client gets the exit Status", async () => {
  await runningPod("exec-del");
  const session = await startSleep("exec-del", "37.25");
  assert.equal(sessionCount(streams()), 1);
  const deleted = await k(["delete", "pod", "exec-del", "--wait=false"]);
  assert.equal(deleted.code, 0, deleted.stderr);
  const code = await session.exited;
  assert.equal(code, 137);
  assert.match(session.out().stderr, /command terminated with exit code 137/);
  await eventually("the sleep to be killed", () => pidsOf(["sleep", "37.25"]), {
    until: (p) => p.length === 0,
  });
  await eventually("no exec session left", () => sessionCount(streams()), { until: (n) => n === 0 });
});

test("an exec session on another pod survives the deletion of an unrelated pod", async () => {
  await runningPod("exec-keep");
  await runningPod("exec-other");
  const session = await startSleep("exec-keep", "37.5");
  assert.equal((await k(["delete", "pod", "exec-other"])).code, 0);
  // A wait is what this checks: the other pod's deletion, given time to act, leaves this session running.
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(pidsOf(["sleep", "37.5"]).length, 1);
  session.child.kill();
  await session.exited;
  await eventually("the sleep to end", () => pidsOf(["sleep", "37.5"]), { until: (p) => p.length === 0 });
});

// Runs last: it closes the file's simulator (after() closing it again is a no-op).
test("closing the simulator kills every exec process it started", async () => {
  await runningPod("exec-close");
  const a = await startSleep("exec-close", "37.75");
  const b = await startSleep("exec-close", "37.875");
  assert.equal(sessionCount(streams()), 2);
  await sim.close();
  await eventually(
    "both sleeps to be killed",
    () => [...pidsOf(["sleep", "37.75"]), ...pidsOf(["sleep", "37.875"])],
    { until: (p) => p.length === 0 },
  );
  a.child.kill();
  b.child.kill();
  await Promise.all([a.exited, b.exited]);
});

// Idle CPU of `airlock demo` (simulator and gateway in one process, the demo's layout: a policy folder, the data
// directory beside it, no managed policy folder): how much CPU the process uses while nobody talks to it, and how
// many policy reloads and audit rows it produces. Issue 16: the demo used to reload ~10 times a second when idle.
//
//   node bench/idle.ts [--seconds 20]
//
// Prints one JSON line: cpuMsPerSecond (user+system CPU per wall second, from /proc), reloads and audit rows seen.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";

const { values } = parseArgs({ options: { seconds: { type: "string", default: "20" } } });
const seconds = Number(values.seconds);
const root = new URL("../", import.meta.url).pathname;
const dir = await mkdtemp(join(tmpdir(), "airlock-idle-bench-"));
const demoDir = join(dir, "demo");

const child = spawn(
  process.execPath,
  ["bin/airlock.ts", "demo", "--dir", demoDir, "--port", "0", "--sim-port", "0"],
  {
    cwd: root,
    stdio: ["ignore", "pipe", "inherit"],
  },
);
let out = "";
await new Promise<void>((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error("the demo did not start within 60 s")), 60_000);
  child.stdout.on("data", (d: Buffer) => {
    out += d;
    if (out.includes("airlock demo ready")) {
      clearTimeout(timer);
      resolve();
    }
  });
  child.on("exit", (code) => reject(new Error(`the demo exited with ${code}`)));
});
child.stdout.resume();

/** utime + stime of the child in ms (clock ticks are 100 Hz on Linux). */
function cpuMs(): number {
  const fields = readFileSync(`/proc/${child.pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return (Number(fields[11]) + Number(fields[12])) * 10;
}
const reloads = async () =>
  (await readFile(join(demoDir, "gateway.log"), "utf8"))
    .split("\n")
    .filter((l) => l.includes("policies reloaded")).length;

await new Promise((r) => setTimeout(r, 2000)); // start-up work settles
const cpu0 = cpuMs();
const reloads0 = await reloads();
const t0 = performance.now();
await new Promise((r) => setTimeout(r, seconds * 1000));
const wall = (performance.now() - t0) / 1000;
const result = {
  bench: "idle-demo",
  seconds: Math.round(wall * 10) / 10,
  cpuMsPerSecond: Math.round(((cpuMs() - cpu0) / wall) * 100) / 100,
  reloads: (await reloads()) - reloads0,
};
child.kill("SIGTERM");
await new Promise((r) => child.once("exit", r));
await rm(dir, { recursive: true, force: true });
process.stdout.write(`${JSON.stringify(result)}\n`);

// Bench-only: CPU time and peak memory of other processes, read from /proc (Linux). CPU time is what a request costs
// whatever else runs on the machine (waiting for a core is not counted), so it is the figure to compare on a shared
// machine. A process's CPU includes its descendants that are still running (kubectl is a dispatcher that may run the
// real binary as a child; a gateway with worker processes forks them), summed over the tree.
import { readdirSync, readFileSync, writeFileSync } from "node:fs";

/** Clock ticks per second of /proc/<pid>/stat's utime and stime (USER_HZ; 100 on every Linux ABI Node supports). */
const TICKS = 100;

interface Stat {
  ppid: number;
  ticks: number;
}

function stat(pid: number): Stat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined; // gone, or not Linux
  }
  // The command name (field 2) is in parentheses and may hold spaces: count fields after the last ')'.
  const f = text.slice(text.lastIndexOf(")") + 2).split(" ");
  // After the name: state(3) ppid(4) … utime(14) stime(15), so index = field − 3.
  return { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) };
}

/** The pids of `root` and every descendant still alive. */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  let entries: string[] = [];
  try {
    entries = readdirSync("/proc").filter((e) => /^\d+$/.test(e));
  } catch {
    return [root];
  }
  for (const e of entries) {
    const s = stat(Number(e));
    if (s) children.set(s.ppid, [...(children.get(s.ppid) ?? []), Number(e)]);
  }
  const out: number[] = [];
  const walk = (pid: number) => {
    out.push(pid);
    for (const c of children.get(pid) ?? []) walk(c);
  };
  walk(root);
  return out;
}

/** CPU-seconds (user + system) used so far by `pid` and its living descendants; NaN when /proc cannot be read. */
export function cpuSeconds(pid: number): number {
  let ticks = 0;
  let found = false;
  for (const p of processTree(pid)) {
    const s = stat(p);
    if (s) {
      ticks += s.ticks;
      found = true;
    }
  }
  return found ? ticks / TICKS : Number.NaN;
}

/** CPU-seconds used by each named process between start() and stop(). */
export function cpuMeter(pids: Record<string, number | undefined>) {
  const at = () =>
    Object.fromEntries(
      Object.entries(pids).map(([name, pid]) => [name, pid ? cpuSeconds(pid) : Number.NaN]),
    ) as Record<string, number>;
  let before: Record<string, number> = {};
  return {
    start: () => {
      before = at();
    },
    stop: (): Record<string, number> => {
      const after = at();
      return Object.fromEntries(
        Object.entries(after).map(([name, s]) => [name, s - (before[name] ?? Number.NaN)]),
      );
    },
  };
}

/** Resets the kernel's peak-RSS mark (VmHWM) of `pid` to its current RSS; false when not allowed. */
export function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, "5");
    return true;
  } catch {
    return false;
  }
}

/** Current and peak RSS of `pid` in bytes, from /proc/<pid>/status. */
export function rss(pid: number): { now: number; peak: number } {
  const text = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (key: string) =>
    Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(text)?.[1] ?? Number.NaN) * 1024;
  return { now: kb("VmRSS"), peak: kb("VmHWM") };
}

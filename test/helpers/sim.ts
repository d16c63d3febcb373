// Starts a simulator for one test file: a fresh temp directory, port 0, loopback. Call close() in after().
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Simulator, startSimulator } from "@airlock/sim";

export type { Simulator };

export async function startTestSimulator(
  opts: {
    seed?: "demo" | "empty";
    bookmarkIntervalMs?: number;
    /** Exec sandbox knobs (packages/sim/src/streams/isolation.ts): a bwrap path (a missing one = no sandbox), --unsafe-exec. */
    bwrap?: string;
    unsafeExec?: boolean;
    log?: (line: string) => void;
  } = {},
): Promise<Simulator> {
  const dir = await mkdtemp(join(tmpdir(), "airlock-sim-test-"));
  const sim = await startSimulator({
    dir,
    seed: opts.seed ?? "empty",
    ...(opts.bookmarkIntervalMs ? { bookmarkIntervalMs: opts.bookmarkIntervalMs } : {}),
    ...(opts.bwrap ? { bwrap: opts.bwrap } : {}),
    ...(opts.unsafeExec ? { unsafeExec: true } : {}),
    ...(opts.log ? { log: opts.log } : {}),
  });
  const close = sim.close.bind(sim);
  return {
    ...sim,
    async close() {
      await close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

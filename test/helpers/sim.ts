// Starts a simulator for one test file: a fresh temp directory, port 0, loopback. Call close() in after().
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Simulator, startSimulator } from "../../src/sim/index.ts";

export type { Simulator };

export async function startTestSimulator(
  opts: { seed?: "demo" | "empty"; bookmarkIntervalMs?: number } = {},
): Promise<Simulator> {
  const dir = await mkdtemp(join(tmpdir(), "airlock-sim-test-"));
  const sim = await startSimulator({
    dir,
    seed: opts.seed ?? "empty",
    ...(opts.bookmarkIntervalMs ? { bookmarkIntervalMs: opts.bookmarkIntervalMs } : {}),
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

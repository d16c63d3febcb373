// Rate-limit admission cost: this process's sliding log (SQLite deployments) against the counters replicas share in
// PostgreSQL (src/policy/shared-limiter.ts), for one hot key (one agent, one rule) and for many keys.
//
//   npx node bench/shared-limiter.ts [--requests 2000] [--concurrency 16]
//
// Uses AIRLOCK_TEST_PG_URL or a throwaway PostgreSQL cluster (test/helpers/postgres.ts). Prints admits per second.
import { parseArgs } from "node:util";
import { type Limit, RateLimiter } from "../src/policy/ratelimit.ts";
import { SharedRateLimiter } from "../src/policy/shared-limiter.ts";
import { openStore } from "../src/store/index.ts";
import { startTestPostgres } from "../test/helpers/postgres.ts";

const { values } = parseArgs({
  options: { requests: { type: "string", default: "2000" }, concurrency: { type: "string", default: "16" } },
});
const requests = Number(values.requests);
const concurrency = Number(values.concurrency);

const limit = (key: string): Limit => ({ key, requests: 1_000_000, perMs: 60_000 });

async function run(
  name: string,
  admit: (limits: Limit[], now: number) => unknown,
  keys: number,
  workers: number,
): Promise<void> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (next < requests) {
        const i = next++;
        await admit([limit(`agent-${i % keys}\u0000p\u0000r`)], Date.now());
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  console.log(
    `${name.padEnd(44)} ${String(Math.round(requests / seconds)).padStart(8)} admits/s  (${requests} in ${seconds.toFixed(2)} s)`,
  );
}

const local = new RateLimiter();
await run("in-process, 1 key, sequential", (l, now) => local.admit(l, now), 1, 1);
const pg = await startTestPostgres();
try {
  const store = await openStore({ kind: "postgres", url: pg.url, schema: "bench_limiter" });
  const other = await openStore({ kind: "postgres", url: pg.url, schema: "bench_limiter" });
  const shared = new SharedRateLimiter(store);
  const second = new SharedRateLimiter(other);
  await run("shared, 1 key, sequential", (l, now) => shared.admit(l, now), 1, 1);
  await run(`shared, 1 key, ${concurrency} concurrent`, (l, now) => shared.admit(l, now), 1, concurrency);
  await run(
    `shared, 100 keys, ${concurrency} concurrent`,
    (l, now) => shared.admit(l, now),
    100,
    concurrency,
  );
  let flip = 0;
  await run(
    `shared, 1 key, 2 replicas, ${concurrency} concurrent`,
    (l, now) => (flip++ % 2 ? shared : second).admit(l, now),
    1,
    concurrency,
  );
  await store.close();
  await other.close();
} finally {
  await pg.stop();
}

// Bench-only load client: Node's http/https with a keep-alive agent, one code path for every target so the client's
// own cost is the same whichever server is measured. Every loop is bounded in count and in time; every response
// body is read to its end (a benchmark that stops at the headers measures nothing).
import http from "node:http";
import http2 from "node:http2";
import https from "node:https";

export interface Target {
  name: string;
  /** Base URL, http: or https:. */
  url: string;
  ca?: string;
  token?: string;
}

export interface Client {
  target: Target;
  get(path: string): Promise<{ status: number; bytes: number }>;
  /** A streaming GET: resolves with the response; the caller reads and ends it. */
  stream(path: string): { request: http.ClientRequest; response: Promise<http.IncomingMessage> };
  close(): void;
}

export function createClient(target: Target, maxSockets: number): Client {
  const base = new URL(target.url);
  const secure = base.protocol === "https:";
  const agent = secure
    ? new https.Agent({
        keepAlive: true,
        maxSockets,
        maxFreeSockets: maxSockets,
        ...(target.ca ? { ca: target.ca } : {}),
      })
    : new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
  const headers: Record<string, string> = { accept: "application/json", "user-agent": "airlock-bench" };
  if (target.token) headers.authorization = `Bearer ${target.token}`;
  const open = (path: string) =>
    (secure ? https : http).request({
      hostname: base.hostname,
      port: base.port,
      path,
      method: "GET",
      headers,
      agent,
    });
  return {
    target,
    get(path) {
      return new Promise((resolve, reject) => {
        const req = open(path);
        req.setTimeout(30_000, () => req.destroy(new Error(`${target.name} GET ${path}: timed out`)));
        req.on("error", reject);
        req.on("response", (res) => {
          let bytes = 0;
          res.on("data", (chunk: Buffer) => {
            bytes += chunk.length;
          });
          res.on("end", () => resolve({ status: res.statusCode ?? 0, bytes }));
          res.on("error", reject);
        });
        req.end();
      });
    },
    stream(path) {
      const request = open(path);
      const response = new Promise<http.IncomingMessage>((resolve, reject) => {
        request.on("response", resolve);
        request.on("error", reject);
      });
      request.end();
      return { request, response };
    },
    close: () => agent.destroy(),
  };
}

async function expectOk(client: Client, path: string): Promise<number> {
  const { status, bytes } = await client.get(path);
  if (status !== 200) throw new Error(`${client.target.name} GET ${path}: HTTP ${status}`);
  return bytes;
}

/** Sequential GETs (concurrency 1): per-request latency in ms, after `warmup` requests. */
export async function measureLatency(
  client: Client,
  path: string,
  opts: { warmup: number; count: number; maxMs: number },
): Promise<number[]> {
  for (let i = 0; i < opts.warmup; i++) await expectOk(client, path);
  const samples: number[] = [];
  const deadline = performance.now() + opts.maxMs;
  while (samples.length < opts.count && performance.now() < deadline) {
    const t0 = performance.now();
    await expectOk(client, path);
    samples.push(performance.now() - t0);
  }
  return samples;
}

/** `concurrency` workers GET in a closed loop for `durationMs` (after a warm-up); requests/s and latencies. */
export async function measureThroughput(
  client: Client,
  path: string,
  opts: {
    concurrency: number;
    warmupMs: number;
    durationMs: number;
    maxRequests: number;
    /** Called right before and right after the measured run (not the warm-up): CPU meters go here. */
    around?: { start(): void; stop(): void };
  },
): Promise<{ perSecond: number; samples: number[]; failures: number }> {
  const run = async (ms: number, record: boolean) => {
    const samples: number[] = [];
    let failures = 0;
    let issued = 0;
    const start = performance.now();
    const end = start + ms;
    const worker = async () => {
      while (performance.now() < end && issued < opts.maxRequests) {
        issued++;
        const t0 = performance.now();
        try {
          await expectOk(client, path);
          if (record) samples.push(performance.now() - t0);
        } catch {
          failures++;
        }
      }
    };
    await Promise.all(Array.from({ length: opts.concurrency }, worker));
    return { samples, failures, elapsed: performance.now() - start };
  };
  await run(opts.warmupMs, false);
  opts.around?.start();
  const { samples, failures, elapsed } = await run(opts.durationMs, true);
  opts.around?.stop();
  return { perSecond: (samples.length / elapsed) * 1000, samples, failures };
}

/** One large list, `reps` times after one warm-up: time to the last byte (ms) and the body size. */
export async function measureBigList(
  client: Client,
  path: string,
  reps: number,
): Promise<{ samples: number[]; bytes: number }> {
  let bytes = await expectOk(client, path);
  const samples: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    bytes = await expectOk(client, path);
    samples.push(performance.now() - t0);
  }
  return { samples, bytes };
}

/** The resourceVersion of a list, so a watch can start exactly after it and miss no event. */
export async function listResourceVersion(client: Client, path: string): Promise<string> {
  const chunks: Buffer[] = [];
  const { request, response } = client.stream(path);
  const res = await response;
  for await (const chunk of res) chunks.push(chunk as Buffer);
  request.destroy();
  const rv = (JSON.parse(Buffer.concat(chunks).toString()) as { metadata?: { resourceVersion?: string } })
    .metadata?.resourceVersion;
  if (res.statusCode !== 200 || !rv) throw new Error(`${client.target.name} GET ${path}: no resourceVersion`);
  return rv;
}

/**
 * Opens a watch and collects `expected` ADDED events, each stamped by the simulator with the wall-clock time it was
 * written (annotation bench.airlock.dev/sent). `trigger` starts the writes once the request is on its way; the watch
 * starts from `resourceVersion`, so events written before it reaches the simulator are replayed, not lost.
 * `clockOffsetMs` is the writer's clock minus ours (see bench/run.ts `clockOffset`): process clocks differ by up to a
 * millisecond, which is more than the latencies measured here.
 */
export async function measureWatch(
  client: Client,
  path: string,
  expected: number,
  trigger: () => Promise<unknown>,
  maxMs: number,
  clockOffsetMs = 0,
): Promise<{ latencies: number[]; totalMs: number }> {
  const now = () => performance.timeOrigin + performance.now();
  const { request, response } = client.stream(path);
  const latencies: number[] = [];
  let firstSent = Number.POSITIVE_INFINITY;
  let lastReceived = 0;
  const triggered = trigger();
  const timer = setTimeout(
    () => request.destroy(new Error(`watch: ${latencies.length}/${expected} events in ${maxMs} ms`)),
    maxMs,
  );
  try {
    const res = await response;
    if (res.statusCode !== 200) throw new Error(`${client.target.name} watch: HTTP ${res.statusCode}`);
    let pending = "";
    for await (const chunk of res) {
      pending += (chunk as Buffer).toString();
      let nl = pending.indexOf("\n");
      while (nl >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        nl = pending.indexOf("\n");
        const event = JSON.parse(line) as {
          type: string;
          object: { metadata?: { annotations?: Record<string, string> } };
        };
        const sent = Number(event.object.metadata?.annotations?.["bench.airlock.dev/sent"]) - clockOffsetMs;
        if (event.type === "ADDED" && sent) {
          lastReceived = now();
          latencies.push(lastReceived - sent);
          firstSent = Math.min(firstSent, sent);
        } else if (event.type === "ERROR") throw new Error(`watch ERROR event: ${line.slice(0, 300)}`);
      }
      if (latencies.length >= expected) break;
    }
    if (latencies.length < expected)
      throw new Error(`watch ended after ${latencies.length}/${expected} events`);
  } finally {
    clearTimeout(timer);
    request.destroy();
    await triggered;
  }
  // From the first write in the simulator to the last event at the client.
  return { latencies, totalMs: lastReceived - firstSent };
}

/**
 * Opens `n` watches and keeps them open: `waitForEvent` resolves once every one of them has received at least one
 * event (so all are open end to end, through every hop), `close` ends them all.
 */
export function openWatches(client: Client, path: string, n: number) {
  const streams = Array.from({ length: n }, () => client.stream(path));
  const seen = streams.map(async ({ response }) => {
    const res = await response;
    if (res.statusCode !== 200) throw new Error(`${client.target.name} watch: HTTP ${res.statusCode}`);
    await new Promise<void>((resolve, reject) => {
      res.once("data", () => {
        resolve();
        res.resume();
      });
      res.once("error", reject);
      res.once("end", () => reject(new Error("watch ended before its first event")));
    });
  });
  for (const s of seen) s.catch(() => {}); // reported through waitForEvent; closing later must not be unhandled
  return {
    waitForEvent: (maxMs: number) => {
      let timer: NodeJS.Timeout | undefined;
      return Promise.race([
        Promise.all(seen),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`not all ${n} watches saw an event within ${maxMs} ms`)),
            maxMs,
          );
        }),
      ]).finally(() => clearTimeout(timer));
    },
    close: () => {
      for (const s of streams) s.request.destroy();
    },
  };
}

/**
 * The same as openWatches, but as kubectl and client-go open them: all `n` watches as streams of one HTTP/2
 * connection to the target (so the client side costs one TLS connection, not `n`).
 */
export function openWatchesHttp2(target: Target, path: string, n: number) {
  const session = http2.connect(target.url, target.ca ? { ca: target.ca } : {});
  session.on("error", () => {}); // surfaced through the streams below
  const streams = Array.from({ length: n }, () =>
    session.request({
      ":method": "GET",
      ":path": path,
      accept: "application/json",
      "user-agent": "airlock-bench",
      ...(target.token ? { authorization: `Bearer ${target.token}` } : {}),
    }),
  );
  const seen = streams.map(
    (stream) =>
      new Promise<void>((resolve, reject) => {
        stream.once("response", (headers) => {
          if (headers[":status"] !== 200)
            reject(new Error(`${target.name} watch: HTTP ${headers[":status"]}`));
        });
        stream.once("data", () => {
          resolve();
          stream.resume();
        });
        stream.once("error", reject);
        stream.once("end", () => reject(new Error("watch ended before its first event")));
      }),
  );
  for (const s of seen) s.catch(() => {});
  return {
    waitForEvent: (maxMs: number) => {
      let timer: NodeJS.Timeout | undefined;
      return Promise.race([
        Promise.all(seen),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`not all ${n} watches saw an event within ${maxMs} ms`)),
            maxMs,
          );
        }),
      ]).finally(() => clearTimeout(timer));
    },
    close: () => {
      for (const s of streams) s.close();
      session.destroy();
    },
  };
}

// Masking throughput and memory: `npx node bench/mask.ts [--mb 50]`.
//
//   list  — a List of Secrets and ConfigMaps (default 50 MB) streamed through JsonDocumentMasker in 64 KiB chunks:
//           MB/s, and the heap growth while it runs (bounded by the largest item, not the list).
//   exec  — log-like text with a secret every few lines through the exec channel-frame masker in 4 KiB frames.
//   small — the added latency of masking one small GET response (a Secret), per request.
// Everything runs in this process, with no network, so the numbers are the masker's own cost.
import { performance } from "node:perf_hooks";
import {
  BUILTIN_PROFILES,
  ChannelFrameMasker,
  createPlaceholders,
  JsonDocumentMasker,
} from "../src/mask/index.ts";

const mbArg = process.argv.indexOf("--mb");
const TARGET_MB = mbArg > 0 ? Number(process.argv[mbArg + 1]) : 50;
const profile = BUILTIN_PROFILES.get("default")!;
const ph = createPlaceholders(Buffer.alloc(32, 3));

function item(i: number): object {
  const b64 = (s: string) => Buffer.from(s).toString("base64");
  const meta = {
    name: `obj-${i}`,
    namespace: `ns-${i % 17}`,
    uid: `0000-${i}`,
    resourceVersion: String(1000 + i),
    labels: { app: `app-${i % 50}`, tier: "backend" },
    annotations: { "example.com/owner": "team-a" },
  };
  if (i % 2 === 0) {
    return {
      kind: "Secret",
      apiVersion: "v1",
      metadata: meta,
      type: "Opaque",
      data: {
        username: b64(`user-${i}`),
        password: b64(`pw-${i}-x9f8e7d6c5b4a3`),
        "tls.key": b64("k".repeat(600)),
      },
    };
  }
  return {
    kind: "ConfigMap",
    apiVersion: "v1",
    metadata: meta,
    data: {
      LOG_LEVEL: "info",
      "app.properties": `server.port=8080\nfeature.flags=a,b,c\ncache.ttl=300\n${"x=1\n".repeat(100)}`,
      API_KEY: `key-${i}`,
    },
  };
}

function listBytes(): Buffer {
  const parts: string[] = ['{"kind":"List","apiVersion":"v1","metadata":{"resourceVersion":"1"},"items":['];
  let size = parts[0]?.length ?? 0;
  for (let i = 0; size < TARGET_MB * 1024 * 1024; i++) {
    const s = (i ? "," : "") + JSON.stringify(item(i));
    parts.push(s);
    size += s.length;
  }
  parts.push("]}");
  return Buffer.from(parts.join(""));
}

function benchList(): void {
  const bytes = listBytes();
  globalThis.gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  let peak = heapBefore;
  const masker = new JsonDocumentMasker({ profile, ph, counts: new Map() }, undefined);
  let out = 0;
  const t0 = performance.now();
  for (let i = 0; i < bytes.length; i += 65536) {
    for (const b of masker.push(bytes.subarray(i, i + 65536))) out += b.length;
    if ((i / 65536) % 64 === 0) peak = Math.max(peak, process.memoryUsage().heapUsed);
  }
  masker.end();
  const ms = performance.now() - t0;
  const mb = bytes.length / 1024 / 1024;
  // The floor on this machine: JSON.parse + JSON.stringify of the same bytes, no masking (shared CPUs vary a lot).
  const t1 = performance.now();
  JSON.stringify(JSON.parse(bytes.toString("utf8")));
  const floor = mb / ((performance.now() - t1) / 1000);
  console.log(`list   baseline JSON.parse+stringify of the whole list: ${floor.toFixed(0)} MB/s`);
  console.log(
    `list   ${mb.toFixed(1)} MB in ${ms.toFixed(0)} ms = ${(mb / (ms / 1000)).toFixed(0)} MB/s; output ${(out / 1024 / 1024).toFixed(1)} MB; ` +
      `heap growth while masking ≤ ${((peak - heapBefore) / 1024 / 1024).toFixed(1)} MB (input list held by the bench itself)`,
  );
}

function benchExec(): void {
  const line = (i: number) =>
    i % 10 === 0
      ? `2026-11-26T10:00:00Z worker ${i} connecting with password=hunter${i}-secret to db\n`
      : `2026-11-26T10:00:00Z worker ${i} processed batch of 128 records in 12ms status=ok\n`;
  const text = Buffer.from(Array.from({ length: 150_000 }, (_, i) => line(i)).join(""));
  const masker = new ChannelFrameMasker(profile, ph, new Map(), "v5.channel.k8s.io");
  const t0 = performance.now();
  let out = 0;
  for (let i = 0; i < text.length; i += 4096) {
    const frame = Buffer.concat([Buffer.from([1]), text.subarray(i, i + 4096)]);
    for (const f of masker.transform(frame, true)) out += f.data.length;
  }
  for (const f of masker.flush()) out += f.data.length;
  const ms = performance.now() - t0;
  const mb = text.length / 1024 / 1024;
  console.log(
    `exec   ${mb.toFixed(1)} MB in 4 KiB frames in ${ms.toFixed(0)} ms = ${(mb / (ms / 1000)).toFixed(0)} MB/s (${out} bytes out)`,
  );
}

function benchSmall(): void {
  const body = Buffer.from(JSON.stringify(item(0)));
  const n = 20_000;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const masker = new JsonDocumentMasker({ profile, ph, counts: new Map() }, "Secret");
    masker.push(body);
    masker.end();
  }
  const us = ((performance.now() - t0) / n) * 1000;
  console.log(`small  one Secret GET (${body.length} bytes): ${us.toFixed(1)} µs added per response`);
}

if (!process.argv.includes("--only-exec")) benchList();
if (!process.argv.includes("--only-list")) benchExec();
benchSmall();

// Recording overhead on exec throughput: `npx node bench/recording.ts [--mb 20] [--rounds 5]`.
//
// A simulator and a gateway in this process; a WebSocket client (v5.channel.k8s.io, as kubectl) runs
// `head -c N /dev/urandom | base64` in a pod through the gateway and reads stdout to the end. Rounds alternate
// between the gateway with recording (sessions + asciicast file) and the same gateway with the recording service
// detached, so load drift hits both alike; the median MB/s of each is reported with the overhead.
import { readFile } from "node:fs/promises";
import WebSocket from "ws";
import type { RecordingService } from "../src/recording/index.ts";
import { startTestGateway } from "../test/helpers/gateway.ts";
import { kubectl } from "../test/helpers/kubectl.ts";

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const MB = arg("--mb", 20);
const ROUNDS = arg("--rounds", 5);

const t = await startTestGateway({ policy: "allow-authenticated", seed: "demo" });
try {
  const { token, kubeconfig } = await t.addIdentity("bench-agent", "agent", []);
  let pod = "";
  for (let i = 0; i < 50 && !pod; i++) {
    const r = await kubectl(kubeconfig, ["get", "pods", "-n", "prod", "-l", "app=web", "-o", "name"]);
    pod = r.stdout.trim().split("\n")[0]?.replace("pod/", "") ?? "";
    if (!pod) await new Promise((r) => setTimeout(r, 100));
  }
  const bytes = Math.round(MB * 1024 * 1024 * 0.75); // base64 makes it MB of text
  const query = new URLSearchParams();
  for (const c of ["sh", "-c", `head -c ${bytes} /dev/urandom | base64`]) query.append("command", c);
  query.set("stdout", "true");
  query.set("stderr", "true");
  const url = `${t.gateway.url.replace("https", "wss")}/api/v1/namespaces/prod/pods/${pod}/exec?${query}`;

  const once = () =>
    new Promise<{ ms: number; out: number }>((resolve, reject) => {
      const started = performance.now();
      let out = 0;
      const ws = new WebSocket(url, ["v5.channel.k8s.io"], {
        headers: { authorization: `Bearer ${token}` },
        ca: t.gateway.caPem,
        perMessageDeflate: false,
      });
      ws.on("message", (data: Buffer) => {
        if (data[0] === 1) out += data.length - 1;
      });
      ws.on("close", () => resolve({ ms: performance.now() - started, out }));
      ws.on("error", reject);
    });

  const svc = t.gateway.runtime.recordings as RecordingService;
  const results: Record<"recorded" | "unrecorded", number[]> = { recorded: [], unrecorded: [] };
  await once(); // warm-up: TLS, discovery caches, JIT
  for (let round = 0; round < ROUNDS; round++) {
    for (const mode of round % 2 === 0
      ? (["unrecorded", "recorded"] as const)
      : (["recorded", "unrecorded"] as const)) {
      if (mode === "recorded") t.gateway.runtime.recordings = svc;
      else delete t.gateway.runtime.recordings;
      const { ms, out } = await once();
      results[mode].push(out / 1024 / 1024 / (ms / 1000));
    }
  }
  t.gateway.runtime.recordings = svc;
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
  const rec = median(results.recorded);
  const plain = median(results.unrecorded);
  const sessions = await t.gateway.store.sessions.list({ identityName: "bench-agent" });
  let fileBytes = 0;
  for (const s of sessions)
    for (const r of await t.gateway.store.recordings.list(s.id))
      fileBytes = Math.max(fileBytes, (await readFile(`${svc.dir}/${r.file}`)).length);
  process.stdout.write(
    `exec stdout ${MB} MB through the gateway, ${ROUNDS} rounds each, median:\n` +
      `  without recording  ${plain.toFixed(1)} MB/s\n` +
      `  with recording     ${rec.toFixed(1)} MB/s   (largest .cast file ${(fileBytes / 1024 / 1024).toFixed(1)} MB)\n` +
      `  overhead           ${(((plain - rec) / plain) * 100).toFixed(1)}%  (target < 10%)\n`,
  );
} finally {
  await t.close();
}

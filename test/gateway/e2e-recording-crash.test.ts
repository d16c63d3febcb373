// A gateway killed with SIGKILL in the middle of an interactive exec leaves a recording that plays: everything up to
// the last flush (at most a second before the kill) is in the file, each line complete, and after a restart the
// session and its recording are served and replayed like any other. The gateway runs as a child process
// (`airlock serve`), so the kill is real.
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { type Simulator, startSimulator } from "@airlock/sim";
import { checkAsciicast, parseAsciicast } from "../../src/recording/index.ts";
import { serveAirlock } from "../helpers/cli.ts";
import { runningPod } from "../helpers/kubectl.ts";
import { airlock, kubectlOnTerminal, waitFor } from "./e2e-recording-support.ts";

let dir: string;
let sim: Simulator;
const children: ChildProcess[] = [];

async function serve(): Promise<{ child: ChildProcess; url: string }> {
  const { child, url } = await serveAirlock(join(dir, "airlock.yaml"));
  children.push(child);
  return { child, url };
}

function post(url: string, token: string, ca: string, body: unknown): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        ca,
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8").on("data", (d: string) => {
          text += d;
        });
        res.on("end", () => resolve(JSON.parse(text)));
      },
    );
    req.on("error", reject);
    req.end(JSON.stringify(body));
  });
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "airlock-rec-crash-"));
  sim = await startSimulator({ dir: join(dir, "sim"), port: 0, seed: "demo" });
  await writeFile(
    join(dir, "airlock.yaml"),
    [
      "listen: { address: 127.0.0.1, port: 0 }",
      `dataDir: ${join(dir, "data")}`,
      `clusters: [{ name: sim, kubeconfig: { path: ${sim.kubeconfigPath} } }]`,
      "policy: { builtin: allow-authenticated }",
      "recording: { required: true }",
      "log: { level: error }",
      "",
    ].join("\n"),
  );
});

after(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  await sim?.close();
  await rm(dir, { recursive: true, force: true });
});

test("a gateway killed with SIGKILL mid-exec leaves a playable recording of everything up to the last second", async () => {
  const first = await serve();
  const caFile = join(dir, "data", "tls", "ca.crt");
  const ca = await readFile(caFile, "utf8");
  const adminToken = (await readFile(join(dir, "data", "admin.token"), "utf8").catch(() => "")).trim();
  assert.ok(adminToken, "the admin token file");
  const created = (await post(`${first.url}/airlock/v1/identities`, adminToken, ca, {
    name: "crash-agent",
    kind: "agent",
    groups: [],
  })) as { kubeconfig: string };
  const kubeconfig = join(dir, "agent.kubeconfig");
  await writeFile(kubeconfig, created.kubeconfig.replace("namespace: default", "namespace: prod"), {
    mode: 0o600,
  });

  const pod = await runningPod(sim.kubeconfigPath);

  const term = kubectlOnTerminal(kubeconfig, ["exec", "-it", "-n", "prod", pod, "--", "sh"]);
  await waitFor(term.output, /[$#] $/);
  term.child.stdin?.write("echo before-kill-$((6*7))\r");
  await waitFor(term.output, /\r\nbefore-kill-42\r\n/);
  // More than a second: the file must have everything so far.
  await new Promise((r) => setTimeout(r, 1500));
  first.child.kill("SIGKILL");
  await new Promise((r) => first.child.once("close", r));
  term.child.kill();
  await term.closed;

  const recordings = join(dir, "data", "recordings");
  const [sessionDir] = await readdir(recordings);
  assert.ok(sessionDir);
  const [file] = (await readdir(join(recordings, sessionDir))).filter((f) => f.endsWith(".cast"));
  assert.ok(file);
  const text = await readFile(join(recordings, sessionDir, file), "utf8");
  const { header, events, torn } = parseAsciicast(text);
  assert.equal(torn, false, "every flushed line is complete");
  assert.deepEqual(checkAsciicast(text), [], "the file as left by the crash is valid asciicast v2");
  assert.equal(header?.width, 91);
  const output = events
    .filter(([, k]) => k === "o")
    .map(([, , d]) => d)
    .join("");
  const input = events
    .filter(([, k]) => k === "i")
    .map(([, , d]) => d)
    .join("");
  assert.match(output, /\r\nbefore-kill-42\r\n/);
  assert.match(input, /echo before-kill-\$\(\(6\*7\)\)\r/);

  // Played offline, straight from the file …
  const offline = await airlock(
    ["session", "play", "--file", join(recordings, sessionDir, file), "--speed", "100"],
    {},
  );
  assert.equal(offline.code, 0, offline.stderr);
  assert.match(offline.stdout, /before-kill-42/);

  // … and through a restarted gateway, which still knows the session and its (cut short) recording.
  const second = await serve();
  const env = { AIRLOCK_SERVER: second.url, AIRLOCK_TOKEN: adminToken, AIRLOCK_CA: caFile };
  const played = await airlock(["session", "play", sessionDir, "--speed", "100"], env);
  assert.equal(played.code, 0, played.stderr);
  assert.match(played.stdout, /before-kill-42/);
  const shown = await airlock(["session", "show", sessionDir], env);
  assert.match(shown.stdout, /exec\s+asciicast\s+\d+\s+-\s+open or cut short/);
  second.child.kill("SIGTERM");
  await new Promise((r) => second.child.once("close", r));
});

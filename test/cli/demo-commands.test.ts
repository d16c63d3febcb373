// Every command the README's quick start and `airlock demo` print is run here — parsed from README.md and from the
// demo's own list (demoTryLines), not copied — with the real kubectl as demo-agent under the demo policy, and the
// airlock CLI as alice and as the admin. Each must succeed or fail exactly as its comment says.
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { DEMO_DB_PASSWORD } from "@airlock/sim/seed.ts";
import { demoAgentKubeconfig, demoTryLines } from "../../src/cli/demo.ts";
import { waitFor } from "../gateway/e2e-support.ts";
import { type CliRun, runAirlock } from "../helpers/cli.ts";
import { eventually } from "../helpers/eventually.ts";
import { startTestGateway, type TestGateway } from "../helpers/gateway.ts";
import { kubectl, spawnKubectl } from "../helpers/kubectl.ts";

const DEMO = fileURLToPath(new URL("../../examples/policies/demo.yaml", import.meta.url));
const README = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
/** Comments that say the command is refused (kubectl exits non-zero). */
const FAILS = /refused|denied|never|cannot|a CEL rule|^no:|gets 401/i;

let gw: TestGateway;
let agent: string;
let tokens: { alice: string; admin: string };
let caFile: string;
const children: ChildProcess[] = [];

before(async () => {
  gw = await startTestGateway({ policyFiles: [DEMO] });
  const demoAgent = await gw.addIdentity("demo-agent", "agent", ["agents"]);
  const alice = await gw.addIdentity("alice", "human", ["sre", "airlock:admins"]);
  tokens = { alice: alice.token, admin: (await readFile(gw.gateway.adminTokenPath, "utf8")).trim() };
  caFile = join(gw.dir, "gateway-ca.crt");
  await writeFile(caFile, gw.gateway.caPem);
  // The demo's own agent kubeconfig: kubectl runs the airlock credential exec plugin with the agent's token file.
  const tokenFile = join(gw.dir, "agent.token");
  await writeFile(tokenFile, `${demoAgent.token}\n`, { mode: 0o600 });
  agent = join(gw.dir, "agent.kubeconfig");
  await writeFile(
    agent,
    demoAgentKubeconfig({
      server: gw.gateway.url,
      caPem: gw.gateway.caPem,
      caPath: caFile,
      tokenFile,
      cacheDir: join(gw.dir, "credential-cache"),
    }),
    { mode: 0o600 },
  );
});

after(async () => {
  for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
  await gw?.close();
});

interface Line {
  words: string[];
  comment: string;
  text: string;
  /** `AIRLOCK_REASON="…" kubectl …`: the reason the command sets for the exec plugin. */
  reason?: string;
}

/** `cmd args   # comment` → words and comment; lines that are not commands (prose, blank) are dropped. */
function parse(lines: string[]): Line[] {
  const out: Line[] = [];
  for (const raw of lines) {
    let line = raw.trim();
    const reason = /^AIRLOCK_REASON="([^"]*)"\s+/.exec(line);
    if (reason) line = line.slice(reason[0].length);
    if (!/^(kubectl|KUBECONFIG=|npm run|export|source)\b/.test(line)) continue;
    const hash = line.search(/\s{2,}#\s/);
    const cmd = hash < 0 ? line : line.slice(0, hash).trim();
    const comment = hash < 0 ? "" : line.slice(line.indexOf("#", hash) + 1).trim();
    out.push({
      words: cmd.split(/\s+/),
      comment,
      text: raw.trim(),
      ...(reason ? { reason: reason[1] } : {}),
    });
  }
  return out;
}

function readmeQuickStart(): Line[] {
  const start = README.indexOf("When it prints `airlock demo ready`");
  const block = README.slice(
    README.indexOf("```sh", start) + 5,
    README.indexOf("```", README.indexOf("```sh", start) + 5),
  );
  return parse(block.split("\n"));
}

function airlockCli(token: string, args: string[]): Promise<CliRun> {
  return runAirlock(gw, caFile, token, args);
}

/** Runs one kubectl line as its comment says it behaves. */
async function runKubectl(line: Line): Promise<void> {
  let kubeconfig = agent;
  let words = line.words;
  if (words[0]?.startsWith("KUBECONFIG=")) {
    kubeconfig = gw.sim.kubeconfigPath; // the demo's cluster-admin kubeconfig: straight to the cluster
    words = words.slice(1);
  }
  const args = words.slice(1);
  if (args[0] === "port-forward") return portForward(line, args);
  const env = line.reason === undefined ? undefined : { AIRLOCK_REASON: line.reason };
  const r = await kubectl(kubeconfig, args, { timeoutMs: 20_000, ...(env ? { env } : {}) });
  const what = `${line.text}\n${r.stdout}${r.stderr}`;
  if (FAILS.test(line.comment)) {
    assert.notEqual(r.code, 0, what);
    if (args[1] === "can-i") assert.match(r.stdout, /^no\b/, what);
    else assert.match(r.stderr, /airlock|Forbidden|forbidden/, what);
    if (/justification/.test(line.comment))
      assert.match(
        r.stderr,
        /a justification is required.*AIRLOCK_REASON=/s,
        `says how to give one: ${what}`,
      );
    return;
  }
  assert.equal(r.code, 0, what);
  if (/whoami/.test(line.text)) assert.match(r.stdout, /airlock:demo-agent/, what);
  if (/masked/.test(line.comment)) {
    assert.doesNotMatch(r.stdout, new RegExp(DEMO_DB_PASSWORD), what);
    assert.doesNotMatch(r.stdout, new RegExp(Buffer.from(DEMO_DB_PASSWORD).toString("base64")), what);
  }
  // Secret data is base64: "4oC5bWFza2Vk" is the base64 of "‹masked".
  if (/‹masked/.test(line.comment)) assert.match(r.stdout, /‹masked:|4oC5bWFza2Vk/, what);
  if (/bypasses Airlock/.test(line.comment)) {
    assert.match(
      r.stdout,
      new RegExp(Buffer.from(DEMO_DB_PASSWORD).toString("base64")),
      "the bypass shows the value",
    );
  }
}

async function portForward(line: Line, args: string[]): Promise<void> {
  // The printed local port (8080, 8022) may be taken here: let kubectl pick one.
  const forwarded = args.map((a) => a.replace(/^\d+:(\d+)$/, ":$1"));
  const remote = /:(\d+)$/.exec(forwarded.at(-1) ?? "")?.[1] ?? "";
  const child = spawnKubectl(agent, forwarded);
  children.push(child);
  let out = "";
  child.stdout?.setEncoding("utf8").on("data", (d: string) => {
    out += d;
  });
  const closed = new Promise((r) => child.on("close", r));
  try {
    await waitFor(() => out, new RegExp(`Forwarding from 127\\.0\\.0\\.1:\\d+ -> ${remote}`));
    const local = new RegExp(`127\\.0\\.0\\.1:(\\d+) -> ${remote}`).exec(out)?.[1];
    const res = await fetch(`http://127.0.0.1:${local}/`).then(
      async (r) => ({ status: r.status, text: await r.text() }),
      () => undefined,
    );
    if (FAILS.test(line.comment)) {
      assert.equal(res, undefined, `${line.text}: no answer through a refused port`);
      const ended = await Promise.race([
        closed.then(() => true),
        new Promise((r) => setTimeout(() => r(false), 10_000)),
      ]);
      assert.equal(ended, true, `${line.text}: the tunnel ended`);
    } else {
      assert.equal(res?.status, 200, line.text);
      assert.match(res?.text ?? "", new RegExp(`port ${remote}`));
    }
  } finally {
    if (child.exitCode === null) child.kill();
    await closed;
  }
}

test("every command the README quick start and airlock demo print behaves as its comment says", async () => {
  const readme = readmeQuickStart();
  const demo = parse(demoTryLines((n) => `.airlock-demo/${n}`, gw.gateway.url));
  assert.ok(
    readme.length >= 8 && demo.length >= 25,
    `parsed ${readme.length} README and ${demo.length} demo lines`,
  );
  const all = [...readme, ...demo];
  const kubectlLines = all.filter((l) => l.words[0] === "kubectl" || l.words[0]?.startsWith("KUBECONFIG="));
  const cli = all.filter((l) => l.words[0] === "npm");
  for (const l of all) {
    assert.ok(
      ["kubectl", "npm", "export", "source"].includes(l.words[0] ?? "") ||
        l.words[0]?.startsWith("KUBECONFIG="),
      l.text,
    );
  }

  // kubectl lines in order, but the held delete (the review scenario) and revocation come last
  let held: Line | undefined;
  assert.ok(kubectlLines.length > 1, `kubectl lines to run: ${kubectlLines.length}`);
  for (const line of kubectlLines) {
    if (/waits/.test(line.comment)) {
      // The README's walk-through and the demo print the same held write: it runs once, below.
      if (held) assert.deepEqual([line.words, line.reason], [held.words, held.reason], line.text);
      held = line;
    } else await runKubectl(line);
  }

  // Review: the delete waits; alice lists, shows and approves it with the printed commands; the delete finishes.
  assert.ok(held, "the demo prints a command held for review");
  assert.ok(held.reason, "the held write carries a justification (AIRLOCK_REASON)");
  const child = spawnKubectl(agent, held.words.slice(1), { AIRLOCK_REASON: held.reason });
  children.push(child);
  let err = "";
  child.stderr?.setEncoding("utf8").on("data", (d: string) => {
    err += d;
  });
  const done = new Promise<number | null>((r) => child.on("close", (code) => r(code)));
  const id = await eventually("the held delete to be listed for review", async () => {
    const list = await airlockCli(tokens.alice, ["review", "list", "--json"]);
    return (JSON.parse(list.stdout || "[]") as { id: string; status?: string }[])[0]?.id || undefined;
  });
  assert.equal(child.exitCode, null, "kubectl waits");
  const shown = await airlockCli(tokens.alice, ["review", "show", id]);
  assert.match(
    shown.stdout,
    new RegExp(`Justification: client says: ${held.reason}`),
    "the reviewer sees why",
  );
  // The README's walk-through and the demo print the same review commands: each distinct one runs once.
  const reviewLines = cli
    .filter((l) => l.words.includes("review"))
    .filter((l, i, all) => all.findIndex((o) => o.words.join(" ") === l.words.join(" ")) === i);
  assert.ok(reviewLines.length > 0, "the demo prints review commands");
  for (const line of reviewLines) {
    const args = line.words.slice(line.words.indexOf("--") + 1).map((w) => (w === "<id>" ? id : w));
    const r = await airlockCli(tokens.alice, args);
    assert.equal(r.code, 0, `${line.text}\n${r.stderr}`);
  }
  assert.equal(await done, 0, `the approved delete finishes: ${err}`);

  // Audit as the admin; then revocation: the agent's next kubectl gets 401.
  const auditLines = cli.filter((l) => l.words.includes("audit"));
  assert.ok(auditLines.length > 0, "the demo prints audit commands");
  for (const line of auditLines) {
    const r = await airlockCli(tokens.admin, line.words.slice(line.words.indexOf("--") + 1));
    assert.equal(r.code, 0, `${line.text}\n${r.stderr}`);
  }
  const revoke = cli.find((l) => l.words.includes("revoke"));
  assert.ok(revoke);
  const r = await airlockCli(tokens.admin, revoke.words.slice(revoke.words.indexOf("--") + 1));
  assert.equal(r.code, 0, r.stderr);
  const after = await kubectl(agent, ["get", "pods"]);
  assert.notEqual(after.code, 0);
  assert.match(after.stderr, /Unauthorized|401|must be logged in/);
});

// End to end, recordings: the real kubectl through Airlock with a policy that attaches the `default` masking
// profile for agents. An interactive `exec -it` becomes an asciicast v2 recording whose replay shows the typed
// commands and their output, with the Secret value and a typed password masked; kubectl invocations are grouped
// into sessions by Kubectl-Session; cp is recorded as its tar stream (capped, with the cap noted) and port-forward as
// ports, connections and bytes.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { request } from "node:https";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { DEMO_DB_PASSWORD } from "@airlock/sim/seed.ts";
import type { AuditEvent } from "../../src/audit/types.ts";
import { checkAsciicast, parseAsciicast, RecordingService } from "../../src/recording/index.ts";
import type { RecordingRecord, SessionRecord } from "../../src/recording/types.ts";
import { eventually } from "../helpers/eventually.ts";
import { startTestGateway, type TestGateway } from "../helpers/gateway.ts";
import { kubectl, runningPod, spawnKubectl } from "../helpers/kubectl.ts";
import { airlock, kubectlOnTerminal, waitFor } from "./e2e-recording-support.ts";

const POLICY = `
apiVersion: airlock.dev/v1alpha1
kind: Policy
metadata: { name: agents-masked }
spec:
  subjects: [{ group: agents }]
  rules:
    - name: everything-masked
      verbs: ["*"]
      effect: allow
      mask: default
---
apiVersion: airlock.dev/v1alpha1
kind: Policy
metadata: { name: operators }
spec:
  subjects: [{ group: operators }]
  rules:
    - name: everything
      verbs: ["*"]
      effect: allow
    # port-forward is allowed only by a rule naming its ports ("*" does not cover it)
    - name: forward-web
      verbs: [portforward]
      ports: [80]
      effect: allow
`;
const MARKER = /‹masked:[0-9a-f]{8}›/;
const TYPED_SECRET = "hunter2-typed-Xq9z";

let t: TestGateway;
let agent: string;
let operator: string;
let pod: string;
let cli: Record<string, string>;

type Detail = { session: Omit<SessionRecord, "key">; events: AuditEvent[]; recordings: RecordingRecord[] };

async function session(id: string): Promise<Detail> {
  const r = await airlock(["session", "show", id, "--json"], cli);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as Detail;
}

/** A session's recordings once every one of them has ended (the gateway finishes them just after the client). */
function endedRecordings(sessionId: string, { mayHaveNone = false } = {}): Promise<RecordingRecord[]> {
  return eventually(
    `the recordings of session ${sessionId}, all ended`,
    () => t.gateway.store.recordings.list(sessionId),
    { until: (list) => (mayHaveNone || list.length > 0) && list.every((r) => r.endedAt) },
  );
}

/** The session of the newest audit event matching `match` (the store is the gateway's own). */
async function sessionOf(match: (e: AuditEvent) => boolean): Promise<string> {
  const events = await t.gateway.store.audit.list({ limit: 1000 });
  const e = events.find(match);
  assert.ok(e?.sessionId, "the request event names its session");
  return e.sessionId;
}

before(async () => {
  const { mkdtemp } = await import("node:fs/promises");
  const { tmpdir } = await import("node:os");
  const policyDir = await mkdtemp(join(tmpdir(), "airlock-rec-policy-"));
  await writeFile(join(policyDir, "policy.yaml"), POLICY);
  t = await startTestGateway({ policyFiles: [join(policyDir, "policy.yaml")] });
  agent = (await t.addIdentity("rec-agent", "agent", ["agents"])).kubeconfig;
  operator = (await t.addIdentity("rec-operator", "agent", ["operators"])).kubeconfig;
  await writeFile(join(t.dir, "ca.crt"), t.gateway.caPem);
  cli = {
    AIRLOCK_SERVER: t.gateway.url,
    AIRLOCK_TOKEN: (await readFile(t.gateway.adminTokenPath, "utf8")).trim(),
    AIRLOCK_CA: join(t.dir, "ca.crt"),
  };
  pod = await runningPod(t.sim.kubeconfigPath);
});

after(async () => {
  await t?.close();
});

describe("exec -it is recorded as asciicast v2", () => {
  let id: string;
  let cast: string;

  before(async () => {
    const term = kubectlOnTerminal(agent, ["exec", "-it", "-n", "prod", pod, "--", "sh"]);
    await waitFor(term.output, /[$#] $/);
    term.child.stdin?.write("echo typed-$((6*7))\r");
    await waitFor(term.output, /\r\ntyped-42\r\n/);
    term.child.stdin?.write("env | grep DB_PASSWORD\r");
    await waitFor(term.output, /DB_PASSWORD=‹masked/);
    term.child.stdin?.write(`export PASSWORD=${TYPED_SECRET}\r`);
    await new Promise((r) => setTimeout(r, 300));
    term.child.stdin?.write("exit 3\r");
    assert.equal(await term.closed, 3, term.output());
    id = await sessionOf((e) => e.subresource === "exec" && e.identityName === "rec-agent");
    const r = await airlock(["session", "export", id, "--format", "asciicast"], cli);
    assert.equal(r.code, 0, r.stderr);
    cast = r.stdout;
  });

  test("session export --format asciicast passes the asciicast v2 check (header, monotonic times, event types)", () => {
    assert.deepEqual(checkAsciicast(cast), []);
    const { header, events } = parseAsciicast(cast);
    assert.equal(header?.version, 2);
    assert.equal(header?.width, 91, "the terminal's width, from kubectl's first resize");
    assert.equal(header?.height, 27);
    assert.ok(events.some(([, type]) => type === "i"));
    assert.ok(events.some(([, type]) => type === "o"));
  });

  test("the recording holds the typed commands as input and their output, and ends with the exit status", () => {
    const { events } = parseAsciicast(cast);
    const input = events
      .filter(([, k]) => k === "i")
      .map(([, , d]) => d)
      .join("");
    const output = events
      .filter(([, k]) => k === "o")
      .map(([, , d]) => d)
      .join("");
    assert.match(input, /echo typed-\$\(\(6\*7\)\)\r/);
    assert.match(input, /env \| grep DB_PASSWORD\r/);
    assert.match(output, /\r\ntyped-42\r\n/);
    assert.deepEqual(events.at(-1)?.slice(1), ["m", "exit 3"]);
  });

  test("the Secret value is masked in the recording, and so is a password typed on stdin", () => {
    const { events } = parseAsciicast(cast);
    const output = events
      .filter(([, k]) => k === "o")
      .map(([, , d]) => d)
      .join("");
    const input = events
      .filter(([, k]) => k === "i")
      .map(([, , d]) => d)
      .join("");
    assert.match(output, /DB_PASSWORD=‹masked:[0-9a-f]{8}›/);
    assert.ok(!cast.includes(DEMO_DB_PASSWORD), "the real Secret value is nowhere in the file");
    assert.ok(!cast.includes(TYPED_SECRET), "the typed password is nowhere in the file");
    assert.match(input, new RegExp(`PASSWORD=${MARKER.source}`));
  });

  test("session play replays the output (typed commands echoed, their results) with its timing", async () => {
    const started = Date.now();
    const r = await airlock(["session", "play", id, "--speed", "50", "--idle-limit", "1s"], cli);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /echo typed-\$\(\(6\*7\)\)\r\n/);
    assert.match(r.stdout, /\r\ntyped-42\r\n/);
    assert.ok(!r.stdout.includes(DEMO_DB_PASSWORD));
    assert.ok(Date.now() - started < 20_000);
  });

  test("session show lists the session's requests, decisions and the recording with its exit code", async () => {
    const d = await session(id);
    assert.equal(d.session.identityName, "rec-agent");
    assert.equal(d.session.kind, "kubectl");
    assert.deepEqual(d.session.commands, ["kubectl exec"]);
    assert.equal(d.session.requests, d.events.length);
    assert.equal(d.session.decisions.allow, d.events.length);
    const rec = d.recordings.find((r) => r.kind === "exec");
    assert.equal(rec?.exitCode, 3);
    assert.ok(rec?.endedAt);
    const text = await airlock(["session", "show", id], cli);
    assert.match(text.stdout, /exec\s+pods\/exec\s+prod\/\S+\s+allow\s+101/);
  });

  test("a recording download with a Range past its end is a 416 Status saying the size (Content-Range)", async () => {
    const rec = (await session(id)).recordings.find((r) => r.kind === "exec");
    assert.ok(rec);
    const token = (await readFile(t.gateway.adminTokenPath, "utf8")).trim();
    const got = await new Promise<{ code: number; headers: Record<string, unknown>; text: string }>(
      (resolve, reject) => {
        const req = request(
          `${t.gateway.url}/airlock/v1/sessions/${id}/recordings/${rec.id}`,
          { headers: { authorization: `Bearer ${token}`, range: "bytes=999999999-" }, ca: t.gateway.caPem },
          (res) => {
            let text = "";
            res.setEncoding("utf8").on("data", (d: string) => {
              text += d;
            });
            res.on("end", () => resolve({ code: res.statusCode ?? 0, headers: res.headers, text }));
          },
        );
        req.on("error", reject);
        req.end();
      },
    );
    assert.equal(got.code, 416);
    assert.match(String(got.headers["content-range"]), /^bytes \*\/\d+$/);
    const status = JSON.parse(got.text);
    assert.equal(status.kind, "Status");
    assert.equal(status.code, 416);
    assert.match(status.message, /requested range is outside it/);
  });
});

describe("sessions", () => {
  test("each kubectl invocation is one session (Kubectl-Session), named by its command and counting its requests", async () => {
    const one = await kubectl(agent, ["get", "pods", "-n", "prod"]);
    const two = await kubectl(agent, ["get", "configmaps", "-n", "prod"]);
    assert.equal(one.code, 0, one.stderr);
    assert.equal(two.code, 0, two.stderr);
    const events = (await t.gateway.store.audit.list({ identityName: "rec-agent", limit: 1000 })).filter(
      (e) => e.kubectlCommand === "kubectl get",
    );
    const byKubectl = new Map<string, Set<string>>();
    for (const e of events) {
      const set = byKubectl.get(e.kubectlSession ?? "") ?? new Set();
      set.add(e.sessionId ?? "");
      byKubectl.set(e.kubectlSession ?? "", set);
    }
    assert.equal(byKubectl.size, 2, "two kubectl invocations");
    const ids = [...byKubectl.values()].map((s) => [...s]);
    for (const s of ids) assert.equal(s.length, 1, "all requests of one invocation share one session");
    assert.notEqual(ids[0]?.[0], ids[1]?.[0]);
    await t.gateway.runtime.recordings?.sessions.flush();
    const list = await airlock(
      ["session", "list", "--identity", "rec-agent", "--since", "1h", "--json"],
      cli,
    );
    assert.equal(list.code, 0, list.stderr);
    const items = (JSON.parse(list.stdout) as { items: SessionRecord[] }).items;
    for (const s of ids) {
      const found = items.find((i) => i.id === s[0]);
      assert.deepEqual(found?.commands, ["kubectl get"]);
      assert.equal(found?.requests, events.filter((e) => e.sessionId === s[0]).length);
      assert.ok(!("key" in (found ?? {})), "the grouping key stays inside the gateway");
    }
    const table = await airlock(["session", "list", "--identity", "rec-agent"], cli);
    assert.match(table.stdout, /^ID\s+IDENTITY\s+CLUSTER\s+KIND/);
  });

  test("requests without Kubectl-Session join the identity's session within the idle window", async () => {
    const { request } = await import("node:https");
    const token = (await readFile(agent, "utf8")).match(/token: (\S+)/)?.[1] ?? "";
    const get = () =>
      new Promise<number>((resolve, reject) => {
        request(
          `${t.gateway.url}/api/v1/namespaces/prod/configmaps`,
          { headers: { authorization: `Bearer ${token}` }, ca: t.gateway.caPem },
          (res) => {
            res.resume();
            res.on("end", () => resolve(res.statusCode ?? 0));
          },
        )
          .on("error", reject)
          .end();
      });
    assert.equal(await get(), 200);
    assert.equal(await get(), 200);
    const plain = (await t.gateway.store.audit.list({ identityName: "rec-agent", limit: 1000 })).filter(
      // (the kubectl dispatcher's own GET /version carries no Kubectl-Session either)
      (e) => e.kubectlSession === null && e.path === "/api/v1/namespaces/prod/configmaps",
    );
    assert.equal(plain.length, 2);
    assert.equal(plain[0]?.sessionId, plain[1]?.sessionId);
    const d = await session(plain[0]?.sessionId ?? "");
    assert.equal(d.session.kind, "window");
  });
});

describe("cp and port-forward", () => {
  test("kubectl cp is recorded as its tar stream, both ways", async () => {
    const local = join(t.dir, "upload.txt");
    await writeFile(local, "contents-of-the-uploaded-file\n");
    const up = await kubectl(operator, ["cp", local, `prod/${pod}:/tmp/up.txt`]);
    assert.equal(up.code, 0, up.stderr);
    const down = await kubectl(operator, ["cp", `prod/${pod}:/tmp/up.txt`, join(t.dir, "down.txt")]);
    assert.equal(down.code, 0, down.stderr);
    await t.gateway.runtime.recordings?.sessions.flush();
    const recordings: RecordingRecord[] = [];
    for (const s of await t.gateway.store.sessions.list({ identityName: "rec-operator" }))
      recordings.push(...(await endedRecordings(s.id, { mayHaveNone: true }))); // flushed above
    const cps = recordings.filter((r) => r.kind === "cp");
    assert.deepEqual(cps.map((r) => r.detail.direction).sort(), ["download", "upload"]);
    for (const r of cps) {
      const tar = await readFile(join(t.gateway.runtime.recordings?.dir ?? "", r.file));
      assert.equal(r.format, "tar");
      assert.ok(tar.includes("contents-of-the-uploaded-file\n"), `${r.detail.direction} tar holds the file`);
      assert.equal(r.truncated, false);
      assert.equal(r.bytes, tar.length);
      // …and is summarised: size, SHA-256 and listing, not text.
      const summary = r.detail.tar as {
        bytes: number;
        sha256: string;
        entries: { name: string; size: number }[];
      };
      assert.equal(summary.bytes, tar.length);
      assert.equal(summary.sha256, createHash("sha256").update(tar).digest("hex"));
      assert.ok(
        summary.entries.some((e) => /up\.txt$/.test(e.name) && e.size === 30),
        JSON.stringify(summary.entries),
      );
    }
  });

  test("a tar exec with extra options is not a cp: it is an exec, recorded with its stdin", async () => {
    // issue 14: `--checkpoint-action=exec=sh` runs a shell that reads the commands piped in; this must never be
    // mistaken for a cp download (whose stdin is not recorded).
    const argv = ["tar", "cf", "-", "/dev/null", "--checkpoint=1", "--checkpoint-action=exec=sh 1>&2"];
    const r = await kubectl(operator, ["exec", "-i", "-n", "prod", pod, "--", ...argv], {
      input: "echo ran-via-checkpoint\nid -u\n",
    });
    assert.match(r.stderr, /ran-via-checkpoint/, "the commands did run (inside the pod sandbox)");
    const id = await sessionOf(
      (e) =>
        e.identityName === "rec-operator" &&
        e.subresource === "exec" &&
        (e.execCommand ?? []).includes("--checkpoint=1"),
    );
    const rec = (await endedRecordings(id)).find((x) => x.kind !== "cp" && x.format === "asciicast");
    assert.ok(rec, "recorded as an exec (asciicast), not as a cp");
    const cast = await readFile(join(t.gateway.runtime.recordings?.dir ?? "", rec.file), "utf8");
    const input = cast
      .split("\n")
      .slice(1)
      .filter(Boolean)
      .map((l) => JSON.parse(l) as [number, string, string])
      .filter((e) => e[1] === "i")
      .map((e) => e[2])
      .join("");
    assert.match(
      input,
      /echo ran-via-checkpoint\nid -u\n/,
      "the commands sent on stdin are in the recording",
    );
  });

  test("a cp above the configured cap keeps only the cap and notes it", async () => {
    const svc = t.gateway.runtime.recordings;
    assert.ok(svc);
    const capped = new RecordingService({
      store: t.gateway.store,
      dataDir: join(svc.dir, ".."),
      config: { ...svc.config, cpMaxBytes: 1000 },
      log: t.gateway.runtime.log,
    });
    t.gateway.runtime.recordings = capped;
    try {
      const local = join(t.dir, "big.txt");
      await writeFile(local, "x".repeat(20_000));
      const up = await kubectl(operator, ["cp", local, `prod/${pod}:/tmp/big.txt`]);
      assert.equal(up.code, 0, up.stderr);
      const id = await sessionOf((e) => e.identityName === "rec-operator" && e.subresource === "exec");
      const rec = (await endedRecordings(id)).find((r) => r.kind === "cp");
      assert.equal(rec?.truncated, true);
      assert.equal(rec?.bytes, 1000);
      assert.equal(rec?.detail.limitBytes, 1000);
    } finally {
      t.gateway.runtime.recordings = svc;
      await capped.close();
    }
  });

  test("port-forward is recorded as ports, connections and byte counts", async () => {
    const child = spawnKubectl(operator, ["port-forward", "-n", "prod", `pod/${pod}`, ":80"]);
    let out = "";
    child.stdout?.setEncoding("utf8").on("data", (d: string) => {
      out += d;
    });
    const closed = new Promise((r) => child.on("close", r));
    try {
      await waitFor(() => out, /Forwarding from 127\.0\.0\.1:\d+ -> 80/);
      const port = /Forwarding from 127\.0\.0\.1:(\d+) -> 80/.exec(out)?.[1];
      for (const path of ["/", "/again"]) {
        const res = await fetch(`http://127.0.0.1:${port}${path}`);
        assert.equal(res.status, 200);
        await res.text();
      }
    } finally {
      child.kill();
      await closed;
    }
    const id = await sessionOf((e) => e.subresource === "portforward");
    const rec = await eventually("the port-forward recording to end with the tunnel", async () =>
      (await t.gateway.store.recordings.list(id)).find((r) => r.kind === "portforward" && r.endedAt),
    );
    const ports = rec.detail.ports as Record<
      string,
      { connections: number; bytesToPod: number; bytesFromPod: number }
    >;
    assert.equal(ports["80"]?.connections, 2);
    assert.ok((ports["80"]?.bytesToPod ?? 0) > 40, "the two HTTP requests");
    assert.ok((ports["80"]?.bytesFromPod ?? 0) > 40, "the two answers");
    const lines = (await readFile(join(t.gateway.runtime.recordings?.dir ?? "", rec.file), "utf8"))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { event: string; port?: number });
    assert.equal(lines.filter((l) => l.event === "connection" && l.port === 80).length, 2);
  });
});

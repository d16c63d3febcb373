// End to end, secret VALUES (issue 12 §2): the real kubectl through Airlock, an agent under a rule that names no
// masking profile. Whatever a command does to print the demo password — printenv, echo in a sentence, base64 at any
// alignment, hex, od, JSON or URL escaping — the agent gets a marker; so do logs, the exec -it recording on disk,
// and values the gateway masked before. The gateway reads the pod's Secrets as itself, and refuses the stream when
// it cannot (fail closed).
import assert from "node:assert/strict";
import { type ChildProcess, execFileSync } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { after, before, describe, test } from "node:test";
import { DEMO_DB_PASSWORD } from "@airlock/sim/seed.ts";
import { buildKubeconfig } from "../../src/admin/index.ts";
import { validateConfig } from "../../src/gateway/config.ts";
import { type Gateway, startGateway } from "../../src/server/index.ts";
import { eventually } from "../helpers/eventually.ts";
import { startTestGateway, type TestGateway } from "../helpers/gateway.ts";
import { kubectl, spawnKubectl } from "../helpers/kubectl.ts";
import { kubectlOnTerminal, waitFor } from "./e2e-support.ts";

const PW = DEMO_DB_PASSWORD;
const b64 = (s: string | Buffer) => Buffer.from(s).toString("base64");
const hex = (s: string) => Buffer.from(s).toString("hex");
const MARKER = /‹masked:[0-9a-f]{8}›/;
// A value with characters that JSON and URL encoders escape.
const TRICKY = 'pa"ss\\wörd/42&x';

let gw: TestGateway;
let agent: string;
let pod: string;
const children: ChildProcess[] = [];
const admin = (args: string[], input?: string) =>
  kubectl(gw.sim.kubeconfigPath, args, input === undefined ? {} : { input });
const exec = (args: string[], target = pod, ns = "prod") =>
  kubectl(agent, ["-n", ns, "exec", target, "--", ...args]);

/** No form of the value: raw, base64 (any alignment's long core), hex (spaces and line breaks ignored). */
function assertNoForm(text: string, value = PW) {
  assert.ok(!text.includes(value), `raw:\n${text}`);
  for (let i = 0; i + 8 <= value.length; i++) {
    assert.ok(!text.includes(value.slice(i, i + 8)), `an 8-byte piece:\n${text}`);
  }
  for (const pre of ["", "x", "xy"]) {
    const core = b64(`${pre}${value}`).slice(4, 20);
    assert.ok(!text.includes(core), `base64 (${pre.length}):\n${text}`);
  }
  assert.ok(!text.replace(/\s/g, "").toLowerCase().includes(hex(value).slice(0, 24)), `hex:\n${text}`);
}

before(async () => {
  gw = await startTestGateway({ seed: "demo" });
  agent = (await gw.addIdentity("values-agent", "agent", ["agents"])).kubeconfig;
  const pods = await admin(["-n", "prod", "get", "pods", "-l", "app=web", "-o", "name"]);
  pod = (pods.stdout.split("\n")[0] ?? "").replace("pod/", "");
  assert.ok(pod, pods.stderr);
  const secret = await admin([
    "-n",
    "staging",
    "create",
    "secret",
    "generic",
    "tricky",
    `--from-literal=v=${TRICKY}`,
  ]);
  assert.equal(secret.code, 0, secret.stderr);
  const manifest = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "tricky", namespace: "staging" },
    spec: {
      containers: [{ name: "app", image: "busybox", envFrom: [{ secretRef: { name: "tricky" } }] }],
      volumes: [{ name: "creds", projected: { sources: [{ secret: { name: "projected-only" } }] } }],
    },
  };
  const made = await admin(["apply", "-f", "-"], JSON.stringify(manifest));
  assert.equal(made.code, 0, made.stderr);
  const only = await admin([
    "-n",
    "staging",
    "create",
    "secret",
    "generic",
    "projected-only",
    "--from-literal=key=projected-v4lue-77",
  ]);
  assert.equal(only.code, 0, only.stderr);
});
after(async () => {
  for (const c of children) c.kill("SIGKILL");
  await gw?.close();
});

describe("exec output never shows a Secret value the pod holds, in any common encoding", () => {
  const classes: [string, string[]][] = [
    ["printenv", ["printenv", "DB_PASSWORD"]],
    ["sh -c echo", ["sh", "-c", "echo $DB_PASSWORD"]],
    ["echo in a sentence", ["sh", "-c", 'echo "pw: $DB_PASSWORD"']],
    ["| base64", ["sh", "-c", "printenv DB_PASSWORD | base64"]],
    ["| base64 -w0 after a one-byte prefix", ["sh", "-c", 'printf "x%s" "$DB_PASSWORD" | base64 -w0']],
    ["| base64 -w0 after a two-byte prefix", ["sh", "-c", 'printf "xy%s" "$DB_PASSWORD" | base64 -w0']],
    ["| base64 -w 16 (wrapped)", ["sh", "-c", "printenv DB_PASSWORD | base64 -w 16"]],
    ["| base64 url-safe", ["sh", "-c", "printf '??%s' \"$DB_PASSWORD\" | base64 -w0 | tr '+/' '-_'"]],
    ["| xxd -p", ["sh", "-c", 'echo "pw: $DB_PASSWORD" | xxd -p']],
    ["| od -An -tx1", ["sh", "-c", "printenv DB_PASSWORD | od -An -tx1"]],
    ["| od -c", ["sh", "-c", "printenv DB_PASSWORD | od -An -c"]],
    ["| od -c with offsets", ["sh", "-c", 'echo "pw: $DB_PASSWORD" | od -c']],
    ["| xxd (hex and ASCII columns)", ["sh", "-c", 'echo "pw: $DB_PASSWORD" | xxd']],
    ["| xxd of the bare value", ["sh", "-c", "printenv DB_PASSWORD | xxd"]],
    ["| tr a-f A-F hex", ["sh", "-c", "printenv DB_PASSWORD | xxd -p | tr a-f A-F"]],
    ["env, whole", ["env"]],
    ["stderr", ["sh", "-c", "echo $DB_PASSWORD >&2"]],
  ];
  for (const [name, argv] of classes) {
    test(`${name}: the agent sees a marker`, async () => {
      const r = await exec(argv);
      assert.equal(r.code, 0, r.stderr);
      assertNoForm(r.stdout + r.stderr);
      assert.match(r.stdout + r.stderr, MARKER);
    });
  }

  // The dump tools a red team reached for next. Oracle: the same pipeline run here on the host, once with the
  // password and once with another value of the same length; a run of 8 characters that differs between the two
  // depends on the value, and none may reach the agent. Dumps that cut the value at line or word edges may leave up
  // to 3 bytes there (docs/masking.md): for those, no 4 characters of the value in a row.
  const dumps: [string, string, "runs" | "edges"][] = [
    ["| base32", 'printf %s "$DB_PASSWORD" | base32', "runs"],
    ["| base32 after a prefix", 'echo "pw: $DB_PASSWORD" | base32', "runs"],
    ["| tr a-z A-Z", 'echo "pw: $DB_PASSWORD" | tr a-z A-Z', "runs"],
    ["| od -An -to1 (octal)", 'echo "pw: $DB_PASSWORD" | od -An -to1', "runs"],
    ["| od -b with offsets", 'echo "pw: $DB_PASSWORD" | od -b', "runs"],
    ["| od -An -tu1 (decimal)", 'echo "pw: $DB_PASSWORD" | od -An -tu1', "runs"],
    ["| od -x (little-endian words)", 'printf %s "$DB_PASSWORD" | od -An -x', "runs"],
    ["| hexdump (words and offsets)", 'echo "pw: $DB_PASSWORD" | hexdump', "edges"],
    ["| hexdump -C", 'echo "pw: $DB_PASSWORD" | hexdump -C', "edges"],
    ["| xxd -b (binary and characters)", 'echo "pw: $DB_PASSWORD" | xxd -b', "edges"],
  ];
  const local = (script: string, value: string) =>
    execFileSync("sh", ["-c", script], { env: { PATH: process.env.PATH, DB_PASSWORD: value } }).toString(
      "latin1",
    );
  for (const [name, script, check] of dumps) {
    test(`${name}: the agent sees a marker and nothing that depends on the value`, async () => {
      const r = await exec(["sh", "-c", script]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, MARKER);
      assertNoForm(r.stdout);
      const kept = r.stdout.replace(new RegExp(MARKER.source, "g"), "\n").replace(/[ \t]/g, "");
      if (check === "edges") {
        for (let i = 0; i + 4 <= PW.length; i++) assert.ok(!kept.includes(PW.slice(i, i + 4)), r.stdout);
        return;
      }
      assert.notEqual(local(script, PW), local(script, "Z".repeat(PW.length)), "the oracle sees the value");
      const control = local(script, "Z".repeat(PW.length)).replace(/[ \t]/g, "");
      for (const line of kept.split("\n")) {
        for (let i = 0; i + 8 <= line.length; i++) {
          assert.ok(control.includes(line.slice(i, i + 8)), `"${line.slice(i, i + 8)}" left:\n${r.stdout}`);
        }
      }
    });
  }

  test("a value with JSON and URL special characters is masked raw, JSON-escaped (jq) and URL-encoded", async () => {
    const forms = [
      ["printenv", "v"],
      ["sh", "-c", 'printf %s "$v" | jq -Rs .'],
      ["sh", "-c", 'printf %s "$v" | jq -sRr @uri'],
      ["sh", "-c", 'printf %s "$v" | jq -Rs --ascii-output .'],
    ];
    for (const argv of forms) {
      const r = await exec(argv, "tricky", "staging");
      assert.equal(r.code, 0, r.stderr);
      const out = r.stdout;
      assert.ok(!out.includes(TRICKY), out);
      assert.ok(!out.includes(JSON.stringify(TRICKY).slice(1, -1)), out);
      assert.ok(!out.includes(encodeURIComponent(TRICKY)), out);
      assert.ok(!out.includes("w\\u00f6rd/42"), out);
      assert.match(out, MARKER, argv.join(" "));
    }
  });

  test("a projected volume's Secret is read too (not only env)", async () => {
    const r = await exec(["echo", "projected-v4lue-77"], "tricky", "staging");
    assert.equal(r.code, 0, r.stderr);
    assert.ok(!r.stdout.includes("projected-v4lue-77"), r.stdout);
    assert.match(r.stdout, /^‹masked:[0-9a-f]{8}›\n$/, "the echoed value became its marker");
  });

  test("a value the gateway masked before (a ConfigMap's db_password) is masked in exec output", async () => {
    const made = await admin([
      "-n",
      "prod",
      "create",
      "configmap",
      "legacy",
      "--from-literal=db_password=legacy-pw-0451",
    ]);
    assert.equal(made.code, 0, made.stderr);
    const read = await kubectl(agent, ["-n", "prod", "get", "configmap", "legacy", "-o", "yaml"]);
    assert.match(read.stdout, /db_password: ‹masked:/);
    const r = await exec(["sh", "-c", "echo legacy-pw-0451 | base64"]);
    assert.ok(!r.stdout.includes(b64("legacy-pw-0451\n").slice(0, 16)), r.stdout);
    assert.match(r.stdout, MARKER);
  });

  test("values shorter than the minimum (6 bytes) are left alone: DB_USER=app stays readable", async () => {
    const r = await exec(["printenv", "DB_USER"]);
    assert.equal(r.stdout, "app\n");
  });

  test("the audit note counts what was masked, by rule, and no value reaches the audit or the logs", async () => {
    await exec(["sh", "-c", "printenv DB_PASSWORD | base64"]);
    const records = await gw.gateway.store.audit.records({ afterSeq: 0, limit: 10_000 });
    assert.ok(
      records.some((x) => x.type === "masking.applied" && /"secret-value-base64":\d/.test(x.body)),
      "a masking.applied note counts secret-value-base64",
    );
    const everything = records.map((x) => x.body).join("\n") + gw.logs.join("");
    assert.ok(!everything.includes(PW) && !everything.includes(b64(PW)));
  });
});

describe("logs and recordings", () => {
  test("logs that contain the value are masked, and the Warning header says values were masked", async () => {
    const attach = spawnKubectl(gw.sim.kubeconfigPath, ["-n", "prod", "attach", "-i", pod]);
    children.push(attach);
    attach.stdin?.write(`connecting with ${PW}\n${b64(PW)}\n`);
    await new Promise((r) => setTimeout(r, 1500));
    attach.kill("SIGKILL");
    const direct = await admin(["-n", "prod", "logs", pod]);
    assert.ok(direct.stdout.includes(PW), "the log holds the value (as the cluster admin sees it)");
    const r = await kubectl(agent, ["-n", "prod", "logs", pod]);
    assert.equal(r.code, 0, r.stderr);
    assertNoForm(r.stdout);
    assert.match(r.stdout, MARKER);
    assert.match(r.stderr, /Warning: airlock: \d+ values? masked by profile default/);
  });

  test("attach shows what the main process prints with the value masked", async () => {
    const watcher = spawnKubectl(agent, ["-n", "prod", "attach", "-i", pod]);
    children.push(watcher);
    let seen = "";
    watcher.stdout?.setEncoding("utf8").on("data", (d: string) => {
      seen += d;
    });
    await new Promise((r) => setTimeout(r, 1000));
    const writer = spawnKubectl(gw.sim.kubeconfigPath, ["-n", "prod", "attach", "-i", pod]);
    children.push(writer);
    writer.stdin?.write(`attached ${PW} and ${b64(`x${PW}`)}\nattach-done\n`);
    await waitFor(() => seen, /attach-done/, 15_000);
    watcher.kill("SIGKILL");
    writer.kill("SIGKILL");
    assertNoForm(seen);
    assert.match(seen, /attached ‹masked:[0-9a-f]{8}›/);
  });

  test("an exec -it session's recording on disk holds no form of the value", async () => {
    const since = new Date().toISOString();
    const term = kubectlOnTerminal(agent, ["-n", "prod", "exec", "-it", pod, "--", "sh"]);
    children.push(term.child);
    await waitFor(term.output, /[$#] $/);
    term.child.stdin?.write("printenv DB_PASSWORD; printenv DB_PASSWORD | base64; echo done-$((6*7))\r");
    await waitFor(term.output, /done-42/);
    term.child.stdin?.write("exit\r");
    assert.equal(await term.closed, 0);
    assertNoForm(term.output());
    assert.match(term.output(), MARKER);
    await gw.gateway.runtime.recordings?.sessions.flush();
    const dir = gw.gateway.runtime.recordings?.dir ?? "";
    // The client has gone; the gateway closes the recording once it sees that, and a recording is complete when its
    // metadata says it ended (written after the file is closed). Under load that can come after kubectl exited.
    await eventually(
      "the exec -it session's recording to be complete",
      async () => {
        for (const f of (await readdir(dir, { recursive: true })).map(String)) {
          if (!f.endsWith(".cast")) continue;
          const r = await gw.gateway.store.recordings.get(basename(f, ".cast"));
          if (!(r?.endedAt && r.startedAt >= since && r.detail.tty === true)) continue;
          // …and its output is on disk. The output may be cut into several events anywhere (the masking stream holds
          // back bytes that could start a secret), so the events' data is joined before looking for the marker line.
          if (castOutput((await readFile(join(dir, f))).toString("utf8")).includes("done-42")) return f;
        }
        return undefined;
      },
      { timeoutMs: 30_000 },
    );
    const files = (await readdir(dir, { recursive: true })).map(String);
    const casts = files.filter((f) => f.endsWith(".cast") || f.endsWith(".cast.gz") || f.includes("exec"));
    assert.ok(casts.length > 0, files.join(", "));
    let all = "";
    for (const f of files) {
      try {
        all += (await readFile(join(dir, f))).toString("utf8");
      } catch {
        // a directory
      }
    }
    assert.ok(castOutput(all).includes("done-42"), "the recording holds the session");
    assertNoForm(castOutput(all));
    assertNoForm(all);
  });
});

describe("fail closed", () => {
  let restricted: Gateway | undefined;
  let dir: string;
  after(async () => {
    await restricted?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test("a gateway whose cluster credential cannot read Secrets refuses exec and logs of a pod that uses them", async () => {
    dir = await mkdtemp(join(tmpdir(), "airlock-values-rbac-"));
    // A credential that may impersonate and get pods, but not read Secrets.
    const objects = [
      { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "limited", namespace: "default" } },
      {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "ClusterRole",
        metadata: { name: "limited" },
        rules: [
          { apiGroups: [""], resources: ["users", "groups"], verbs: ["impersonate"] },
          {
            apiGroups: ["authentication.k8s.io"],
            resources: ["userextras/airlock.dev/identity-id", "userextras/airlock.dev/request-id"],
            verbs: ["impersonate"],
          },
          { apiGroups: [""], resources: ["pods"], verbs: ["get"] },
        ],
      },
      {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "ClusterRoleBinding",
        metadata: { name: "limited" },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "limited" },
        subjects: [{ kind: "ServiceAccount", name: "limited", namespace: "default" }],
      },
      {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "ClusterRoleBinding",
        metadata: { name: "agents-exec" },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "cluster-admin" },
        subjects: [{ kind: "Group", name: "airlock:agents", apiGroup: "rbac.authorization.k8s.io" }],
      },
    ];
    for (const o of objects) {
      const r = await admin(["apply", "-f", "-"], JSON.stringify(o));
      assert.equal(r.code, 0, r.stderr);
    }
    const token = await admin(["-n", "default", "create", "token", "limited"]);
    assert.equal(token.code, 0, token.stderr);
    const kubeconfig = join(dir, "limited.kubeconfig");
    await writeFile(
      kubeconfig,
      JSON.stringify({
        apiVersion: "v1",
        kind: "Config",
        clusters: [
          { name: "sim", cluster: { server: gw.sim.url, "certificate-authority-data": b64(gw.sim.caPem) } },
        ],
        users: [{ name: "limited", user: { token: token.stdout.trim() } }],
        contexts: [{ name: "sim", context: { cluster: "sim", user: "limited" } }],
        "current-context": "sim",
      }),
    );
    const validated = validateConfig(
      {
        listen: { address: "127.0.0.1", port: 0 },
        dataDir: join(dir, "gateway"),
        clusters: [{ name: "sim", kubeconfig: { path: kubeconfig } }],
        policy: { builtin: "allow-authenticated" },
        log: { level: "silent" },
      },
      dir,
    );
    assert.ok(validated.ok, validated.ok ? "" : validated.errors.join("; "));
    restricted = await startGateway(validated.config);
    const { token: agentToken } = await restricted.store.identities.create({
      name: "values-agent-2",
      kind: "agent",
      groups: ["agents"],
    });
    const agent2 = join(dir, "agent.kubeconfig");
    await writeFile(
      agent2,
      buildKubeconfig({
        server: restricted.url,
        caPem: restricted.caPem,
        identity: "values-agent-2",
        token: agentToken,
        namespace: "prod",
      }),
      { mode: 0o600 },
    );
    const r = await kubectl(agent2, ["exec", pod, "--", "printenv", "DB_PASSWORD"]);
    assert.notEqual(r.code, 0);
    assert.ok(!r.stdout.includes(PW));
    assert.match(r.stderr, /could not read them \(reading Secret prod\/db-credentials: HTTP 403/);
    const logs = await kubectl(agent2, ["logs", pod]);
    assert.notEqual(logs.code, 0);
    assert.match(logs.stderr, /airlock masks the values of the Secrets this pod uses/);
  });
});

/** The data of an asciicast's events, joined: what the terminal showed, however the gateway cut it into events. */
function castOutput(cast: string): string {
  return cast
    .split("\n")
    .filter((l) => l.startsWith("["))
    .map((l) => {
      const event: unknown = JSON.parse(l);
      return Array.isArray(event) && typeof event[2] === "string" ? event[2] : "";
    })
    .join("");
}

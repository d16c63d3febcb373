// The HA overlay's shared keys, end to end: docs/deploy-kubernetes.md's first start (its first-start.yaml, as
// written there) creates the keys, the docs' file list becomes the Secret airlock-keys, the overlay's init container
// (its script, from the rendered overlay) copies them into a replica's data directory, and a gateway started there
// adopts them unchanged. A key file the gateway starts writing (a new signing key, a new CA) that the docs' list or
// the init container would not carry fails here: every replica must hold the same keys.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join, relative } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";
import { serveAirlock } from "../helpers/cli.ts";

const REPO = fileURLToPath(new URL("../../", import.meta.url));
const DOC = readFileSync(join(REPO, "docs/deploy-kubernetes.md"), "utf8");

let tmp: string;

/** Every file under `dir`, relative, sorted. */
function files(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(relative(dir, p));
    }
  };
  walk(dir);
  return out.sort();
}

async function startAndStop(config: string): Promise<void> {
  const served = await serveAirlock(config);
  const exited = new Promise((resolve) => served.child.on("exit", resolve));
  served.child.kill("SIGTERM");
  await exited;
}

before(() => {
  tmp = mkdtempSync(join(tmpdir(), "airlock-ha-keys-"));
});

after(() => {
  rmSync(tmp, { recursive: true, force: true });
});

test("the documented first start, Secret and init container give every replica the same keys, which it adopts", async () => {
  // 1. The first start, with the docs' first-start.yaml.
  const firstStart = /cat > first-start\.yaml <<'EOF'\n([\s\S]*?)\nEOF\n/.exec(DOC)?.[1];
  assert.ok(firstStart, "docs/deploy-kubernetes.md shows first-start.yaml");
  const work = join(tmp, "work");
  mkdirSync(work);
  writeFileSync(join(work, "first-start.yaml"), firstStart);
  await startAndStop(join(work, "first-start.yaml"));
  assert.match(DOC, /head -c 32 \/dev\/urandom > keys\/mask\.key/);
  writeFileSync(join(work, "keys", "mask.key"), randomBytes(32));
  const created = files(join(work, "keys"));

  // 2. The Secret: the files the docs' loop names, each under its base name.
  const glob = /\$\(for f in ([^;]+); do printf -- '--from-file=%s ' "\$f"; done\)/.exec(DOC)?.[1];
  assert.ok(glob, "docs/deploy-kubernetes.md makes airlock-keys with a for loop over globs");
  const listed = spawnSync("sh", ["-c", `for f in ${glob}; do [ -e "$f" ] && echo "$f"; done`], {
    cwd: join(work, "keys"),
    encoding: "utf8",
  })
    .stdout.trim()
    .split("\n");
  // Per replica, never shared: the SQLite store (HA uses PostgreSQL) and the generated serving certificate (HA
  // takes airlock-tls). Everything else the gateway wrote must be in the Secret.
  const perReplica = /^(airlock\.db.*|tls\/ca\.(crt|key)|tls\/server\.(crt|key))$/;
  assert.deepEqual(
    created.filter((f) => !perReplica.test(f)),
    [...listed].sort(),
    "every key file of the first start goes into airlock-keys",
  );
  for (const expected of [
    "session.key",
    "mask.key",
    "audit-signing.key",
    "tls/identity-ca.key",
    "tls/agent-ca.key",
  ]) {
    assert.ok(listed.includes(expected), `${expected} is shared`);
  }
  const mount = join(tmp, "secret-mount");
  mkdirSync(mount);
  for (const f of listed) writeFileSync(join(mount, basename(f)), readFileSync(join(work, "keys", f)));

  // 3. The init container of the rendered HA overlay, its script as written, on a fresh data directory.
  const r = spawnSync("kubectl", ["kustomize", join(REPO, "deploy/kubernetes/overlays/ha")], {
    encoding: "utf8",
  });
  assert.equal(r.status, 0, r.stderr);
  const deployment = parseAllDocuments(r.stdout)
    .map((d) => d.toJS())
    .find((o) => o.kind === "Deployment");
  const init = deployment.spec.template.spec.initContainers.find((c: { name: string }) => c.name === "keys");
  assert.deepEqual(init.command.slice(0, 2), ["sh", "-c"]);
  const keysMount = init.volumeMounts.find((m: { name: string }) => m.name === "keys").mountPath;
  const dataMount = init.volumeMounts.find((m: { name: string }) => m.name === "data").mountPath;
  const replica = join(tmp, "replica");
  mkdirSync(replica);
  const script = (init.command[2] as string).replaceAll(keysMount, mount).replaceAll(dataMount, replica);
  const ran = spawnSync("sh", ["-c", script], { encoding: "utf8" });
  assert.equal(ran.status, 0, `the init container's script: ${ran.stderr}`);
  assert.deepEqual(files(replica), [...listed].sort(), "each key lands where the gateway looks for it");
  for (const f of listed) {
    assert.equal(statSync(join(replica, f)).mode & 0o777, 0o600, `${f} is 0600`);
  }

  // 4. A replica started on that data directory adopts the keys: not one byte changes.
  const before = new Map(listed.map((f) => [f, readFileSync(join(replica, f)).toString("base64")]));
  writeFileSync(join(tmp, "replica.yaml"), firstStart.replace(/dataDir: \S+/, `dataDir: ${replica}`));
  await startAndStop(join(tmp, "replica.yaml"));
  for (const f of listed) {
    assert.equal(readFileSync(join(replica, f)).toString("base64"), before.get(f), `${f} is kept as given`);
  }
});

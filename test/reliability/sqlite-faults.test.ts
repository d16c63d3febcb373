// Faults in the SQLite store, made real: the gateway (`airlock serve`, a child process) runs in its own mount namespace
// (`unshare -m`) with its data directory on a small filesystem of its own, so the faults hit only it:
// - disk full: a tmpfs filled up to its last byte;
// - read-only: an ext4 image on a loop device that the kernel turns read-only (errors=remount-ro, after an ext4
//   error triggered through sysfs), as a failing disk would;
// - removed: the database file unlinked under the running gateway.
// In each case no request is forwarded without its audit record (503 naming the store and the fault, the simulator
// sees nothing), the gateway stays up, and `audit verify` passes afterwards; it recovers by itself when the disk has
// room again. A read-only filesystem or a removed file need the operator (docs/operations.md "Store faults"): after a
// repair and a restart, the chain verifies and nothing written before the fault is lost.
// As root, file permissions do not stop writes, hence filesystems rather than chmod.
import assert from "node:assert/strict";
import { type ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process";
import { copyFile, mkdir, mkdtemp, readFile, rm, unlink, writeFile } from "node:fs/promises";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { after, before, test } from "node:test";
import { type Simulator, startSimulator } from "@airlock/sim";
import { httpsJson } from "../helpers/https-json.ts";

const BIN = join(import.meta.dirname, "../../bin/airlock.ts");
const DEMO_POLICY = new URL("../../examples/policies/demo.yaml", import.meta.url).pathname;
let dir: string;
let sim: Simulator;
const children: ChildProcess[] = [];

interface Served {
  child: ChildProcess;
  /** The data directory as this process sees it: through the gateway's own mount namespace. */
  data: string;
  url: string;
  ca: string;
  admin: string;
}

/** Starts `airlock serve` in a private mount namespace with `mountCommand` mounting its data directory first. */
async function serveIsolated(data: string, mountCommand: string): Promise<Served> {
  const script = `${mountCommand} && exec "$@"`;
  const child = spawn(
    "unshare",
    [
      "-m",
      "--propagation",
      "private",
      "sh",
      "-c",
      script,
      "sh",
      process.execPath,
      BIN,
      "serve",
      "--config",
      join(dir, "airlock.yaml"),
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  children.push(child);
  let err = "";
  child.stderr?.setEncoding("utf8").on("data", (d: string) => {
    err += d;
  });
  for (let i = 0; i < 300 && !/airlock: ready/.test(err) && child.exitCode === null; i++) {
    await new Promise((r) => setTimeout(r, 100));
  }
  const url = /gateway listening on (\S+)/.exec(err)?.[1];
  assert.ok(url, err);
  // unshare and sh exec, so the child's pid is the gateway's; /proc/<pid>/root sees its mounts.
  const seen = `/proc/${child.pid}/root${data}`;
  const ca = await readFile(join(seen, "tls", "ca.crt"), "utf8");
  const admin = (await readFile(join(seen, "admin.token"), "utf8")).trim();
  return { child, data: seen, url, ca, admin };
}

async function stop(gw: Served): Promise<void> {
  if (gw.child.exitCode !== null || gw.child.signalCode !== null) return;
  gw.child.kill("SIGKILL");
  await new Promise((r) => gw.child.once("close", r));
}

const call = (gw: { url: string; ca: string }, method: string, path: string, token: string, body?: unknown) =>
  httpsJson(gw, method, path, token, body);

function simPaths(): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${sim.url}/sim/v1/requests`,
      { ca: sim.caPem, headers: { authorization: `Bearer ${sim.adminToken}` } },
      (res) => {
        let text = "";
        res.setEncoding("utf8").on("data", (d: string) => {
          text += d;
        });
        res.on("end", () =>
          resolve(JSON.parse(text).items.map((r: { path: string }) => r.path.split("?")[0])),
        );
      },
    );
    req.on("error", reject);
    req.end();
  });
}

async function newAgent(gw: Served, name: string): Promise<string> {
  const created = await call(gw, "POST", "/airlock/v1/identities", gw.admin, {
    name,
    kind: "agent",
    groups: ["agents"],
  });
  assert.equal(created.code, 201, JSON.stringify(created.body));
  return created.body.token;
}

async function assertVerifies(gw: Served): Promise<void> {
  const verify = await call(gw, "GET", "/airlock/v1/audit/verify", gw.admin);
  assert.equal(verify.code, 200, JSON.stringify(verify.body));
  assert.equal(verify.body.ok, true, JSON.stringify(verify.body.problems));
}

/** A request the store cannot record: 503 naming the store and the fault, and the cluster never sees it. */
async function assertRefused(gw: Served, token: string, path: string, fault: RegExp): Promise<void> {
  const refused = await call(gw, "GET", path, token);
  assert.equal(refused.code, 503, JSON.stringify(refused.body));
  assert.equal(refused.body.kind, "Status");
  assert.match(refused.body.message, /the audit log cannot be written \(.+\), so the request was not sent/);
  assert.match(refused.body.message, fault);
  assert.ok(
    !(await simPaths()).includes(path),
    `the cluster saw ${path}, refused for want of its audit record`,
  );
}

/** A request recorded and sent on: the cluster answers it (this configmap does not exist: 404 from the cluster). */
async function assertForwarded(gw: Served, token: string, path: string): Promise<void> {
  const answer = await call(gw, "GET", path, token);
  assert.equal(answer.code, 404, JSON.stringify(answer.body));
  assert.ok((await simPaths()).includes(path), `the cluster did not see ${path}`);
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "airlock-sqlite-faults-"));
  sim = await startSimulator({ dir: join(dir, "sim"), port: 0, seed: "demo" });
  await mkdir(join(dir, "policies"));
  await mkdir(join(dir, "data"));
  await copyFile(DEMO_POLICY, join(dir, "policies", "demo.yaml"));
  await writeFile(
    join(dir, "airlock.yaml"),
    [
      "listen: { address: 127.0.0.1, port: 0 }",
      `dataDir: ${join(dir, "data")}`,
      `clusters: [{ name: sim, kubeconfig: { path: ${sim.kubeconfigPath} } }]`,
      `policy: { files: [${join(dir, "policies")}] }`,
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

test("disk full (a full tmpfs): 503 naming the store, nothing forwarded, recovery by itself once there is room; then the file removed: refused until restart", async () => {
  const data = join(dir, "data");
  const gw = await serveIsolated(data, `mount -t tmpfs -o size=16m,mode=0700 tmpfs ${data}`);
  try {
    const token = await newAgent(gw, "disk-agent");
    assert.equal((await call(gw, "GET", "/api/v1/namespaces/prod/pods", token)).code, 200);

    // Empty the WAL into the database file (as SQLite's own checkpoint does), so the next write needs new space
    // rather than reusing WAL pages already allocated; then take every free byte.
    const db = new DatabaseSync(join(gw.data, "airlock.db"));
    db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    db.close();
    const filler = join(gw.data, "filler");
    const chunk = Buffer.alloc(64 * 1024, 1);
    await assert.rejects(async () => {
      for (;;) await writeFile(filler, chunk, { flag: "a" });
    }, /ENOSPC/);
    await assert.rejects(writeFile(filler, "x", { flag: "a" }), /ENOSPC/);

    await assertRefused(
      gw,
      token,
      "/api/v1/namespaces/prod/configmaps/full-1",
      /the disk holding the SQLite database is full/,
    );
    await assertRefused(
      gw,
      token,
      "/api/v1/namespaces/prod/configmaps/full-2",
      /disk holding the SQLite database is full/,
    );
    // Still up, still reading its store.
    await assertVerifies(gw);

    // Room again: the gateway recovers by itself, no restart.
    await unlink(filler);
    await assertForwarded(gw, token, "/api/v1/namespaces/prod/configmaps/full-1");
    await assertVerifies(gw);

    // The database file removed under the running gateway: SQLite would go on writing to the unlinked inode and the
    // records would vanish at restart, so the store refuses from now on (fail closed) and says why.
    await unlink(join(gw.data, "airlock.db"));
    await assertRefused(
      gw,
      token,
      "/api/v1/namespaces/prod/configmaps/removed-1",
      /the SQLite database file was removed or replaced/,
    );
    // A new file at the path is not the one the chain lives in: still refused.
    await writeFile(join(gw.data, "airlock.db"), "");
    await assertRefused(
      gw,
      token,
      "/api/v1/namespaces/prod/configmaps/removed-2",
      /file was removed or replaced/,
    );
    // What was written before stays readable through the open file and verifies.
    await assertVerifies(gw);
  } finally {
    await stop(gw);
  }
});

test("a filesystem the kernel turns read-only (ext4 errors=remount-ro): 503 naming the store, nothing forwarded; after repair and restart the chain verifies", async () => {
  const data = join(dir, "data");
  await rm(data, { recursive: true, force: true });
  await mkdir(data);
  const image = join(dir, "data.ext4");
  execFileSync("truncate", ["-s", "32M", image]);
  execFileSync("mkfs.ext4", ["-q", "-F", image]);
  const mountExt4 = `mount -o loop,errors=remount-ro ${image} ${data} && chmod 700 ${data}`;
  const first = await serveIsolated(data, mountExt4);
  let token: string;
  try {
    token = await newAgent(first, "ro-agent");
    assert.equal((await call(first, "GET", "/api/v1/namespaces/prod/pods", token)).code, 200);

    // The loop device behind the gateway's data directory, from its mount table; an ext4 error makes the kernel
    // remount it read-only under the open database.
    const mounts = await readFile(`/proc/${first.child.pid}/mountinfo`, "utf8");
    const line = mounts.split("\n").find((l) => l.split(" ")[4] === data);
    const device = line?.split(" - ")[1]?.split(" ")[1];
    assert.match(device ?? "", /^\/dev\/loop\d+$/, line);
    // What was written so far reaches the disk first (the kernel writes back within seconds anyway; with
    // audit.durability "commit" records not yet written back are lost with a failing disk, as on power loss).
    execFileSync("sync", ["-f", join(first.data, "airlock.db")]);
    await writeFile(`/sys/fs/ext4/${(device as string).slice("/dev/".length)}/trigger_fs_error`, "1");
    await assert.rejects(writeFile(join(first.data, "probe"), "x"), /EROFS|EIO/);

    await assertRefused(
      first,
      token,
      "/api/v1/namespaces/prod/configmaps/ro-1",
      /the SQLite database (is read-only|cannot be written)/,
    );
    await assertRefused(first, token, "/api/v1/namespaces/prod/configmaps/ro-2", /SQLite database/);
    await assertVerifies(first);
  } finally {
    await stop(first);
  }

  // The operator repairs the filesystem and restarts the gateway: everything recorded before the fault is there and
  // the chain verifies.
  // e2fsck: 0 clean, 1 errors corrected (the triggered one); anything else is a failed repair.
  const fsck = spawnSync("e2fsck", ["-f", "-y", image], { stdio: "ignore" });
  assert.ok(fsck.status === 0 || fsck.status === 1, `e2fsck exited ${fsck.status}`);
  const second = await serveIsolated(data, mountExt4);
  try {
    await assertVerifies(second);
    await assertForwarded(second, token, "/api/v1/namespaces/prod/configmaps/ro-after");
    const events = await call(second, "GET", "/airlock/v1/audit?limit=1000", second.admin);
    const paths = (events.body.items as { path: string }[]).map((e) => e.path);
    assert.ok(
      paths.includes("/api/v1/namespaces/prod/pods"),
      "the request recorded before the fault is still there",
    );
    await assertVerifies(second);
  } finally {
    await stop(second);
  }
});

// A PostgreSQL server for tests: the one named by AIRLOCK_TEST_PG_URL, or a throwaway cluster started from the Debian
// binaries (/usr/lib/postgresql/<version>/bin) in a temp directory, on 127.0.0.1 and a free port, fsync off. Each
// test file gets its own database (and, with a throwaway cluster, its own cluster), dropped or removed at `stop()`.
//
// Fail, never skip: without binaries and without AIRLOCK_TEST_PG_URL the helper throws, telling how to install
// PostgreSQL, so a machine that cannot run the PostgreSQL tests shows red instead of silently passing.
// initdb refuses to run as root, so as root the cluster runs as the `postgres` system user (runuser), which the
// Debian package creates. The superuser has a random password (scram-sha-256), so nothing else on the machine can
// use the cluster while it runs.
import { execFile, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import pg from "pg";

const run = promisify(execFile);

export interface TestPostgres {
  /** A connection URL for this test file's own, empty database. */
  url: string;
  /** Creates another empty database and returns its URL. */
  createDatabase(prefix?: string): Promise<string>;
  /** Drops the databases (external server) or stops and removes the throwaway cluster. */
  stop(): Promise<void>;
}

const INSTALL_HINT =
  "PostgreSQL is needed for the PostgreSQL store tests: install the Debian package (apt-get install -y postgresql; " +
  ".ci/run does this) or set AIRLOCK_TEST_PG_URL to a server the tests may create databases on";

/** The bin directory of the newest PostgreSQL under /usr/lib/postgresql, or undefined. */
export function findPostgresBin(root = "/usr/lib/postgresql"): string | undefined {
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => /^\d+$/.test(v) && existsSync(join(root, v, "bin", "initdb")))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? undefined : join(root, versions[0], "bin");
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

async function adminQuery(adminUrl: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** Starts (or connects to) PostgreSQL and creates this test file's database. */
export async function startTestPostgres(
  opts: { externalUrl?: string | undefined; binRoot?: string } = {},
): Promise<TestPostgres> {
  const external = "externalUrl" in opts ? opts.externalUrl : process.env.AIRLOCK_TEST_PG_URL;
  const cluster = external ? undefined : await startCluster(opts.binRoot);
  const adminUrl = external ?? cluster?.adminUrl ?? "";
  const created: string[] = [];
  const createDatabase = async (prefix = "airlock_test") => {
    const name = `${prefix}_${randomBytes(6).toString("hex")}`;
    // The name is ours (prefix + hex); identifiers cannot be bound parameters.
    await adminQuery(adminUrl, `CREATE DATABASE "${name}"`);
    created.push(name);
    return withDatabase(adminUrl, name);
  };
  const url = await createDatabase();
  return {
    url,
    createDatabase,
    async stop() {
      if (cluster) return cluster.stop();
      for (const name of created) {
        await adminQuery(adminUrl, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`).catch(() => {});
      }
    },
  };
}

/** A throwaway cluster the test controls: stopped and started again, replicated, promoted (store fault tests). */
export interface PostgresCluster {
  /** The superuser's URL on the `postgres` database. */
  adminUrl: string;
  port: number;
  /** Stops the server (`pg_ctl stop`; "fast" ends sessions, "immediate" is a crash) and leaves its data. */
  stopServer(mode?: "fast" | "immediate"): Promise<void>;
  /** Starts it again on the same port. */
  startServer(): Promise<void>;
  /** A streaming replica of this server (pg_basebackup -R), running on a port of its own. */
  replicate(): Promise<PostgresCluster>;
  /** Turns a replica into a primary (pg_ctl promote). */
  promote(): Promise<void>;
  /** Stops the server and removes its files. */
  stop(): Promise<void>;
}

/** Starts a throwaway cluster (always: AIRLOCK_TEST_PG_URL is not used, the tests stop and start the server). */
export function startPostgresCluster(binRoot?: string): Promise<PostgresCluster> {
  return startCluster(binRoot);
}

async function startCluster(
  binRoot?: string,
  from?: { adminUrl: string; password: string },
): Promise<PostgresCluster> {
  const bin = findPostgresBin(binRoot);
  if (!bin) throw new Error(INSTALL_HINT);
  const asRoot = userInfo().uid === 0;
  const dir = mkdtempSync(join(tmpdir(), "airlock-pg-"));
  const data = join(dir, "data");
  const password = from?.password ?? randomBytes(18).toString("base64url");
  const pwfile = join(dir, "pwfile");
  writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
  if (asRoot) {
    const ids = spawnSync("id", ["-u", "postgres"], { encoding: "utf8" });
    const gid = spawnSync("id", ["-g", "postgres"], { encoding: "utf8" });
    if (ids.status !== 0) throw new Error(`running as root and there is no postgres user. ${INSTALL_HINT}`);
    chownSync(dir, Number(ids.stdout.trim()), Number(gid.stdout.trim()));
    chownSync(pwfile, Number(ids.stdout.trim()), Number(gid.stdout.trim()));
  }
  const as = (cmd: string, args: string[]) =>
    asRoot ? run("runuser", ["-u", "postgres", "--", join(bin, cmd), ...args]) : run(join(bin, cmd), args);
  if (from) {
    // A copy of the running primary that follows it (standby.signal + primary_conninfo written by -R).
    await as("pg_basebackup", ["-d", from.adminUrl, "-D", data, "-R", "-X", "stream", "--no-sync"]);
  } else
    await as("initdb", [
      "-D",
      data,
      "-U",
      "airlock",
      "--pwfile",
      pwfile,
      "--auth=scram-sha-256",
      "--no-sync",
      "-E",
      "UTF8",
      "--locale=C",
    ]);
  let port = 0;
  const startOn = (p: number) => {
    const opts = [
      `-c listen_addresses=127.0.0.1`,
      `-p ${p}`,
      `-c unix_socket_directories=${dir}`,
      "-c fsync=off",
      "-c full_page_writes=off",
      "-c max_connections=100",
    ].join(" ");
    return as("pg_ctl", ["-D", data, "-l", join(dir, "log"), "-o", opts, "-w", "-t", "60", "start"]);
  };
  for (let attempt = 0; ; attempt++) {
    port = await freePort();
    try {
      await startOn(port);
      break;
    } catch (err) {
      if (attempt >= 2) throw err; // the port may have been taken between probing and binding
    }
  }
  let stopped = false;
  const stopSync = () => {
    if (stopped) return;
    stopped = true;
    const args = ["-D", data, "-m", "immediate", "-w", "stop"];
    if (asRoot) spawnSync("runuser", ["-u", "postgres", "--", join(bin, "pg_ctl"), ...args]);
    else spawnSync(join(bin, "pg_ctl"), args);
    rmSync(dir, { recursive: true, force: true });
  };
  // A test process that ends without calling stop() must not leave a server behind: on a normal exit the hook
  // stops it; if the process is killed (a test runner's timeout), a detached watchdog does once our pid is gone.
  process.once("exit", stopSync);
  const pgCtl = asRoot ? `runuser -u postgres -- '${join(bin, "pg_ctl")}'` : `'${join(bin, "pg_ctl")}'`;
  const watchdog = spawn(
    "sh",
    [
      "-c",
      `while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done; ${pgCtl} -D '${data}' -m immediate -w stop >/dev/null 2>&1; rm -rf '${dir}'`,
    ],
    { detached: true, stdio: "ignore" },
  );
  watchdog.unref();
  const adminUrl = `postgres://airlock:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`;
  return {
    adminUrl,
    port,
    async stopServer(mode = "fast") {
      await as("pg_ctl", ["-D", data, "-m", mode, "-w", "stop"]);
    },
    async startServer() {
      await startOn(port);
    },
    replicate: () => startCluster(binRoot, { adminUrl, password }),
    async promote() {
      await as("pg_ctl", ["-D", data, "-w", "promote"]);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      process.off("exit", stopSync);
      if (watchdog.pid !== undefined) {
        try {
          process.kill(watchdog.pid);
        } catch {
          // already gone
        }
      }
      await as("pg_ctl", ["-D", data, "-m", "fast", "-w", "stop"]).catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

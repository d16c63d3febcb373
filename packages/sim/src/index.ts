// startSimulator: wires the store, registry, auth, controllers and HTTPS server of `airlock sim` and writes a
// kubeconfig for it. A test and demo tool: it binds to loopback by default.
//
// Security stance: the CA key and the admin token live in DIR with mode 0600 and are reused on restart, so an
// existing kubeconfig keeps working; the server certificate is re-issued on every start.
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync } from "node:fs";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { isIP } from "node:net";
import { join } from "node:path";
import { stringify as toYaml } from "yaml";
import type { ApiContext } from "./api/context.ts";
import { createAuth } from "./auth/index.ts";
import type { ObjectStore, ResourceRegistry } from "./contracts.ts";
import { startControllers } from "./controllers/index.ts";
import { syncCrds } from "./crd.ts";
import { createRequestLog } from "./record.ts";
import { createRegistry } from "./registry.ts";
import { seedDemo } from "./seed.ts";
import { createSimServer } from "./server.ts";
import { createMemoryStore } from "./store.ts";
import { closeSessions, handlePodLog, handlePodProxy, handleStreamUpgrade } from "./streams/index.ts";
import { chooseIsolation, type ExecIsolation } from "./streams/isolation.ts";
import { createCa, issueServerCert } from "./tls.ts";

export interface SimulatorOptions {
  host?: string;
  port?: number;
  dir: string;
  seed?: "demo" | "empty";
  log?: (line: string) => void;
  /** How often watches that asked for bookmarks get one (default 5 s). */
  bookmarkIntervalMs?: number;
  /**
   * The service-account issuer (`iss` of issued tokens, published by OIDC discovery): a URL, or "self" for the
   * simulator's own URL, as clusters that let relying parties fetch discovery from the API server set it.
   * Default https://kubernetes.default.svc.cluster.local.
   */
  serviceAccountIssuer?: string;
  /**
   * Run exec'd commands as plain host processes when no sandbox (bubblewrap) works, instead of refusing exec
   * (`airlock sim --unsafe-exec`). Uncontained: a pod's commands can read and write whatever the simulator can.
   */
  unsafeExec?: boolean;
  /** The bwrap executable (default: found on PATH); tests point it elsewhere to see the no-sandbox path. */
  bwrap?: string;
}

export interface Simulator {
  url: string;
  port: number;
  caPem: string;
  adminToken: string;
  kubeconfigPath: string;
  store: ObjectStore;
  registry: ResourceRegistry;
  /** How exec'd commands are contained: bwrap, or why not (refused, or unsafe when asked for). */
  isolation: ExecIsolation;
  close(): Promise<void>;
}

export const BASE_NAMESPACES = ["default", "kube-system", "kube-public", "kube-node-lease"];

async function readOrCreate(path: string, create: () => string): Promise<string> {
  if (existsSync(path)) return readFile(path, "utf8");
  const value = create();
  await writeFile(path, value, { mode: 0o600 });
  await chmod(path, 0o600);
  return value;
}

export function kubeconfigFor(url: string, caPem: string, token: string): string {
  return toYaml({
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      {
        name: "airlock-sim",
        cluster: { server: url, "certificate-authority-data": Buffer.from(caPem).toString("base64") },
      },
    ],
    users: [{ name: "sim-admin", user: { token } }],
    contexts: [
      { name: "airlock-sim", context: { cluster: "airlock-sim", user: "sim-admin", namespace: "default" } },
    ],
    "current-context": "airlock-sim",
  });
}

export async function startSimulator(opts: SimulatorOptions): Promise<Simulator> {
  const host = opts.host ?? "127.0.0.1";
  await mkdir(opts.dir, { recursive: true });
  const caCert = join(opts.dir, "ca.crt");
  const caKey = join(opts.dir, "ca.key");
  let ca: { certPem: string; keyPem: string };
  if (existsSync(caCert) && existsSync(caKey)) {
    ca = { certPem: await readFile(caCert, "utf8"), keyPem: await readFile(caKey, "utf8") };
  } else {
    ca = createCa("airlock-sim-ca");
    await writeFile(caKey, ca.keyPem, { mode: 0o600 });
    await writeFile(caCert, ca.certPem);
  }
  const adminToken = (
    await readOrCreate(join(opts.dir, "admin-token"), () => randomBytes(32).toString("hex"))
  ).trim();
  const tls = issueServerCert(ca, {
    commonName: "airlock-sim",
    dnsNames: ["localhost", ...(isIP(host) ? [] : [host])],
    ips: ["127.0.0.1", "::1", ...(isIP(host) === 4 && host !== "127.0.0.1" ? [host] : [])],
  });

  const store = createMemoryStore();
  const registry = createRegistry();
  const stopCrds = syncCrds(store, registry);
  const nsType = registry.find("", "v1", "namespaces");
  for (const name of BASE_NAMESPACES) {
    if (nsType && !store.get(nsType, "", name)) {
      store.create(nsType, {
        apiVersion: "v1",
        kind: "Namespace",
        metadata: { name, labels: { "kubernetes.io/metadata.name": name } },
        spec: { finalizers: ["kubernetes"] },
        status: { phase: "Active" },
      });
    }
  }
  if (opts.seed === "demo") seedDemo(store, registry);
  const controllers = startControllers(store, registry, {
    rootCaPem: ca.certPem,
    log: (message, err) =>
      opts.log?.(`controllers: ${message}${err ? `: ${(err as Error).message ?? err}` : ""}`),
  });
  let url = "";
  const saIssuer = opts.serviceAccountIssuer;
  const auth = createAuth({
    adminToken,
    store,
    registry,
    dir: opts.dir,
    ...(saIssuer ? { issuer: () => (saIssuer === "self" ? url : saIssuer) } : {}),
  });
  const ctx: ApiContext = {
    store,
    registry,
    auth,
    now: () => new Date(),
    bookmarkIntervalMs: opts.bookmarkIntervalMs ?? 5000,
    watchQueueLimit: 1000,
    sandboxRoot: join(opts.dir, "pods"),
  };
  mkdirSync(ctx.sandboxRoot, { recursive: true });
  const isolation = chooseIsolation({
    probeDir: ctx.sandboxRoot,
    hostPath: process.env.PATH ?? "",
    ...(opts.unsafeExec ? { unsafeExec: true } : {}),
    ...(opts.bwrap ? { bwrap: opts.bwrap } : {}),
  });
  if (isolation.kind !== "bwrap") {
    // Loud on purpose: without a sandbox an exec'd command is a host process.
    opts.log?.(
      isolation.kind === "refuse"
        ? `WARNING: no exec sandbox (${isolation.reason}): exec is refused. Install bubblewrap, or pass --unsafe-exec to run commands unsandboxed.`
        : `WARNING: no exec sandbox (${isolation.reason}): --unsafe-exec runs exec'd commands as UNSANDBOXED host processes.`,
    );
  }
  const streamCtx = { store, types: registry, sandboxRoot: ctx.sandboxRoot, isolation };
  const requests = createRequestLog();
  const server = createSimServer({
    ctx,
    requests,
    tls,
    streams: {
      handlePodLog: (route, req, res) => handlePodLog(streamCtx, route, req, res),
      handlePodProxy: (route, req, res) => handlePodProxy(streamCtx, route, req, res),
      handleStreamUpgrade: (u) => handleStreamUpgrade(streamCtx, u),
    },
    serverAddress: () => url.replace(/^https:\/\//, ""),
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  url = `https://${host.includes(":") ? `[${host}]` : host}:${port}`;
  const kubeconfigPath = join(opts.dir, "sim.kubeconfig");
  await writeFile(kubeconfigPath, kubeconfigFor(url, ca.certPem, adminToken), { mode: 0o600 });
  opts.log?.(`airlock sim listening on ${url}`);

  let closed: Promise<void> | undefined;
  return {
    url,
    port,
    caPem: ca.certPem,
    adminToken,
    kubeconfigPath,
    isolation,
    store,
    registry,
    close() {
      closed ??= new Promise<void>((resolve) => {
        controllers.stop();
        stopCrds();
        closeSessions(streamCtx);
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closed;
    },
  };
}

// startGateway: wires the parts of a gateway from a validated config and starts listening.
import { once } from "node:events";
import { mkdir } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { ADMIN_PREFIX, type AdminApi, createAdminApi } from "../admin/index.ts";
import { startAuditService } from "../audit/service.ts";
import { loadOrCreateSigningKey } from "../audit/signing.ts";
import type { GatewayConfig } from "../gateway/config.ts";
import { openDecider } from "../gateway/decide.ts";
import { createMetrics } from "../gateway/metrics.ts";
import type { GatewayRuntime } from "../gateway/runtime.ts";
import { chainCheck } from "../identity/chain.ts";
import type { OAuthTestHooks } from "../identity/oauth-config.ts";
import { createIdentityService } from "../identity/service.ts";
import { StreamRegistry } from "../identity/streams.ts";
import { createWorkloadAuthenticator } from "../identity/workload/index.ts";
import { notReady } from "../kube/refusals.ts";
import { sendStatus } from "../kube/status.ts";
import { startMcpOAuth } from "../mcp/oauth/index.ts";
import { SharedRateLimiter } from "../policy/shared-limiter.ts";
import { RecordingService } from "../recording/service.ts";
import { createReviews } from "../review/index.ts";
import { createLogger, type Logger } from "../shared/log.ts";
import { openStore, storeOptionsFor } from "../store/index.ts";
import { type EventBus, openEventBus, reviewBusOn, shareCutOffs } from "../store/notify.ts";
import type { Store } from "../store/types.ts";
import { openUpstreams, UpstreamRegistry } from "../upstream/index.ts";
import type { TunnelHub } from "../upstream/tunnel-hub.ts";
import { createTunnels } from "./agents.ts";
import { ensureAdminToken } from "./bootstrap.ts";
import { createGatewayServer } from "./listener.ts";
import { type Reloader, startReloader } from "./reload.ts";
import { endDelegation, endInFlight, withdrawingOnCutOff } from "./revocation.ts";
import { shutDown } from "./shutdown.ts";
import { loadTlsMaterial } from "./tls-material.ts";
import { forwardingStore, type PrimaryClient } from "./worker-ipc.ts";

export interface Gateway {
  url: string;
  port: number;
  caPem: string;
  /** The agent port (tunnel clusters; docs/agent.md), when `agents` is configured; hub: the connected agents. */
  agents?: { port: number; url: string; hub: TunnelHub };
  adminTokenPath: string;
  store: Store;
  runtime: GatewayRuntime;
  /**
   * Applies a reloaded configuration (SIGHUP): limits, shutdown and log level take effect, TLS material is re-read;
   * other changed settings are named as needing a restart (src/server/reload.ts).
   */
  reload(config: GatewayConfig): ReturnType<Reloader["reloadConfig"]>;
  /** Graceful shutdown (src/server/shutdown.ts); the grace period defaults to shutdown.gracePeriodSeconds. */
  close(gracePeriodSeconds?: number): Promise<void>;
}

export interface StartOptions {
  /** Where logs go; defaults to stdout. */
  logDestination?: NodeJS.WritableStream;
  log?: Logger;
  /** Environment for in-cluster and exec-plugin credentials (library code does not read process.env). */
  env?: Record<string, string | undefined>;
  /**
   * The clock (epoch ms) the store and the identities judge expiry by (tokens, sessions, certificates, rotation
   * overlaps, identity expiry): tests move it instead of waiting. Defaults to Date.now.
   */
  now?: () => number;
  /**
   * Test-only switches of the MCP OAuth server (allow a loopback host for client metadata documents, trust its CA).
   * Deliberately a start option, not a config key: airlock.yaml cannot reach it (docs/mcp.md).
   */
  oauthTestHooks?: OAuthTestHooks;
  /**
   * This gateway is worker `number` of `airlock serve --workers N` (src/server/workers.ts): chained audit writes and
   * shared counters go to the primary; `bus` (SQLite) carries cut-offs, review decisions and policy reloads to the
   * other workers. The primary runs the audit service (checkpoints, retention, sinks), not the workers.
   */
  worker?: { number: number; primary: PrimaryClient; bus?: EventBus };
}

function agentHost(config: GatewayConfig): string {
  const address = config.agents?.listen.address ?? "127.0.0.1";
  return address === "0.0.0.0" ? "127.0.0.1" : address;
}

/** Rate limits and sign-in throttles counted in the store (several replicas or workers), not in this process. */
export function sharesCounters(config: Pick<GatewayConfig, "store" | "workers">): boolean {
  return config.store.kind === "postgres" || config.workers > 1;
}

/** Policy reloads announced on the bus: every worker reads the files at once (they share the data directory). */
const POLICY_RELOADED = "policy.reloaded";

export async function startGateway(config: GatewayConfig, opts: StartOptions = {}): Promise<Gateway> {
  const rootLog =
    opts.log ??
    createLogger({
      level: config.log.level,
      ...(opts.logDestination ? { destination: opts.logDestination } : {}),
    });
  const log = opts.worker ? rootLog.child({ worker: opts.worker.number }) : rootLog;
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  // Policies first: files that do not load stop the start before anything else is opened.
  const policy = await openDecider(config, log);
  const tls = await loadTlsMaterial(config);
  const adminToken = await ensureAdminToken(config.dataDir);
  // The store and its event bus (in-process for SQLite; LISTEN/NOTIFY, shared by the replicas, for PostgreSQL).
  const storeOptions = storeOptionsFor(config.store, config.dataDir, log);
  const opened = await openStore({
    ...(storeOptions.kind === "sqlite"
      ? { ...storeOptions, durability: config.audit.durability }
      : storeOptions),
    ...(opts.now ? { now: opts.now } : {}),
  });
  const store = opts.worker ? forwardingStore(opened, opts.worker.primary) : opened;
  const events = await (opts.worker?.bus
    ? Promise.resolve(opts.worker.bus)
    : openEventBus(storeOptions, log)
  ).catch(async (err: unknown) => {
    await store.close();
    throw err;
  });
  // All clusters open or none (a failed one closes the others' pools); events carry their own severity.
  // Tunnel clusters (`tunnel: {}`) are reached through their agents (src/server/agents.ts); the others are dialled.
  const tunnels = createTunnels(config);
  const dialled = config.clusters.filter((c): c is Exclude<typeof c, { tunnel: object }> => !("tunnel" in c));
  const upstreamList = await openUpstreams(dialled, {
    log: (event) => {
      const severity = (event as { severity?: string }).severity;
      if (severity === "error") log.error(event, "upstream");
      else if (severity === "warn") log.warn(event, "upstream");
      else log.info(event, "upstream");
    },
    ...(opts.env ? { env: opts.env } : {}),
  });
  const upstreams = new UpstreamRegistry(
    [...upstreamList, ...tunnels.upstreams],
    config.defaultCluster ?? config.clusters[0]?.name ?? "",
  );
  const streams = new StreamRegistry();
  // From here on policy reloads are chained (the set in force first); a reload that cannot be recorded is refused.
  await policy.engine?.recordReloadsWith((note) => store.audit.note(note));
  // The audit signing key, periodic checkpoints, retention and sinks (the write-ahead record itself is the store's).
  // A worker only needs the public key (the admin API serves it); the primary created it before any worker started.
  const audit = opts.worker
    ? { key: await loadOrCreateSigningKey(config.dataDir), close: async () => {} }
    : await startAuditService({
        store,
        dataDir: config.dataDir,
        config: config.audit,
        log,
        stdout: process.stdout,
      });
  // Identities: the authenticator chain (tokens, sessions, client certificates) and cutting off live streams.
  // Workload tokens (OIDC, service accounts via TokenReview, EKS IAM tokens) follow as the chain's last link.
  const workload = await createWorkloadAuthenticator(config.identity, {
    store,
    upstreams,
    log: (event) => log.info(event, "workload identity"),
  });
  const identities = await createIdentityService({
    dataDir: config.dataDir,
    store,
    streams,
    log,
    extraAuthenticators: [workload],
    ...(opts.now ? { now: opts.now } : {}),
  });
  const runtime: GatewayRuntime = {
    config,
    store,
    upstreams,
    // Several replicas (PostgreSQL) or workers: rate limits are counted in the shared store, not in this process.
    decider:
      sharesCounters(config) && policy.engine
        ? { ...policy.engine, ...policy.engine.withLimiter(new SharedRateLimiter(store, log)) }
        : policy.decider,
    streams,
    metrics: createMetrics(),
    log,
    authenticate: identities.authenticate,
    recordings: new RecordingService({ store, dataDir: config.dataDir, config: config.recording, log }),
  };
  // /mcp's OAuth 2.1 authorization server (src/mcp/oauth): its token key, and the live config for its clients.
  runtime.mcpOAuth = await startMcpOAuth({
    config: () => runtime.config,
    store,
    log,
    ...(opts.now ? { now: opts.now } : {}),
    ...(opts.oauthTestHooks ? { hooks: opts.oauthTestHooks } : {}),
  });
  let ready = false;
  // The admin API is built once the listening address is known (it writes kubeconfigs naming it); until then the
  // server answers 503 through isReady.
  let adminApi: AdminApi | undefined;
  const admin: AdminApi = {
    handles: (path) => path.startsWith(ADMIN_PREFIX) || path === ADMIN_PREFIX.slice(0, -1),
    authenticate: async (req) => adminApi?.authenticate(req),
    handle: async (req, res, principal) => {
      if (adminApi) return adminApi.handle(req, res, principal);
      sendStatus(res, notReady());
    },
  };
  const { server, guard, handlers } = createGatewayServer(
    runtime,
    tls,
    admin,
    () => ready,
    { caPem: identities.caPem },
    opts.worker?.number,
  );
  server.listen(config.listen.port, config.listen.address);
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  const host = config.listen.address === "0.0.0.0" ? "127.0.0.1" : config.listen.address;
  const url = `https://${host}:${port}`;
  // The port agents dial out to (tunnel clusters; src/agent): after the store, metrics and TLS material exist.
  const agentPort = await tunnels.listen({
    table: store.counters,
    note: (note) => store.audit.note(note),
    registry: runtime.metrics.registry,
    tls,
    ...(opts.now ? { now: opts.now } : {}),
    log,
    bus: events,
  });
  runtime.reviews = createReviews({
    store,
    config: config.reviews,
    baseUrl: url,
    log,
    bus: reviewBusOn(events, log),
    chain: chainCheck(store),
  });
  // Cut-offs (revoke, disable, rotation, expiry) close live streams on every replica, not only this one.
  const cutOffs = shareCutOffs({ bus: events, store, local: identities, log });
  // Workers share the data directory: a reload one of them took (a file edit, the admin API) is read by all at once.
  const policyShare =
    config.workers > 1 && policy.engine
      ? [
          policy.engine.onReload(() => {
            events
              .publish(POLICY_RELOADED, "", { local: false })
              .catch((err: Error) => log.warn({ err: err.message }, "announcing a policy reload failed"));
          }),
          events.subscribe(POLICY_RELOADED, () => void policy.engine?.reload()),
        ]
      : [];
  // Cut-offs also end what the identity has in flight: delegations, reviews, grants (issue 15).
  const inFlight = { store, reviews: runtime.reviews, log };
  const adminIdentities = withdrawingOnCutOff(cutOffs.wrap(identities), inFlight);
  adminApi = createAdminApi({
    store,
    ...(opts.now ? { now: opts.now } : {}),
    adminTokenHash: adminToken.hash,
    gatewayUrl: url,
    caPem: tls.caPem,
    reviews: runtime.reviews,
    policies: policy.engine,
    identities: adminIdentities,
    audit: { publicKey: audit.key.publicKey, publicKeyPem: audit.key.publicKeyPem },
    recordingsDir: runtime.recordings?.dir,
    upstreams,
    ...(agentPort ? { agents: agentPort.admin } : {}),
    log,
    onRevoke: async (identity) => {
      const why = `identity ${identity.name} was revoked`;
      const closed = await cutOffs.identity(identity, why);
      await endInFlight(
        inFlight,
        identity,
        why,
        (d, reason) => void endDelegation(inFlight, adminIdentities, d, reason),
      );
      log.info({ identity: identity.name, closedStreams: closed }, "identity revoked; live streams closed");
    },
  });
  // TLS files are watched (content hash) and the reloadable config sections applied on reload, without dropping
  // connections.
  const reloader = await startReloader(
    {
      server,
      log,
      current: () => runtime.config,
      apply: (next) => {
        runtime.config = next;
        log.level = next.log.level;
        guard.apply();
      },
      loadTls: loadTlsMaterial,
      contextExtras: { ca: identities.caPem },
      ...(agentPort ? { onTls: (material) => agentPort.listener.setTls(material) } : {}),
    },
    tls,
  );
  ready = true;
  return {
    url,
    port,
    caPem: tls.caPem,
    ...(agentPort
      ? {
          agents: {
            port: agentPort.listener.port,
            url: `https://${agentHost(config)}:${agentPort.listener.port}`,
            hub: tunnels.hub,
          },
        }
      : {}),
    adminTokenPath: adminToken.path,
    store,
    runtime,
    reload: (next) => reloader.reloadConfig(next),
    async close(gracePeriodSeconds = runtime.config.shutdown.gracePeriodSeconds) {
      // src/server/shutdown.ts: not ready, stop accepting, end streams with a Status, let requests finish, flush.
      await shutDown(
        {
          server,
          guard,
          handlers,
          streams,
          log,
          notReady: () => {
            ready = false;
          },
          stopBackground: () => {
            reloader.stop();
            identities.close();
            policy.engine?.close();
            for (const stop of policyShare) stop();
          },
          closeServices: async () => {
            await tunnels.close();
            upstreams.close();
            await runtime.recordings?.close();
            await audit.close();
            cutOffs.stop();
            await events.close();
            await store.close();
          },
        },
        gracePeriodSeconds,
      );
    },
  };
}

// A simulator and a gateway in front of it, for end-to-end tests: one pair per test file.

import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { type Simulator, startSimulator } from "@airlock/sim";
import { buildKubeconfig } from "../../src/admin/index.ts";
import { validateConfig } from "../../src/gateway/config.ts";
import type { Decider } from "../../src/gateway/decide.ts";
import type { OAuthTestHooks } from "../../src/identity/oauth-config.ts";
import { type Gateway, startGateway } from "../../src/server/index.ts";

export interface TestGateway {
  dir: string;
  sim: Simulator;
  gateway: Gateway;
  /** Everything the gateway logged, for tests that check what is (not) in the logs. */
  logs: string[];
  /** Creates an identity and a kubeconfig for it; returns the token and the kubeconfig path. */
  addIdentity(
    name: string,
    kind: "agent" | "human",
    groups?: string[],
  ): Promise<{ token: string; kubeconfig: string; id: string }>;
  close(): Promise<void>;
}

export async function startTestGateway(
  opts: {
    policy?: "allow-authenticated" | "deny-all";
    /** Policy files or directories (the policy engine); replaces `policy`. */
    policyFiles?: string[];
    seed?: "demo" | "empty";
    /** Replaces the configured decider (tests that need review or deny decisions before the policy engine). */
    decider?: Decider;
    /** The `reviews` section of airlock.yaml. */
    reviews?: Record<string, unknown>;
    /** The `identity` section of airlock.yaml (issuers, rules, sign-in throttle). */
    identity?: Record<string, unknown>;
    /** The `limits` section of airlock.yaml. */
    limits?: Record<string, unknown>;
    /** Reach the simulator through another address (a fault proxy): the kubeconfig names this port instead. */
    upstreamPort?: (simPort: number) => Promise<number>;
    /** The gateway's clock for expiry (StartOptions.now): a test moves it instead of waiting. */
    now?: () => number;
    /**
     * The `agents` section: the cluster "sim" becomes a tunnel cluster (no address, no credential in the gateway's
     * configuration), reached only through agents (test/agent; the agent gets the simulator's kubeconfig).
     */
    agents?: Record<string, unknown>;
    /** With `agents`: the tunnel clusters (default ["sim"]); the first is the default cluster. */
    tunnelClusters?: string[];
    /** The `mcp` section of airlock.yaml (the OAuth server of /mcp). */
    mcp?: Record<string, unknown>;
    /** StartOptions.oauthTestHooks (test-only: a loopback host allowed for client metadata documents). */
    oauthTestHooks?: OAuthTestHooks;
  } = {},
): Promise<TestGateway> {
  const dir = await mkdtemp(join(tmpdir(), "airlock-gw-test-"));
  const sim = await startSimulator({ dir: join(dir, "sim"), port: 0, seed: opts.seed ?? "demo" });
  let kubeconfigPath = sim.kubeconfigPath;
  if (opts.upstreamPort) {
    const simPort = Number(new URL(sim.url).port);
    const via = await opts.upstreamPort(simPort);
    kubeconfigPath = join(dir, "upstream.kubeconfig");
    const text = await readFile(sim.kubeconfigPath, "utf8");
    await writeFile(kubeconfigPath, text.replaceAll(`127.0.0.1:${simPort}`, `127.0.0.1:${via}`), {
      mode: 0o600,
    });
  }
  const validated = validateConfig(
    {
      listen: { address: "127.0.0.1", port: 0 },
      dataDir: join(dir, "gateway"),
      clusters: opts.agents
        ? (opts.tunnelClusters ?? ["sim"]).map((name) => ({ name, tunnel: {} }))
        : [{ name: "sim", kubeconfig: { path: kubeconfigPath } }],
      ...(opts.agents ? { agents: opts.agents } : {}),
      policy: opts.policyFiles
        ? { files: opts.policyFiles }
        : { builtin: opts.policy ?? "allow-authenticated" },
      ...(opts.reviews ? { reviews: opts.reviews } : {}),
      ...(opts.identity ? { identity: opts.identity } : {}),
      ...(opts.limits ? { limits: opts.limits } : {}),
      ...(opts.mcp ? { mcp: opts.mcp } : {}),
      // Tests close their gateway with nothing left running; a leftover is cut after 2 s, not the default 25 s.
      shutdown: { gracePeriodSeconds: 2 },
      log: { level: "info" },
    },
    dir,
  );
  if (!validated.ok) throw new Error(validated.errors.join("; "));
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      logs.push(String(chunk));
      cb();
    },
  });
  const gateway = await startGateway(validated.config, {
    logDestination: sink,
    ...(opts.now ? { now: opts.now } : {}),
    ...(opts.oauthTestHooks ? { oauthTestHooks: opts.oauthTestHooks } : {}),
  });
  if (opts.decider) gateway.runtime.decider = opts.decider;
  return {
    dir,
    sim,
    gateway,
    logs,
    async addIdentity(name, kind, groups = []) {
      const { identity, token } = await gateway.store.identities.create({ name, kind, groups });
      const kubeconfig = join(dir, `${name}.kubeconfig`);
      await writeFile(
        kubeconfig,
        buildKubeconfig({
          server: gateway.url,
          caPem: gateway.caPem,
          identity: name,
          token,
          namespace: "prod",
        }),
        { mode: 0o600 },
      );
      return { token, kubeconfig, id: identity.id };
    },
    async close() {
      await gateway.close();
      await sim.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * One JSON request to a test gateway (the admin API or the Kubernetes API) with a bearer token; the answer's body is
 * parsed when there is one. Shared by the tests that drive the gateway over raw HTTPS.
 */
export function callGateway(
  gw: TestGateway,
  method: string,
  path: string,
  token: string,
  body?: unknown,
  // biome-ignore lint/suspicious/noExplicitAny: JSON answers of many shapes; each test reads the fields it asserts
): Promise<{ code: number; body: any }> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { authorization: `Bearer ${token}` };
    if (payload) headers["content-type"] = "application/json";
    const req = request(`${gw.gateway.url}${path}`, { method, headers, ca: gw.gateway.caPem }, (res) => {
      let text = "";
      res.setEncoding("utf8").on("data", (d: string) => {
        text += d;
      });
      res.on("end", () => resolve({ code: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined }));
    });
    req.on("error", reject);
    req.end(payload);
  });
}

// The gateway's agent port: where agents dial out to (docs/agent.md). One TLS listener, two uses chosen by ALPN:
//   - "airlock-tunnel": the tunnel. The agent's client certificate is checked (agent CA, validity at the gateway's
//     clock, the cluster in it against the stored agent record, not revoked, a tunnel cluster of this gateway); then
//     the gateway speaks HTTP/2 as the CLIENT on the connection the agent dialled (the agent is the HTTP/2 server, via
//     node:http2 performServerHandshake), and every request for the cluster is one stream it opens (tunnel-hub.ts).
//   - "http/1.1" (or none): POST /join (a one-time join token and the agent's public key for a client certificate)
//     and POST /renew (the current certificate and a fresh public key for a new one, before it expires). The agent's
//     private keys never leave it.
//
// Why HTTP/2 in reverse rather than a home-made multiplexer: node:http2 gives streams, flow control per stream and per
// connection, GOAWAY for graceful rotation and PING for liveness, and each stream carries an ordinary HTTP/1.1 request
// (or upgrade), so the forwarder is the one every cluster uses. Refusals are told to the agent on the tunnel itself
// (a POST /airlock/refused stream with the reason) before it is closed, so the agent logs why.
import type { X509Certificate } from "node:crypto";
import { once } from "node:events";
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import tls, { type TLSSocket } from "node:tls";
import type { AuditNote } from "../audit/types.ts";
import { badRequest, forbiddenHere, notFound, unauthorized } from "../kube/refusals.ts";
import type { Status } from "../kube/status.ts";
import { type TunnelHub, TunnelLink } from "../upstream/tunnel-hub.ts";
import { type AgentCa, type AgentSubject, acceptablePublicKey } from "./ca.ts";
import type { AgentMetrics } from "./metrics.ts";
import type { AgentRecord, AgentState } from "./state.ts";

export const TUNNEL_ALPN = "airlock-tunnel";
const MAX_BODY = 16 * 1024;
const PING_MS = 20_000;
const HELLO_TIMEOUT_MS = 10_000;

export interface AgentListenerOptions {
  address: string;
  port: number;
  /** The gateway's serving certificate (the agent pins the CA that signed it). */
  tls: { certPem: string; keyPem: string };
  ca: AgentCa;
  state: AgentState;
  hub: TunnelHub;
  /** The clusters configured with `tunnel: {}`. */
  tunnelClusters: ReadonlySet<string>;
  /** Lifetime of issued agent certificates. */
  certificateSeconds: number;
  now: () => number;
  log: { info(o: object, m: string): void; warn(o: object, m: string): void };
  metrics: AgentMetrics;
  note: (note: AuditNote) => Promise<unknown>;
}

export interface AgentListener {
  port: number;
  /** Serves new connections with reloaded TLS material (the gateway's certificate rotated). */
  setTls(tls: { certPem: string; keyPem: string }): void;
  close(): Promise<void>;
}

/**
 * How long before its certificate ends a tunnel stops being chosen while the cluster has another one: a tenth of the
 * time it has left, between 1 s and 60 s (an agent renews at two thirds of its certificate's life, long before).
 */
export function drainMs(leftMs: number): number {
  return Math.min(60_000, Math.max(1_000, Math.floor(leftMs / 10)));
}

type Checked = { ok: true; subject: AgentSubject; record: AgentRecord } | { ok: false; why: string };

function sendJson(res: ServerResponse, code: number, body: object): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { "content-type": "application/json", "cache-control": "no-store" });
  res.end(text);
}

const sendStatus = (res: ServerResponse, status: Status) => sendJson(res, status.code, status);

async function readJson(req: IncomingMessage): Promise<Record<string, unknown> | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) return undefined;
    chunks.push(chunk as Buffer);
  }
  try {
    const parsed: unknown = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    return parsed && typeof parsed === "object" && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

const JOIN_REFUSALS: Record<string, string> = {
  unknown: "the join token is not one this gateway issued",
  used: "the join token was already used (a join token works once; create another)",
  expired: "the join token expired (create another with airlock cluster join-token create)",
  "other-cluster": "the join token was created for another cluster",
};

export async function startAgentListener(opts: AgentListenerOptions): Promise<AgentListener> {
  const { ca, state, hub, metrics, log } = opts;

  const check = async (socket: TLSSocket): Promise<Checked> => {
    // OpenSSL's own check first (signed by the agent CA, within validity by the system clock), then ours at the
    // gateway's clock with the stored record: either failing refuses.
    const cert: X509Certificate | undefined = socket.getPeerX509Certificate();
    if (!cert) return { ok: false, why: "no client certificate (join first)" };
    if (!socket.authorized)
      return { ok: false, why: `the certificate is not one the agent CA issued or it is not valid now` };
    const subject = ca.verify(cert, opts.now());
    if (!subject)
      return { ok: false, why: "the certificate is expired, not yet valid or not an agent certificate" };
    const record = await state.agent(subject.agentId);
    if (!record) return { ok: false, why: `agent ${subject.agentId} is unknown to this gateway` };
    if (record.revokedMs !== undefined) return { ok: false, why: `agent ${subject.agentId} was revoked` };
    if (record.cluster !== subject.cluster)
      return { ok: false, why: `the certificate names cluster "${subject.cluster}", not the agent's` };
    if (!opts.tunnelClusters.has(subject.cluster))
      return { ok: false, why: `cluster "${subject.cluster}" is not a tunnel cluster of this gateway` };
    return { ok: true, subject, record };
  };

  const issue = (agent: AgentRecord, publicKeyPem: string) => {
    const cert = ca.issue(agent.id, agent.cluster, opts.certificateSeconds, publicKeyPem);
    return {
      agentId: agent.id,
      cluster: agent.cluster,
      certPem: cert.certPem,
      caPem: ca.caPem,
      expiresAt: cert.expiresAt,
    };
  };
  const NO_KEY = badRequest(
    "airlock: a join or renewal sends the agent's public key (publicKey: SPKI PEM, EC P-256/P-384 or RSA ≥ 2048)",
  );

  const join = async (req: IncomingMessage, res: ServerResponse) => {
    const body = await readJson(req);
    const token = typeof body?.token === "string" ? body.token : "";
    const cluster = typeof body?.cluster === "string" ? body.cluster : "";
    if (!token || !cluster)
      return sendStatus(res, badRequest('a join needs {"cluster": NAME, "token": TOKEN}'));
    // Checked before the token is used up: a malformed request does not cost the operator a token.
    const publicKey = acceptablePublicKey(body?.publicKey);
    if (!publicKey) return sendStatus(res, NO_KEY);
    if (!opts.tunnelClusters.has(cluster)) {
      metrics.joins.inc({ result: "refused" });
      return sendStatus(
        res,
        forbiddenHere(
          `airlock: cluster "${cluster}" is not a tunnel cluster of this gateway (clusters[].tunnel)`,
        ),
      );
    }
    const result = await state.join(token, cluster);
    if (!result.ok) {
      metrics.joins.inc({ result: result.why });
      log.warn({ event: "agent.join.refused", cluster, why: result.why }, "agent join refused");
      return sendStatus(res, unauthorized(`airlock: agent join refused: ${JOIN_REFUSALS[result.why]}`));
    }
    const answer = issue(result.agent, publicKey);
    // Access is given by the certificate: the note is written before it is handed out.
    await opts.note({
      type: "agent.joined",
      actor: result.agent.id,
      subject: cluster,
      detail: {
        agent: result.agent.id,
        address: req.socket.remoteAddress ?? "",
        expiresAt: answer.expiresAt,
      },
    });
    metrics.joins.inc({ result: "ok" });
    log.info({ event: "agent.joined", cluster, agent: result.agent.id }, "agent joined");
    sendJson(res, 201, answer);
  };

  const renew = async (req: IncomingMessage, res: ServerResponse) => {
    const checked = await check(req.socket as TLSSocket);
    if (!checked.ok) {
      metrics.renewals.inc({ result: "refused" });
      return sendStatus(res, unauthorized(`airlock: agent certificate renewal refused: ${checked.why}`));
    }
    const publicKey = acceptablePublicKey((await readJson(req))?.publicKey);
    if (!publicKey) return sendStatus(res, NO_KEY);
    metrics.renewals.inc({ result: "ok" });
    log.info(
      { event: "agent.renewed", cluster: checked.record.cluster, agent: checked.record.id },
      "agent renewed",
    );
    sendJson(res, 201, issue(checked.record, publicKey));
  };

  const api = http.createServer((req, res) => {
    const path = (req.url ?? "").split("?")[0];
    const run =
      req.method === "POST" && path === "/join"
        ? join
        : req.method === "POST" && path === "/renew"
          ? renew
          : undefined;
    if (!run)
      return sendStatus(res, notFound(`airlock: the agent port serves POST /join and POST /renew only`));
    run(req, res).catch((err: Error) => {
      log.warn({ event: "agent.api.failed", err: err.message }, "agent API request failed");
      if (!res.headersSent) sendStatus(res, badRequest("airlock: the request could not be handled"));
      else res.destroy();
    });
  });
  api.headersTimeout = 10_000;
  api.requestTimeout = 30_000;

  const tunnel = async (socket: TLSSocket) => {
    const checked = await check(socket);
    const address = `${socket.remoteAddress ?? "?"}:${socket.remotePort ?? 0}`;
    if (socket.destroyed) return;
    const session = http2.connect("http://airlock-agent.invalid", {
      createConnection: () => socket,
      settings: { enablePush: false, initialWindowSize: 1024 * 1024 },
    });
    session.on("error", () => {});
    if (!checked.ok) {
      metrics.connects.inc({ result: "refused" });
      log.warn({ event: "agent.connect.refused", address, why: checked.why }, "agent tunnel refused");
      // Told on the tunnel, so the agent can log why; then closed whatever the agent does.
      const told = session.request({ ":method": "POST", ":path": "/airlock/refused" });
      told.on("error", () => {});
      told.end(checked.why);
      const timer = setTimeout(() => session.destroy(), 2_000);
      told.on("close", () => {
        clearTimeout(timer);
        session.destroy();
      });
      return;
    }
    const { subject, record } = checked;
    const link = new TunnelLink(session, {
      id: record.id,
      cluster: record.cluster,
      address,
      since: new Date(opts.now()),
    });
    session.once("connect", () => session.setLocalWindowSize(32 * 1024 * 1024));
    // The agent serves streams from its handshake on: the tunnel carries requests at once; the hello below only
    // tells its version (and is when the connect is logged and noted).
    hub.add(link);
    // The agent says hello (its version) before it carries any request.
    const hello = session.request({ ":method": "POST", ":path": "/airlock/hello" });
    hello.on("error", () => {});
    hello.end(JSON.stringify({ agentId: record.id, cluster: record.cluster }));
    const helloTimer = setTimeout(() => session.destroy(), HELLO_TIMEOUT_MS);
    const chunks: Buffer[] = [];
    hello.on("data", (c: Buffer) => chunks.length < 64 && chunks.push(c));
    hello.on("end", () => {
      clearTimeout(helloTimer);
      try {
        const answer = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { version?: unknown };
        if (typeof answer.version === "string") link.version = answer.version.slice(0, 64);
      } catch {
        // an agent without a version is still an agent
      }
      if (session.destroyed) return;
      metrics.connects.inc({ result: "ok" });
      log.info(
        { event: "agent.connected", cluster: link.cluster, agent: link.id, address, version: link.version },
        "agent connected",
      );
      void opts
        .note({
          type: "agent.connected",
          actor: link.id,
          subject: link.cluster,
          detail: { agent: link.id, address, version: link.version },
        })
        .catch((err: Error) =>
          log.warn({ event: "agent.note.failed", err: err.message }, "audit note failed"),
        );
    });
    // The certificate's end is the tunnel's end: the agent renews before, and reconnects with the new one. In the
    // tunnel's last moments (drainMs before the end) new requests go to another link of the cluster when there is one,
    // so the requests still open when the tunnel closes are only those sent just before (they have drainMs to finish;
    // a watch or exec session still open at the end is cut).
    const left = Math.max(0, subject.expiresMs - opts.now());
    const drain = setTimeout(() => link.drain(), Math.min(2 ** 31 - 1, Math.max(0, left - drainMs(left))));
    drain.unref();
    const expiry = setTimeout(() => link.close("certificate expired"), Math.min(2 ** 31 - 1, left));
    expiry.unref();
    // Liveness: a tunnel whose agent vanished without a FIN is found within two pings.
    const ping = setInterval(() => {
      if (!session.destroyed) session.ping(() => {});
    }, PING_MS);
    ping.unref();
    socket.setKeepAlive(true, PING_MS);
    session.on("goaway", () => link.retire("the agent is moving to a new connection"));
    session.once("close", () => {
      clearTimeout(helloTimer);
      clearTimeout(expiry);
      clearTimeout(drain);
      clearInterval(ping);
      hub.remove(link);
      if (!link.connected) return;
      metrics.disconnects.inc();
      log.info({ event: "agent.disconnected", cluster: link.cluster, agent: link.id }, "agent disconnected");
      void opts
        .note({
          type: "agent.disconnected",
          actor: link.id,
          subject: link.cluster,
          detail: { agent: link.id, address, why: link.closedWhy ?? "the connection ended" },
        })
        .catch((err: Error) =>
          log.warn({ event: "agent.note.failed", err: err.message }, "audit note failed"),
        );
    });
  };

  const server = tls.createServer(
    {
      cert: opts.tls.certPem,
      key: opts.tls.keyPem,
      ca: ca.caPem,
      // Asked for on every connection, required (by check()) on the tunnel and /renew; /join has none yet.
      requestCert: true,
      rejectUnauthorized: false,
      minVersion: "TLSv1.2",
      ALPNProtocols: [TUNNEL_ALPN, "http/1.1"],
      // A handshake that does not finish in 10 s is dropped (the port faces networks the gateway does not control).
      handshakeTimeout: 10_000,
    },
    (socket) => {
      socket.on("error", () => {});
      if (socket.alpnProtocol === TUNNEL_ALPN) {
        tunnel(socket).catch((err: Error) => {
          log.warn({ event: "agent.connect.failed", err: err.message }, "agent tunnel failed");
          socket.destroy();
        });
        return;
      }
      api.emit("connection", socket);
    },
  );
  // A handshake that never finishes is dropped.
  server.on("tlsClientError", () => {});
  server.listen(opts.port, opts.address);
  await once(server, "listening");
  return {
    port: (server.address() as AddressInfo).port,
    setTls(material) {
      server.setSecureContext({
        cert: material.certPem,
        key: material.keyPem,
        ca: ca.caPem,
        minVersion: "TLSv1.2",
      });
    },
    async close() {
      hub.closeAll("the gateway is shutting down");
      api.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

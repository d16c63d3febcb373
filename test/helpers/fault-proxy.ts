// A TCP fault proxy for reliability tests: sits between the gateway and the simulator (or PostgreSQL) and, on
// demand, refuses connections, resets them mid-response, stalls them, garbles the bytes coming back, drops every
// open connection (a restart), or sends new connections to another server (failover behind a stable address).
// TLS passes through untouched (the proxy sees only bytes), so the client still verifies the real server.
import { once } from "node:events";
import { createServer, connect as netConnect, type Server, type Socket } from "node:net";

export type FaultMode =
  /** Bytes flow both ways. */
  | "pass"
  /** New connections are reset at once (as a server that is down behind a load balancer). */
  | "refuse"
  /** Connections are reset after `resetAfterBytes` bytes came back from the server. */
  | "reset"
  /** Nothing flows, in either direction, on new and open connections. */
  | "stall"
  /** The bytes coming back from the server are replaced by random ones. */
  | "garble";

export interface FaultProxy {
  readonly port: number;
  readonly url: string;
  mode: FaultMode;
  resetAfterBytes: number;
  /** Connections accepted so far. */
  readonly accepted: number;
  /** Connections open now. */
  readonly open: number;
  /** Where new connections go from now on. */
  retarget(port: number, host?: string): void;
  /** Destroys every open connection (a server restart, as its clients see it). */
  dropAll(): void;
  close(): Promise<void>;
}

export async function startFaultProxy(target: { host?: string; port: number }): Promise<FaultProxy> {
  let host = target.host ?? "127.0.0.1";
  let port = target.port;
  let accepted = 0;
  const pairs = new Set<{ client: Socket; server: Socket; flush(): void }>();
  // A reset (RST) where the socket is connected; a still-connecting one is destroyed (resetAndDestroy would wait
  // for its connect, keeping the process alive), and so is one we already ended: a reset on a socket with a pending
  // shutdown leaves that shutdown request unfinished, and Node's exit then spins for ever waiting for it (seen with
  // "garble": the test process hung at 100% CPU after its last test).
  const kill = (s: Socket) => {
    if (s.destroyed) return;
    if (s.connecting || s.pending || s.writableLength > 0 || s.writableEnded) s.destroy();
    else s.resetAndDestroy();
  };
  const proxy: FaultProxy = {
    port: 0,
    url: "",
    mode: "pass",
    resetAfterBytes: 512,
    get accepted() {
      return accepted;
    },
    get open() {
      return pairs.size;
    },
    retarget(p, h = "127.0.0.1") {
      port = p;
      host = h;
    },
    dropAll() {
      for (const pair of [...pairs]) {
        kill(pair.client);
        kill(pair.server);
      }
    },
    async close() {
      proxy.dropAll();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };

  const server: Server = createServer((client) => {
    accepted++;
    client.on("error", () => {});
    if (proxy.mode === "refuse") return kill(client);
    const upstream = netConnect({ host, port });
    // The proxy's own sockets never keep a test process alive (a test that forgets close()); what they carry is the
    // gateway's business.
    client.unref();
    upstream.unref();
    upstream.on("error", () => kill(client));
    client.on("error", () => kill(upstream));
    // Bytes held while stalled, released when the mode changes back.
    const heldUp: Buffer[] = [];
    const heldDown: Buffer[] = [];
    let down = 0;
    const toServer = (chunk: Buffer) => {
      if (proxy.mode === "stall") return void heldUp.push(chunk);
      if (!upstream.destroyed) upstream.write(chunk);
    };
    const toClient = (chunk: Buffer) => {
      if (proxy.mode === "stall") return void heldDown.push(chunk);
      down += chunk.length;
      if (proxy.mode === "reset" && down > proxy.resetAfterBytes) {
        kill(client);
        kill(upstream);
        return;
      }
      const out =
        proxy.mode === "garble" ? Buffer.from(chunk.map(() => Math.floor(Math.random() * 256))) : chunk;
      if (!client.destroyed) client.write(out);
    };
    const pair = {
      client,
      server: upstream,
      flush() {
        if (proxy.mode === "stall") return;
        for (const c of heldUp.splice(0)) toServer(c);
        for (const c of heldDown.splice(0)) toClient(c);
      },
    };
    pairs.add(pair);
    client.on("data", toServer);
    upstream.on("data", toClient);
    client.on("end", () => upstream.end());
    upstream.on("end", () => client.end());
    const done = () => {
      pairs.delete(pair);
      kill(client);
      kill(upstream);
    };
    client.on("close", done);
    upstream.on("close", done);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  const listenPort = typeof address === "object" && address ? address.port : 0;
  Object.assign(proxy, { port: listenPort, url: `https://127.0.0.1:${listenPort}` });
  // Changing the mode away from "stall" releases what was held.
  let mode: FaultMode = "pass";
  Object.defineProperty(proxy, "mode", {
    get: () => mode,
    set: (m: FaultMode) => {
      mode = m;
      for (const pair of pairs) pair.flush();
    },
  });
  return proxy;
}

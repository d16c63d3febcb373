// The stdio bridge (`airlock mcp stdio`): for MCP clients that only launch local stdio servers. It relays JSON-RPC
// messages between stdin/stdout and the gateway's /mcp endpoint unchanged, so the tools, their descriptions and every
// guardrail are exactly the gateway's: nothing is decided locally, and the bridge holds no cluster credential.
//
// Stance: the bridge's only secret is the Airlock token (from the environment), sent as a bearer token over TLS to
// the gateway; it is never written to stdout, logs or messages. If the gateway cannot be reached, the client gets a
// JSON-RPC error for each request rather than a hang.
import type { Readable, Writable } from "node:stream";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import type { JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";
import { httpsFetch } from "./fetch.ts";

export interface BridgeOptions {
  /** The gateway's base URL (https://host:port) or its /mcp URL. */
  server: string;
  token: string;
  caPem?: string;
  stdin?: Readable;
  stdout?: Writable;
  onError?: (err: Error) => void;
}

export function mcpUrl(server: string): URL {
  const url = new URL(server);
  if (!url.pathname.endsWith("/mcp")) url.pathname = `${url.pathname.replace(/\/$/, "")}/mcp`;
  return url;
}

/** Runs the bridge until stdin closes; resolves then. */
export async function runStdioBridge(opts: BridgeOptions): Promise<void> {
  const local = new StdioServerTransport(opts.stdin, opts.stdout);
  const remote = new StreamableHTTPClientTransport(mcpUrl(opts.server), {
    fetch: httpsFetch(opts.caPem ? { ca: opts.caPem } : {}),
    requestInit: { headers: { authorization: `Bearer ${opts.token}` } },
  });
  const report = opts.onError ?? (() => {});
  const closed = new Promise<void>((resolve) => {
    local.onclose = () => resolve();
  });
  local.onmessage = (message: JSONRPCMessage) => {
    remote.send(message).catch((err: Error) => {
      report(err);
      const id = (message as { id?: string | number }).id;
      if (id !== undefined)
        void local.send({
          jsonrpc: "2.0",
          id,
          error: { code: -32603, message: `airlock gateway: ${err.message}` },
        });
    });
  };
  remote.onmessage = (message: JSONRPCMessage) => {
    void local.send(message);
  };
  remote.onerror = report;
  local.onerror = report;
  await remote.start();
  await local.start();
  await closed;
  await remote.close();
}

// The checks the MCP SDK's Streamable HTTP transport makes on a POST, made first here so that a refusal is a
// Kubernetes Status like every other non-2xx answer of the gateway (the SDK would answer with a JSON-RPC error
// body). Same rules as the SDK (Accept, Content-Type, JSON, JSON-RPC shape, batch size, one initialize, protocol
// version), so nothing the SDK would accept is refused and nothing it would refuse reaches it.
import { isJsonContentType } from "@modelcontextprotocol/sdk/shared/mediaType.js";
import {
  isInitializeRequest,
  JSONRPCMessageSchema,
  SUPPORTED_PROTOCOL_VERSIONS,
} from "@modelcontextprotocol/sdk/types.js";
import { badRequest, notAcceptable, unsupportedMediaType } from "../kube/refusals.ts";
import type { Status } from "../kube/status.ts";

/** The SDK's limit on a JSON-RPC batch (server/requestBody.js MAX_BATCH_SIZE). */
const MAX_BATCH_SIZE = 100;

type Headers = Record<string, string | string[] | undefined>;

function one(headers: Headers, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v.join(", ") : v;
}

/** Before the body is read: what the client accepts and what it sends. */
export function checkMcpHeaders(headers: Headers): Status | undefined {
  const accept = one(headers, "accept") ?? "";
  if (!accept.includes("application/json") || !accept.includes("text/event-stream")) {
    return notAcceptable(
      "airlock: an MCP client must accept both application/json and text/event-stream (Accept header)",
    );
  }
  if (!isJsonContentType(one(headers, "content-type") ?? null)) {
    return unsupportedMediaType("airlock: an MCP message must be sent as Content-Type: application/json");
  }
  return undefined;
}

/** The parsed body: JSON-RPC messages the transport will accept, or the Status that refuses them. */
export function checkMcpMessage(
  text: string,
  headers: Headers,
): { ok: true; message: unknown } | { ok: false; status: Status } {
  let message: unknown;
  try {
    message = JSON.parse(text);
  } catch {
    return {
      ok: false,
      status: badRequest("airlock: the MCP message is not valid JSON (JSON-RPC parse error)"),
    };
  }
  const messages = Array.isArray(message) ? message : [message];
  if (messages.length > MAX_BATCH_SIZE) {
    return {
      ok: false,
      status: badRequest(`airlock: a JSON-RPC batch holds at most ${MAX_BATCH_SIZE} messages`),
    };
  }
  if (messages.some((m) => !JSONRPCMessageSchema.safeParse(m).success)) {
    return { ok: false, status: badRequest("airlock: the MCP message is not a valid JSON-RPC message") };
  }
  const initializing = messages.some((m) => isInitializeRequest(m));
  if (initializing && messages.length > 1) {
    return { ok: false, status: badRequest("airlock: an initialize request must be sent on its own") };
  }
  const version = one(headers, "mcp-protocol-version");
  if (!initializing && version !== undefined && !SUPPORTED_PROTOCOL_VERSIONS.includes(version)) {
    return {
      ok: false,
      status: badRequest(
        `airlock: MCP protocol version "${version.slice(0, 40)}" is not supported (supported: ${SUPPORTED_PROTOCOL_VERSIONS.join(", ")})`,
      ),
    };
  }
  return { ok: true, message };
}

// Writing answers: JSON bodies, Status errors, and the Accept negotiation the simulator does (JSON always, a Table
// when asked for). Protobuf Accept headers are answered with JSON, which every Kubernetes client also accepts.
//
// Failure stance: anything thrown that is not a StatusError becomes a 500 InternalError Status, never a crash, and
// nothing internal (stack traces) reaches the client.
import type { ServerResponse } from "node:http";
import { failure, type Status, StatusError } from "../status.ts";

export function sendJson(
  res: ServerResponse,
  code: number,
  body: unknown,
  headers: Record<string, string> = {},
) {
  const text = JSON.stringify(body);
  res.writeHead(code, {
    "Content-Type": "application/json",
    "Content-Length": Buffer.byteLength(text),
    "Cache-Control": "no-cache, private",
    ...headers,
  });
  res.end(res.req.method === "HEAD" ? undefined : text);
}

export function toStatus(err: unknown): Status {
  if (err instanceof StatusError) return err.status;
  return failure(
    "InternalError",
    `Internal error occurred: ${err instanceof Error ? err.message : String(err)}`,
  );
}

export function sendError(res: ServerResponse, err: unknown) {
  const status = toStatus(err);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, status.code, status);
}

export type IncludeObject = "None" | "Metadata" | "Object";

/** Whether the Accept header asks for a meta.k8s.io Table (as kubectl get does). */
export function wantsTable(accept: string | undefined): boolean {
  if (!accept) return false;
  return accept.split(",").some((part) => {
    const params = part.split(";").map((p) => p.trim());
    return params.includes("as=Table") && params.includes("g=meta.k8s.io");
  });
}

export function includeObjectOf(query: URLSearchParams): IncludeObject {
  const v = query.get("includeObject");
  return v === "None" || v === "Object" ? v : "Metadata";
}

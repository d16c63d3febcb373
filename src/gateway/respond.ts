// The one boundary where refusals become responses: a Kubernetes Status as JSON, on an HTTP response or, for an
// upgrade request that is refused before any protocol switch, written raw on the socket and then closed.
import type { ServerResponse } from "node:http";
import type { Http2ServerResponse } from "node:http2";

export type AnyResponse = ServerResponse | Http2ServerResponse;

/** writeHead on either response kind (their overloads do not unify in TypeScript). */
export function writeHead(res: AnyResponse, code: number, headers: Record<string, string | string[]>): void {
  (res as ServerResponse).writeHead(code, headers);
}

/** True when the client's side of the response is closed or destroyed (nothing more can be written to it). */
export function clientGone(res: AnyResponse): boolean {
  const r = res as {
    destroyed?: boolean;
    closed?: boolean;
    writableEnded?: boolean;
    stream?: { destroyed?: boolean; closed?: boolean };
  };
  // An HTTP/2 response has neither `destroyed` nor `closed`: its stream says whether the client reset it or left.
  const stream = r.stream;
  return (
    r.destroyed === true ||
    r.closed === true ||
    r.writableEnded === true ||
    stream?.destroyed === true ||
    stream?.closed === true
  );
}

// The one sendStatus (and its raw-socket form for upgrades) lives with the Status object.
export { sendStatus, sendStatusOnSocket } from "../kube/status.ts";

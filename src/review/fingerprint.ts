// The fingerprint of a request: what an approval is bound to (DESIGN.md invariant 8). Pure.
//
// Everything that decides what the request does goes in: identity, cluster, the policy action, the API group,
// version, resource, subresource, namespace and name, the SHA-256 of the exact body bytes, the Content-Type and
// Content-Encoding the body is read with (a merge patch and a strategic-merge patch of the same bytes do different
// things), the exec argv and its container/stdin/stdout/stderr/tty flags, every query parameter (sorted by name, so
// the order of different names does not matter; dryRun, fieldManager, force, container and tty change what a request
// does), and the justification the reviewer was shown (an approval given for one stated reason is not one for
// another). Fields are length-prefixed JSON, so no two different requests can serialise alike.
import { createHash } from "node:crypto";
import type { KubeRequest } from "../kube/request.ts";

export interface FingerprintInput {
  identityId: string;
  cluster: string;
  kube: KubeRequest;
  /** The exact bytes that will be forwarded; undefined or empty for a request without a body. */
  body: Buffer | undefined;
  /** The Content-Type header as sent (exactly: no normalisation, so two spellings never share an approval). */
  contentType: string | undefined;
  /** The Content-Encoding header as sent, if any. */
  contentEncoding?: string | undefined;
  /** The justification stored on the review and shown to the reviewer; null or undefined when there is none. */
  justification: string | null | undefined;
}

export function sha256Hex(data: Buffer | string): string {
  return createHash("sha256").update(data).digest("hex");
}

export function bodyDigest(body: Buffer | undefined): string {
  return sha256Hex(body ?? Buffer.alloc(0));
}

/**
 * Query parameters in a canonical order: sorted by name, and repeated names kept in the order sent (a stable sort),
 * because for some (exec's `command`) the order of values is the meaning.
 */
export function canonicalQuery(query: URLSearchParams): [string, string][] {
  return [...query.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

export function requestFingerprint(input: FingerprintInput): string {
  const { info, exec } = input.kube;
  const fields = [
    "airlock-fingerprint-v2",
    input.identityId,
    input.cluster,
    // The action, not the HTTP method: exec over a WebSocket GET and its SPDY POST fallback are one request.
    input.kube.action,
    info.isResourceRequest ? "" : info.path,
    info.apiGroup,
    info.apiVersion,
    info.resource,
    info.subresource,
    info.namespace,
    info.name,
    bodyDigest(input.body),
    input.contentType ?? null,
    input.contentEncoding ?? null,
    exec?.command ?? null,
    // The parsed flags as well as the raw query: what the gateway decided on is what the approval binds.
    exec ? [exec.container, exec.stdin, exec.stdout, exec.stderr, exec.tty] : null,
    canonicalQuery(input.kube.query),
    input.justification ?? null,
  ];
  return sha256Hex(JSON.stringify(fields));
}

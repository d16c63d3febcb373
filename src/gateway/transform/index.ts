// transform: the pipeline stage between forward and complete. Given the decision's masking profile, the classified
// request and the cluster's response headers, it picks the masker (a JSON document or list, a watch stream, a text
// stream, exec/attach frames) and relays the response through it.
//
// Fail closed (invariant 2): a profile the decision names but the gateway does not know refuses the request; a
// response in a format the masker cannot read (protobuf, CBOR, compressed) is answered 502 "airlock: masking failed",
// never forwarded; a stream that fails mid-way is cut. Break-glass (`none`) relays unmasked and says so.
import type { IncomingHttpHeaders, IncomingMessage } from "node:http";
import { forbiddenHere, maskingFailed, maskingUnavailable } from "../../kube/refusals.ts";
import type { KubeRequest } from "../../kube/request.ts";
import type { Status } from "../../kube/status.ts";
import {
  ChannelFrameMasker,
  type DetectorSet,
  ItemRefused,
  JsonDocumentMasker,
  kindForResource,
  type MaskCounts,
  type MaskingProfile,
  type Placeholders,
  TextStreamMasker,
  WatchStreamMasker,
} from "../../mask/index.ts";
import { type AnyResponse, clientGone, sendStatus, writeHead } from "../respond.ts";
import { type ChunkMasker, MaskingTransform } from "./response.ts";

export { jsonAccept, withJsonAccept } from "./accept.ts";
export { MaskingTransform, warningFor } from "./response.ts";

/** What the gateway holds for masking: the compiled profiles and the marker key. */
export interface MaskingRuntime {
  profiles: ReadonlyMap<string, MaskingProfile>;
  placeholders: Placeholders;
}

/** One request's masking: its profile and the counts its response adds up (for the audit event). */
export interface RequestMasking {
  profile: MaskingProfile;
  placeholders: Placeholders;
  counts: MaskCounts;
  /** Policy's per-item filter of a list or watch (src/policy/objects.ts); elements that fail it are left out. */
  keep?: (obj: unknown) => boolean;
  /** The detectors for text streams: the profile's (when absent), plus the known secret values for exec/attach/log. */
  detectors?: DetectorSet;
  /** Told each value a field rule masks (remembered for the cluster, in memory only). */
  remember?: (value: Uint8Array) => void;
}

/** Small responses are masked whole (exact count, Content-Length); larger ones stream past this many bytes. */
export const BUFFER_LIMIT = 4 * 1024 * 1024;

export { maskingFailed };

/**
 * The masking a decision asks for: undefined when none (no profile, or break-glass `none`), a refusal when the
 * profile is unknown, or the request's masking state.
 */
export function requestMasking(
  runtime: MaskingRuntime | undefined,
  profileName: string | undefined,
): { ok: true; masking: RequestMasking | undefined; breakGlass: boolean } | { ok: false; status: Status } {
  if (profileName === undefined) return { ok: true, masking: undefined, breakGlass: false };
  const profile = runtime?.profiles.get(profileName);
  if (!runtime || !profile) {
    return {
      ok: false,
      status: maskingUnavailable(
        `airlock: masking profile "${profileName}" is not defined, so the request was not sent`,
      ),
    };
  }
  if (profile.disabled) return { ok: true, masking: undefined, breakGlass: true };
  return {
    ok: true,
    masking: { profile, placeholders: runtime.placeholders, counts: new Map(), detectors: profile.detectors },
    breakGlass: false,
  };
}

const JSON_TYPE = /^application\/(?:json|[\w.+-]+\+json)$/i;
const BINARY_TYPE = /protobuf|cbor|octet-stream/i;

function isStreaming(kube: KubeRequest): boolean {
  const q = kube.query;
  const yes = (v: string | null) => v === "true" || v === "1";
  return kube.info.verb === "watch" || yes(q.get("watch")) || yes(q.get("follow"));
}

/** Chooses how to mask one HTTP response; a Status when it cannot be masked. */
export function planResponse(
  m: RequestMasking,
  kube: KubeRequest,
  headers: IncomingHttpHeaders,
): { ok: true; transform: MaskingTransform } | { ok: false; status: Status } {
  const encoding = (headers["content-encoding"] ?? "identity").toLowerCase();
  if (encoding !== "identity")
    return { ok: false, status: maskingFailed(`the cluster answered with ${encoding} encoding`) };
  const type = (headers["content-type"] ?? "").split(";")[0]?.trim() ?? "";
  const ctx = {
    profile: m.profile,
    ph: m.placeholders,
    counts: m.counts,
    ...(m.remember ? { remember: m.remember } : {}),
  };
  const kindHint = kindForResource(kube.info.resource);
  const stream = isStreaming(kube);
  let masker: ChunkMasker;
  if (JSON_TYPE.test(type)) {
    masker =
      stream && kube.info.subresource === ""
        ? new WatchStreamMasker(ctx, kindHint, undefined, m.keep)
        : new JsonDocumentMasker(ctx, kindHint, undefined, m.keep);
  } else if (m.keep) {
    return {
      ok: false,
      status: maskingFailed(
        `the cluster answered ${type || "no content type"}, which cannot be filtered by policy`,
      ),
    };
  } else if (BINARY_TYPE.test(type)) {
    return { ok: false, status: maskingFailed(`the cluster answered ${type}, which Airlock cannot read`) };
  } else {
    masker = new TextStreamMasker(m.detectors ?? m.profile.detectors, m.placeholders, m.counts);
  }
  return {
    ok: true,
    transform: new MaskingTransform(masker, {
      profile: m.profile.name,
      counts: m.counts,
      stream,
      bufferLimit: BUFFER_LIMIT,
      // Filtering alone (no profile) masks nothing, so it claims nothing in a Warning.
      quiet: m.profile.disabled,
    }),
  };
}

export interface RelayHooks {
  /** Bytes written to the client. */
  onBytes(n: number): void;
  /** The response is over: the status the client got, and an error when masking or the connection failed. */
  done(status: number, error?: string): void;
}

/** Relays an upstream response through masking. Headers are written only once the masker knows what to add. */
export function relayMasked(
  m: RequestMasking,
  kube: KubeRequest,
  upstreamRes: IncomingMessage,
  res: AnyResponse,
  status: number,
  headers: Record<string, string | string[]>,
  hooks: RelayHooks,
): void {
  const plan = planResponse(m, kube, upstreamRes.headers);
  if (!plan.ok) {
    upstreamRes.destroy();
    hooks.onBytes(sendStatus(res, plan.status));
    hooks.done(502, plan.status.message);
    return;
  }
  const t = plan.transform;
  // Every stream here has an owner, and a client that is gone by the time the masker knows its head costs only this
  // request. pipe() rather than pipeline(): pipeline allocates an AbortController and an AbortError (a DOMException
  // with its stack) per request, ~4 % of the gateway's CPU on small GETs. What pipeline did is done here: an
  // upstream error or early close destroys the masker with an error (a truncated body never ends it normally), and
  // a masker error destroys the upstream response.
  const cut = (error: string) => {
    t.destroy();
    upstreamRes.destroy();
    (res as { destroy?: () => void }).destroy?.();
    hooks.done(499, error);
  };
  upstreamRes.pipe(t);
  upstreamRes.on("error", (err) => t.destroy(err));
  upstreamRes.on("close", () => {
    if (!upstreamRes.readableEnded) t.destroy(new Error("the cluster's response ended early"));
  });
  t.on("error", () => upstreamRes.destroy());
  t.head.then(
    (head) => {
      if (clientGone(res)) return cut("the client closed the connection");
      const out: Record<string, string | string[]> = {};
      for (const [k, v] of Object.entries(headers)) if (k !== "content-length") out[k] = v;
      for (const [k, v] of Object.entries(head.headers)) {
        const prev = out[k];
        out[k] = prev === undefined ? v : [...(Array.isArray(prev) ? prev : [prev]), v];
      }
      try {
        writeHead(res, status, out);
        t.on("data", (chunk: Buffer) => hooks.onBytes(chunk.length));
        let over = false;
        const end = (err?: Error) => {
          if (over) return;
          over = true;
          if (err) {
            t.destroy();
            upstreamRes.destroy();
            (res as { destroy?: () => void }).destroy?.();
          }
          hooks.done(status, err ? `masking stopped the response: ${err.message}` : undefined);
        };
        t.pipe(res as NodeJS.WritableStream);
        t.on("error", end);
        res.once("finish", () => end());
        res.once("close", () => {
          if (!res.writableFinished) end(new Error("the client closed the connection"));
        });
        (res as NodeJS.EventEmitter).once("error", end);
      } catch (err) {
        cut(`the response could not be relayed: ${(err as Error).message}`);
      }
    },
    (err: Error) => {
      if (err instanceof ItemRefused) {
        // Policy refused the object itself (a GET of one object a label rule denies): a 403, not a failure. The
        // transform drains the rest of the upstream answer (nothing of it is sent).
        if (!res.headersSent && !clientGone(res)) hooks.onBytes(sendStatus(res, forbiddenHere(err.message)));
        hooks.done(403);
        return;
      }
      upstreamRes.destroy();
      if (!res.headersSent && !clientGone(res)) hooks.onBytes(sendStatus(res, maskingFailed(err.message)));
      else (res as { destroy?: () => void }).destroy?.();
      hooks.done(502, `masking failed: ${err.message}`);
    },
  );
}

/** The frame masker for an exec/attach session, or undefined for protocols it cannot read (port-forward). */
export function frameMasker(
  m: RequestMasking,
  subprotocol: string,
  intact = false,
): ChannelFrameMasker | undefined {
  if (subprotocol.toLowerCase().includes("portforward")) return undefined;
  return new ChannelFrameMasker(
    m.profile,
    m.placeholders,
    m.counts,
    subprotocol,
    m.detectors ?? m.profile.detectors,
    intact,
  );
}

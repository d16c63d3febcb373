// The transform stage as the pipeline sees it: which masking a decided request gets, the forwarded headers it
// needs (JSON Accept), the relay for HTTP responses and the frame masker for exec/attach, and the audit note of what
// was masked (counts per rule, never values).
//
// Fail closed: an unknown profile, a mask key that cannot be read, or profile documents that do not compile refuse
// the request (500) before anything is forwarded; port-forward under a masking profile is refused (403), because its
// bytes are an opaque TCP stream the masker cannot read.
import type { IncomingMessage } from "node:http";
import {
  BUILTIN_PROFILES,
  compileProfiles,
  countsRecord,
  loadMaskKey,
  type MaskingProfile,
  totalCount,
} from "../../mask/index.ts";
import { createPlaceholders, type Placeholders } from "../../mask/placeholder.ts";
import { failure, type Status } from "../../shared/status.ts";
import type { Decision, KubeRequest } from "../contracts.ts";
import type { AnyResponse } from "../respond.ts";
import type { GatewayRuntime } from "../runtime.ts";
import { withJsonAccept } from "./accept.ts";
import {
  frameMasker,
  type MaskingRuntime,
  type RelayHooks,
  type RequestMasking,
  relayMasked,
  requestMasking,
} from "./index.ts";

interface Cached {
  source: unknown;
  runtime: MaskingRuntime;
}
const keys = new WeakMap<GatewayRuntime, Promise<Buffer>>();
const compiled = new WeakMap<GatewayRuntime, Cached>();

// One Placeholders per key, so its marker cache and HMAC key object outlive a single request.
const placeholderCache = new WeakMap<Buffer, Placeholders>();
function placeholdersFor(key: Buffer): Placeholders {
  let ph = placeholderCache.get(key);
  if (!ph) {
    ph = createPlaceholders(key);
    placeholderCache.set(key, ph);
  }
  return ph;
}

/** The gateway's masking runtime: the key (loaded once) and the profiles (recompiled when policies reload). */
async function maskingRuntime(gw: GatewayRuntime): Promise<MaskingRuntime> {
  let key = keys.get(gw);
  if (!key) {
    key = loadMaskKey(gw.config.dataDir);
    keys.set(gw, key);
    key.catch(() => keys.delete(gw)); // retried on the next request; this one fails closed
  }
  const placeholders = placeholdersFor(await key);
  const source = gw.decider.loadedDocuments?.().maskingProfiles;
  const cached = compiled.get(gw);
  if (cached && cached.source === source) return cached.runtime;
  let profiles: ReadonlyMap<string, MaskingProfile> = BUILTIN_PROFILES;
  if (source && source.length > 0) {
    const result = compileProfiles(source.map(({ source: _where, ...doc }) => doc));
    if (!result.ok) throw new Error(`masking profiles do not compile: ${result.errors.join("; ")}`);
    profiles = result.profiles;
  }
  const runtime = { profiles, placeholders };
  compiled.set(gw, { source, runtime });
  return runtime;
}

export interface StageMasking {
  /** The profile named by the decision (also for break-glass), or undefined when none. */
  profile: string | undefined;
  breakGlass: boolean;
  request: RequestMasking | undefined;
}

/** Resolves the decision's masking obligation; a Status refuses the request. */
export async function prepareMasking(
  gw: GatewayRuntime,
  decision: Decision | undefined,
  kube: KubeRequest,
): Promise<{ ok: true; masking: StageMasking } | { ok: false; status: Status }> {
  const name = decision && decision.effect !== "deny" ? decision.mask : undefined;
  if (name === undefined)
    return { ok: true, masking: { profile: undefined, breakGlass: false, request: undefined } };
  let runtime: MaskingRuntime;
  try {
    runtime = await maskingRuntime(gw);
  } catch (err) {
    return {
      ok: false,
      status: failure("InternalError", `airlock: masking is not available: ${(err as Error).message}`),
    };
  }
  const resolved = requestMasking(runtime, name);
  if (!resolved.ok) return resolved;
  if (resolved.masking && kube.info.subresource === "portforward") {
    return {
      ok: false,
      status: failure(
        "Forbidden",
        `pods "${kube.info.name}" is forbidden: airlock: port-forward is refused because masking profile ${name} applies and a forwarded port's bytes cannot be masked`,
      ),
    };
  }
  return { ok: true, masking: { profile: name, breakGlass: resolved.breakGlass, request: resolved.masking } };
}

/** The forwarded headers for a masked request: the cluster is asked for JSON. */
export function maskedHeaders(masking: StageMasking, headers: [string, string][]): [string, string][] {
  return masking.request ? withJsonAccept(headers) : headers;
}

/** The relay hook for forwardHttp, or undefined when the response passes unmasked. */
export function responseRelay(
  masking: StageMasking,
  kube: KubeRequest,
  res: AnyResponse,
):
  | ((
      upstreamRes: IncomingMessage,
      status: number,
      headers: Record<string, string | string[]>,
      hooks: RelayHooks,
    ) => void)
  | undefined {
  const m = masking.request;
  if (!m) return undefined;
  return (upstreamRes, status, headers, hooks) =>
    relayMasked(m, kube, upstreamRes, res, status, headers, hooks);
}

/** The frame masker factory for bridgeWebSocket, or undefined when frames pass unmasked. */
export function upgradeFrames(
  masking: StageMasking,
): ((subprotocol: string) => ReturnType<typeof frameMasker>) | undefined {
  const m = masking.request;
  return m ? (subprotocol) => frameMasker(m, subprotocol) : undefined;
}

/** Records what was masked (counts per rule) or that break-glass was used, as a chained audit note. */
export async function recordMasking(
  gw: GatewayRuntime,
  requestId: string,
  masking: StageMasking,
): Promise<void> {
  if (!masking.profile) return;
  const counts = masking.request ? countsRecord(masking.request.counts) : {};
  const detail = {
    request: requestId,
    profile: masking.profile,
    breakGlass: masking.breakGlass,
    masked: masking.request ? totalCount(masking.request.counts) : 0,
    counts,
  };
  gw.log.info(
    { requestId, masking: detail },
    masking.breakGlass ? "break-glass: response not masked" : "masked",
  );
  try {
    await gw.store.auditNote({
      type: masking.breakGlass ? "masking.break-glass" : "masking.applied",
      actor: "airlock",
      subject: requestId,
      detail,
    });
  } catch (err) {
    gw.log.error({ requestId, err: (err as Error).message }, "audit note of masking failed");
  }
}

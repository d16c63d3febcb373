// The transform stage as the pipeline sees it: which masking a decided request gets, the forwarded headers it
// needs (JSON Accept), the relay for HTTP responses and the frame masker for exec/attach, and the audit note of what
// was masked (counts per rule, never values).
//
// Fail closed: an unknown profile, a mask key that cannot be read, or profile documents that do not compile refuse
// the request (500) before anything is forwarded; port-forward under a masking profile is refused (403), because its
// bytes are an opaque TCP stream the masker cannot read.
import { createHash } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { Principal } from "../../identity/types.ts";
import {
  dependencyUnavailable,
  forbidden,
  forbiddenMessage,
  maskingUnavailable,
  notFound,
  policyDenial,
} from "../../kube/refusals.ts";
import type { KubeRequest } from "../../kube/request.ts";
import type { Status } from "../../kube/status.ts";
import { withDetector } from "../../mask/detectors.ts";
import {
  BUILTIN_PROFILES,
  compileProfiles,
  countsRecord,
  DEFAULT_PROFILE,
  ItemRefused,
  JsonDocumentMasker,
  kindForResource,
  loadMaskKey,
  type MaskContext,
  type MaskingProfile,
  NO_MASKING_PROFILE,
  totalCount,
} from "../../mask/index.ts";
import { createPlaceholders, type Placeholders } from "../../mask/placeholder.ts";
import { type SecretValueMatcher, secretValueMatcher } from "../../mask/values.ts";
import type { Decision } from "../../policy/decision.ts";
import { isCpDownload } from "../../recording/cp.ts";
import type { RequestContext } from "../context.ts";
import type { AnyResponse } from "../respond.ts";
import type { GatewayRuntime } from "../runtime.ts";
import { withJsonAccept } from "./accept.ts";
import {
  frameMasker,
  type MaskingRuntime,
  maskingFailed,
  type RelayHooks,
  type RequestMasking,
  relayMasked,
  requestMasking,
} from "./index.ts";
import {
  type LookupResult,
  lookupPodSecretValues,
  needsSecretValues,
  podNameOf,
  RememberedValues,
} from "./secret-values.ts";

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

/**
 * The masking of what humans and MCP diffs are shown outside a response (the review preview and the held body,
 * k8s_diff): the decision's profile when it names one, else `default` — never break-glass, because these views
 * are stored and shown to others. Throws when masking is not available (the caller fails closed).
 */
export async function displayMasking(gw: GatewayRuntime, profileName?: string): Promise<MaskContext> {
  const runtime = await maskingRuntime(gw);
  const named = profileName ? runtime.profiles.get(profileName) : undefined;
  const profile =
    named && !named.disabled ? named : (runtime.profiles.get(DEFAULT_PROFILE) as MaskingProfile);
  return { profile, ph: runtime.placeholders, counts: new Map() };
}

export interface StageMasking {
  /** The profile named by the decision (also for break-glass), or undefined when none. */
  profile: string | undefined;
  breakGlass: boolean;
  request: RequestMasking | undefined;
  /** A port-forward a rule allowed by its ports: opaque bytes, recorded and audited as not maskable (not break-glass). */
  notMaskable?: boolean;
}

/**
 * The profile for a response whose deciding rule names none: agents are masked (`default` unless configured),
 * humans and admins only when `masking.defaults.humans` names a profile. Break-glass is never a default.
 */
export function defaultProfileFor(
  defaults: { agents?: string; humans?: string | undefined } | undefined,
  principal: Pick<Principal, "kind"> | undefined,
): string | undefined {
  if (!principal || principal.kind === "agent") return defaults?.agents ?? DEFAULT_PROFILE;
  return defaults?.humans;
}

/** Resolves the decision's masking obligation; a Status refuses the request. */
export async function prepareMasking(
  gw: GatewayRuntime,
  decision: Decision | undefined,
  kube: KubeRequest,
  principal: Pick<Principal, "kind"> | undefined,
): Promise<{ ok: true; masking: StageMasking } | { ok: false; status: Status }> {
  // A port-forward allowed by a rule naming its ports is the way through: its bytes cannot be masked, so it is
  // audited as not maskable rather than refused (or counted as break-glass).
  if (decision && decision.effect !== "deny" && decision.ports && kube.info.subresource === "portforward") {
    return {
      ok: true,
      masking: { profile: decision.mask ?? "none", breakGlass: false, request: undefined, notMaskable: true },
    };
  }
  const name =
    decision && decision.effect !== "deny"
      ? (decision.mask ?? defaultProfileFor(gw.config.masking?.defaults, principal))
      : undefined;
  if (name === undefined)
    return {
      ok: true,
      masking: { profile: undefined, breakGlass: false, notMaskable: false, request: undefined },
    };
  let runtime: MaskingRuntime;
  try {
    runtime = await maskingRuntime(gw);
  } catch (err) {
    return {
      ok: false,
      status: maskingUnavailable(`airlock: masking is not available: ${(err as Error).message}`),
    };
  }
  const resolved = requestMasking(runtime, name);
  if (!resolved.ok) return resolved;
  const fromRule = decision?.effect !== "deny" && decision?.mask !== undefined;
  if (resolved.masking && kube.info.subresource === "portforward" && !fromRule) {
    // A forwarded port's bytes cannot be masked; the identity's default does not refuse it (the rule that allows
    // port-forward decides), but the audit says the stream was not masked.
    return { ok: true, masking: { profile: name, breakGlass: false, notMaskable: true, request: undefined } };
  }
  if (resolved.masking && kube.info.subresource === "portforward") {
    return {
      ok: false,
      status: forbidden(
        kube.info,
        `airlock: port-forward is refused because masking profile ${name} applies and a forwarded port's bytes cannot be masked; a rule that names the ports (ports: [80]) allows it`,
      ),
    };
  }
  const m = resolved.masking;
  if (m) {
    const remembered = rememberedFor(gw, kube.cluster);
    m.remember = (value) => remembered.add(value);
    if (needsSecretValues(kube) && m.profile.secretValueMinBytes > 0) {
      const upstream = gw.upstreams.get(kube.cluster);
      const looked: LookupResult = upstream
        ? await lookupPodSecretValues(upstream, kube.info.namespace, podNameOf(kube))
        : { ok: false, error: "the cluster is not connected" };
      if (!looked.ok && looked.podNotFound !== undefined)
        return { ok: false, status: notFound(looked.podNotFound) };
      if (!looked.ok) {
        return {
          ok: false,
          status: dependencyUnavailable(
            `pods "${kube.info.name}" ${kube.info.subresource} refused: airlock masks the values of the Secrets this pod ` +
              `uses in its output and could not read them (${looked.error}); nothing was sent. Ask an operator to ` +
              "check the gateway's read access to pods and secrets (docs/connections.md).",
          ),
        };
      }
      const matcher = cachedMatcher(
        gw,
        [...looked.values, ...remembered.values()],
        m.profile.secretValueMinBytes,
      );
      if (matcher) m.detectors = withDetector(m.profile.detectors, matcher.detector);
    }
  }
  return {
    ok: true,
    masking: { profile: name, breakGlass: resolved.breakGlass, notMaskable: false, request: m },
  };
}

const MATCHER_CACHE = 16;
const matchers = new WeakMap<GatewayRuntime, Map<string, SecretValueMatcher | undefined>>();

/**
 * The value matcher for a set of values, reused while the set is unchanged (compiling hundreds of values takes
 * ~0.1 s, once per set rather than per stream). Keyed by a digest of the SET — sorted and without repeats, so a
 * remembered value masked again (which moves it in the remembered order) does not make a new key; memory only, a
 * few entries.
 */
export function cachedMatcher(
  gw: GatewayRuntime,
  given: Buffer[],
  minBytes: number,
): SecretValueMatcher | undefined {
  const values = [...new Map(given.map((v) => [v.toString("latin1"), v])).values()].sort(Buffer.compare);
  const hash = createHash("sha256").update(String(minBytes));
  for (const v of values) hash.update(String(v.length)).update(":").update(v);
  const key = hash.digest("hex");
  let cache = matchers.get(gw);
  if (!cache) {
    cache = new Map();
    matchers.set(gw, cache);
  }
  if (cache.has(key)) return cache.get(key);
  const matcher = secretValueMatcher(values, minBytes);
  if (cache.size >= MATCHER_CACHE) cache.delete(cache.keys().next().value as string);
  cache.set(key, matcher);
  return matcher;
}

const remembered = new WeakMap<GatewayRuntime, Map<string, RememberedValues>>();

/** The values masked before for one cluster (memory only, bounded). */
function rememberedFor(gw: GatewayRuntime, cluster: string): RememberedValues {
  let perCluster = remembered.get(gw);
  if (!perCluster) {
    perCluster = new Map();
    remembered.set(gw, perCluster);
  }
  let values = perCluster.get(cluster);
  if (!values) {
    values = new RememberedValues();
    perCluster.set(cluster, values);
  }
  return values;
}

/**
 * Policy's per-item filter for an allowed list or watch (src/policy/objects.ts), hooked into the masking transform:
 * items, Table rows and watch events the caller may not read are left out as the response streams. Without a masking
 * profile the transform runs with the pass-through profile (filtering only). A list whose rows would not carry the
 * object metadata (includeObject=None) cannot be filtered and is refused.
 */
export async function filterItems(
  gw: GatewayRuntime,
  principal: Principal,
  kube: KubeRequest,
  decision: Decision | undefined,
  masking: StageMasking,
): Promise<{ ok: true; hidden: { count: number } } | { ok: false; status: Status }> {
  const hidden = { count: 0 };
  const verb = kube.info.verb;
  // A GET of one object is decided on that object too (its stored labels): refused whole, never emptied.
  const sub = kube.info.subresource;
  const single = verb === "get" && kube.info.name !== "" && (sub === "" || sub === "status");
  if (!decision || (verb !== "list" && verb !== "watch" && !single)) return { ok: true, hidden };
  const filter = gw.decider.itemFilter?.(principal, kube, decision);
  if (!filter) return { ok: true, hidden };
  if (kube.query.get("includeObject") === "None") {
    return {
      ok: false,
      status: forbidden(
        { ...kube.info, name: "" },
        `airlock: a ${verb} with includeObject=None cannot be filtered by policy (each item is decided by its metadata); ask without includeObject=None`,
      ),
    };
  }
  const keep = (obj: unknown) => {
    const verdict = filter(obj);
    if (verdict.keep) return true;
    if (single) throw new ItemRefused(refusedMessage(kube, verdict.decision));
    hidden.count++;
    return false;
  };
  if (masking.request) {
    masking.request.keep = keep;
    return { ok: true, hidden };
  }
  let runtime: MaskingRuntime;
  try {
    runtime = await maskingRuntime(gw);
  } catch (err) {
    return {
      ok: false,
      status: maskingUnavailable(`airlock: list filtering is not available: ${(err as Error).message}`),
    };
  }
  const none = BUILTIN_PROFILES.get(NO_MASKING_PROFILE) as MaskingProfile;
  masking.request = {
    profile: none,
    placeholders: runtime.placeholders,
    counts: new Map(),
    detectors: none.detectors,
    keep,
  };
  return { ok: true, hidden };
}

function refusedMessage(kube: KubeRequest, d: Decision | undefined): string {
  const why =
    d && d.effect === "deny"
      ? policyDenial(d)
      : d && d.effect === "review"
        ? `needs a review (policy ${d.policy} rule ${d.rule}) for this object`
        : "not allowed by policy for this object";
  return forbiddenMessage(kube.info, `airlock: ${kube.action} ${why}`);
}

/** A JSON answer the gateway composed itself (a deletecollection's deleted objects), masked like a response. */
export function maskJsonAnswer(
  masking: StageMasking,
  kube: KubeRequest,
  value: unknown,
): { ok: true; body: Buffer } | { ok: false; status: Status } {
  const bytes = Buffer.from(JSON.stringify(value));
  const m = masking.request;
  if (!m) return { ok: true, body: bytes };
  try {
    const masker = new JsonDocumentMasker(
      { profile: m.profile, ph: m.placeholders, counts: m.counts },
      kindForResource(kube.info.resource),
    );
    return { ok: true, body: Buffer.concat([...masker.push(bytes), ...masker.end()]) };
  } catch (err) {
    return { ok: false, status: maskingFailed((err as Error).message) };
  }
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

/**
 * The frame masker factory for bridgeWebSocket, or undefined when frames pass unmasked. A `kubectl cp` download's
 * stdout is a file: its masker never alters it (frames.ts, `intact`).
 */
export function upgradeFrames(
  masking: StageMasking,
  kube: KubeRequest,
): ((subprotocol: string) => ReturnType<typeof frameMasker>) | undefined {
  const m = masking.request;
  const intact = isCpDownload(kube.exec?.command ?? [], kube.exec?.stdin ?? false, kube.exec?.tty ?? false);
  return m ? (subprotocol) => frameMasker(m, subprotocol, intact) : undefined;
}

/**
 * Records what was masked (counts per rule) or that break-glass was used, as a chained audit note. Ordinary masking
 * is logged on the request's own log line (ctx.masked, record.ts), not a line of its own; break-glass and
 * not-maskable streams keep a line each. The note is queued synchronously (before the caller queues the request's
 * completion), so the two commit in one audit batch; the promise never rejects.
 */
export async function recordMasking(
  gw: GatewayRuntime,
  ctx: RequestContext,
  masking: StageMasking,
): Promise<void> {
  if (!masking.profile) return;
  const requestId = ctx.id;
  const counts = masking.request ? countsRecord(masking.request.counts) : {};
  const detail = {
    request: requestId,
    profile: masking.profile,
    breakGlass: masking.breakGlass,
    ...(masking.notMaskable
      ? { notMaskable: "port-forward bytes are opaque: recorded (ports, connections, bytes), not masked" }
      : {}),
    masked: masking.request ? totalCount(masking.request.counts) : 0,
    counts,
  };
  if (masking.notMaskable || masking.breakGlass) {
    gw.log.info(
      { requestId, masking: detail },
      masking.notMaskable ? "port-forward: not maskable" : "break-glass: response not masked",
    );
  } else ctx.masked = { profile: detail.profile, masked: detail.masked };
  try {
    await gw.store.audit.note({
      type: masking.notMaskable
        ? "masking.not-maskable"
        : masking.breakGlass
          ? "masking.break-glass"
          : "masking.applied",
      actor: "airlock",
      subject: requestId,
      detail,
    });
  } catch (err) {
    gw.log.error({ requestId, err: (err as Error).message }, "audit note of masking failed");
  }
}

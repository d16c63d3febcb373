// Per-request resource limits (issue 16 §6): ordinary requests in flight, in total and per identity, and each
// identity's long-running streams. A place is taken synchronously, at the moment the request is admitted, and given
// back when its response (or upgraded socket) closes — so a burst of simultaneous opens cannot all pass the check
// while each of them is still awaiting something (the overshoot of counting only registered streams).
//
// Counted per replica (per process), like the stream registry.

import type { Principal } from "../identity/types.ts";
import { badRequest, overLimit, requestTimeout, tooLarge } from "../kube/refusals.ts";
import type { Status } from "../kube/status.ts";
import type { GatewayRuntime } from "./runtime.ts";

/** Something that emits `close` once: a response or an upgraded socket. */
interface Closes {
  once(event: "close", listener: () => void): unknown;
}

interface Counters {
  inFlight: number;
  inFlightBy: Map<string, number>;
  streamsBy: Map<string, number>;
}

const counters = new WeakMap<GatewayRuntime, Counters>();

function countersOf(gw: GatewayRuntime): Counters {
  let c = counters.get(gw);
  if (!c) {
    c = { inFlight: 0, inFlightBy: new Map(), streamsBy: new Map() };
    counters.set(gw, c);
  }
  return c;
}

function take(map: Map<string, number>, key: string): () => void {
  map.set(key, (map.get(key) ?? 0) + 1);
  let given = false;
  return () => {
    if (given) return;
    given = true;
    const n = (map.get(key) ?? 1) - 1;
    if (n > 0) map.set(key, n);
    else map.delete(key);
  };
}

function refusal(gw: GatewayRuntime, limit: string, message: string): Status {
  gw.metrics.limitRefusals.inc({ limit });
  return overLimit(`airlock: ${message}`);
}

/**
 * limits.maxInFlightRequests and limits.maxInFlightPerIdentity: an ordinary request (not a watch, log follow or
 * upgrade: those count as streams) is admitted only while both have room; its place is held until `until` closes.
 */
export function admitInFlight(gw: GatewayRuntime, principal: Principal, until: Closes): Status | undefined {
  const { maxInFlightRequests: total, maxInFlightPerIdentity: perIdentity } = gw.config.limits;
  const c = countersOf(gw);
  if (c.inFlight >= total) {
    return refusal(
      gw,
      "maxInFlightRequests",
      `the gateway is handling ${c.inFlight} requests, its limit (limits.maxInFlightRequests = ${total}); ` +
        "retry shortly, or raise limits.maxInFlightRequests if the gateway has room",
    );
  }
  const mine = c.inFlightBy.get(principal.identityId) ?? 0;
  if (mine >= perIdentity) {
    return refusal(
      gw,
      "maxInFlightPerIdentity",
      `${principal.name} already has ${mine} requests in flight; the limit is ${perIdentity} ` +
        "(limits.maxInFlightPerIdentity). Wait for one to finish and retry.",
    );
  }
  c.inFlight++;
  const giveBack = take(c.inFlightBy, principal.identityId);
  let given = false;
  until.once("close", () => {
    if (given) return;
    given = true;
    c.inFlight--;
    giveBack();
  });
  return undefined;
}

/**
 * limits.maxStreamsPerIdentity: one identity's long-running streams (watch, log follow, exec, attach, port-forward)
 * are bounded, so one agent cannot hold the gateway's (and the cluster's) connections. The place is reserved here,
 * before any await of the stream's opening, and held until `until` closes.
 */
export function reserveStream(gw: GatewayRuntime, principal: Principal, until: Closes): Status | undefined {
  const max = gw.config.limits.maxStreamsPerIdentity;
  const c = countersOf(gw);
  const open = c.streamsBy.get(principal.identityId) ?? 0;
  if (open >= max) {
    return refusal(
      gw,
      "maxStreamsPerIdentity",
      `${principal.name} already has ${open} open streams (watch, log follow, exec, attach, port-forward); ` +
        `the limit is ${max} (limits.maxStreamsPerIdentity). Close one and retry.`,
    );
  }
  until.once("close", take(c.streamsBy, principal.identityId));
  return undefined;
}

/** What is counted now (tests and the shutdown log). */
export function requestCounts(gw: GatewayRuntime): { inFlight: number; streams: number } {
  const c = countersOf(gw);
  let streams = 0;
  for (const n of c.streamsBy.values()) streams += n;
  return { inFlight: c.inFlight, streams };
}

/** The Status for a body that could not be read: too large (413), too slow (408) or broken (400). */
export function bodyRefusal(
  gw: GatewayRuntime,
  read: { tooLarge: boolean; timedOut?: boolean; error: string },
): Status {
  if (read.tooLarge) {
    gw.metrics.limitRefusals.inc({ limit: "maxRequestBodyBytes" });
    return tooLarge(
      `airlock: ${read.error} (limits.maxRequestBodyBytes); send a smaller body or raise the limit`,
    );
  }
  if (read.timedOut) {
    gw.metrics.limitRefusals.inc({ limit: "requestTimeoutSeconds" });
    return requestTimeout(`airlock: ${read.error} (limits.requestTimeoutSeconds)`);
  }
  return badRequest(`airlock: could not read the request body: ${read.error}`);
}

// The secret VALUES an exec, attach or log stream may print (issue 12 §2): when such a stream opens under masking,
// the gateway reads the target pod and every Secret it references — env valueFrom.secretKeyRef, envFrom.secretRef,
// secret volumes, projected volume secret sources, in every container, init and ephemeral container — through the
// cluster connection AS ITSELF (its own upstream credential, no impersonation: the agent need not be able to read
// the Secrets for the gateway to mask them; docs/connections.md lists the access this needs). To those it adds the
// values it masked before for that cluster (remembered in memory, bounded).
//
// Fail closed: a pod or a Secret that cannot be read (other than a referenced Secret that does not exist) refuses the
// stream. Values live in memory only: never logged, never in the audit, never on disk; errors name objects, not values.

import type { KubeRequest } from "../../kube/request.ts";
import { callUpstream } from "../../review/upstream-call.ts";
import type { Upstream } from "../../upstream/index.ts";

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** The subresources whose output is the pod's own bytes (a proxied HTTP answer too): they get the known values. */
export const VALUE_STREAMS = new Set(["exec", "attach", "log", "proxy"]);

export function needsSecretValues(kube: KubeRequest): boolean {
  const { info } = kube;
  return info.resource === "pods" && info.apiGroup === "" && VALUE_STREAMS.has(info.subresource);
}

/**
 * The pod a stream is about: its name, or for pods/proxy the name inside `[scheme:]name[:port]` (kube-apiserver's
 * SplitSchemeNamePort). More than three parts is left as is, so the lookup fails closed (the pod is not found).
 */
export function podNameOf(kube: KubeRequest): string {
  const name = kube.info.name;
  if (kube.info.subresource !== "proxy") return name;
  const parts = name.split(":");
  if (parts.length === 2) return parts[0] as string;
  if (parts.length === 3) return parts[1] as string;
  return name;
}

/** The names of the Secrets a pod spec references. Pure. */
export function referencedSecrets(pod: unknown): string[] {
  const spec = isObj(pod) && isObj(pod.spec) ? pod.spec : {};
  const names = new Set<string>();
  const add = (v: unknown) => {
    if (typeof v === "string" && v) names.add(v);
  };
  for (const key of ["containers", "initContainers", "ephemeralContainers"]) {
    for (const c of list(spec[key])) {
      if (!isObj(c)) continue;
      for (const e of list(c.env)) {
        if (isObj(e) && isObj(e.valueFrom) && isObj(e.valueFrom.secretKeyRef))
          add(e.valueFrom.secretKeyRef.name);
      }
      for (const e of list(c.envFrom)) if (isObj(e) && isObj(e.secretRef)) add(e.secretRef.name);
    }
  }
  for (const v of list(spec.volumes)) {
    if (!isObj(v)) continue;
    if (isObj(v.secret)) add(v.secret.secretName);
    if (isObj(v.projected)) {
      for (const s of list(v.projected.sources)) if (isObj(s) && isObj(s.secret)) add(s.secret.name);
    }
  }
  return [...names].sort();
}

/** Every value of a Secret object, decoded. Pure. */
export function secretValuesOf(secret: unknown): Buffer[] {
  if (!isObj(secret)) return [];
  const out: Buffer[] = [];
  if (isObj(secret.data)) {
    for (const v of Object.values(secret.data)) if (typeof v === "string") out.push(Buffer.from(v, "base64"));
  }
  if (isObj(secret.stringData)) {
    for (const v of Object.values(secret.stringData)) if (typeof v === "string") out.push(Buffer.from(v));
  }
  return out;
}

export type LookupResult =
  | { ok: true; values: Buffer[]; secrets: string[] }
  | { ok: false; error: string; podNotFound?: string };

const enc = encodeURIComponent;
/** Names the gateway's own reads in the cluster's audit log (they are not impersonated: they are the gateway's). */
export const SECRET_VALUES_AGENT = "airlock-gateway/secret-values";
const OWN: [string, string][] = [["User-Agent", SECRET_VALUES_AGENT]];

/** Reads the pod and the Secrets it references, as the gateway itself. */
export async function lookupPodSecretValues(
  upstream: Upstream,
  namespace: string,
  pod: string,
): Promise<LookupResult> {
  const base = `/api/v1/namespaces/${enc(namespace)}`;
  const got = await callUpstream(upstream, "GET", `${base}/pods/${enc(pod)}`, OWN);
  if (got.status === 404) {
    // Nothing to stream from: answered as the cluster would (a pod created a moment later is read on the next try).
    const message = isObj(got.json) && typeof got.json.message === "string" ? got.json.message : "";
    return { ok: false, error: "the pod does not exist", podNotFound: message || `pods "${pod}" not found` };
  }
  if (got.status !== 200) return { ok: false, error: `reading pod ${namespace}/${pod}: ${why(got)}` };
  const secrets = referencedSecrets(got.json);
  const values: Buffer[] = [];
  const answers = await Promise.all(
    secrets.map((name) => callUpstream(upstream, "GET", `${base}/secrets/${enc(name)}`, OWN)),
  );
  for (const [i, answer] of answers.entries()) {
    if (answer.status === 404) continue; // an optional reference to a Secret that does not exist: nothing to leak
    if (answer.status !== 200)
      return { ok: false, error: `reading Secret ${namespace}/${secrets[i]}: ${why(answer)}` };
    values.push(...secretValuesOf(answer.json));
  }
  return { ok: true, values, secrets };
}

function why(answer: { status: number; json: unknown; error?: string }): string {
  if (answer.error) return answer.error;
  const message = isObj(answer.json) && typeof answer.json.message === "string" ? answer.json.message : "";
  return `HTTP ${answer.status}${message ? ` (${message.slice(0, 200)})` : ""}`;
}

/** Values longer than this are not remembered (they are rare; the pod's own Secrets are read whole). */
const REMEMBER_MAX_BYTES = 4096;
const REMEMBER_MAX_VALUES = 512;

/**
 * Values the gateway masked in responses for one cluster, most recent kept: a bounded set in memory only. Secret
 * values an agent read masked (and values from ConfigMaps or env) are then also masked if a pod prints them.
 */
export class RememberedValues {
  readonly #values = new Map<string, Buffer>();
  readonly #minBytes: number;

  constructor(minBytes = 6) {
    this.#minBytes = minBytes;
  }

  add(value: Uint8Array): void {
    if (value.length < this.#minBytes || value.length > REMEMBER_MAX_BYTES) return;
    const key = Buffer.from(value).toString("latin1");
    if (this.#values.has(key)) this.#values.delete(key);
    else if (this.#values.size >= REMEMBER_MAX_VALUES) {
      const oldest = this.#values.keys().next().value;
      if (oldest !== undefined) this.#values.delete(oldest);
    }
    this.#values.set(key, Buffer.from(value));
  }

  get size(): number {
    return this.#values.size;
  }

  values(): Buffer[] {
    return [...this.#values.values()];
  }
}

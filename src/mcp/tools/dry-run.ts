// "No change" writes (issue 20 §3): a write whose gateway-issued server-side dry run (call.ts kubeDryRun, decided as a
// get) leaves the object as it is answers "no change" and is not sent, so no review opens for nothing.

import type { DispatchRequest } from "../../gateway/dispatch.ts";
import type { CallContext } from "../call.ts";
import { json, kube, kubeDryRun, ok } from "../call.ts";

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

/** The object without what every write touches whether or not it changes anything (bookkeeping of the server). */
function comparable(value: unknown): unknown {
  if (!isObj(value)) return value;
  const copy = structuredClone(value);
  const meta = copy.metadata;
  if (isObj(meta)) {
    delete meta.managedFields;
    delete meta.resourceVersion;
    delete meta.generation;
  }
  return copy;
}

function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v) =>
    isObj(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}

/** Whether two objects are the same but for the server's bookkeeping (managedFields, resourceVersion, generation). */
export function sameObject(a: unknown, b: unknown): boolean {
  if (!isObj(a) || !isObj(b)) return false;
  return canonical(comparable(a)) === canonical(comparable(b));
}

/**
 * Whether `write` would change nothing: the live object (GET `objectPath`) equals the gateway's dry run of the write.
 * False whenever either request is refused or fails — the write then goes its own way through policy.
 */
export async function changesNothing(
  c: CallContext,
  objectPath: string,
  write: DispatchRequest,
): Promise<boolean> {
  const live = await kube(c, { method: "GET", path: objectPath, headers: { accept: "application/json" } });
  if (!ok(live)) return false;
  const dry = await kubeDryRun(c, write);
  return ok(dry) && sameObject(json(live), json(dry));
}

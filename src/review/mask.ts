// Masks secret values in what a reviewer sees (the diff and the request body). Pure; returns a copy.
//
// Stance: over-mask rather than leak. Every value under a Secret's data/stringData is replaced, so is every env
// `value` whose name looks secret, and the last-applied-configuration annotation (which kubectl apply fills with the
// whole object, Secret data included) is masked the same way. The general masking engine may replace this later.
export const MASKED = "<masked by airlock>";

const SECRET_NAME = /pass|secret|token|key|credential|auth|cert|private/i;
const LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration";

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function maskValues(map: unknown): unknown {
  if (!isObject(map)) return map;
  return Object.fromEntries(Object.keys(map).map((k) => [k, MASKED]));
}

function maskEnv(env: unknown): unknown {
  if (!Array.isArray(env)) return env;
  return env.map((item) => {
    if (!isObject(item) || typeof item.name !== "string" || !("value" in item)) return walk(item);
    return SECRET_NAME.test(item.name) ? { ...item, value: MASKED } : item;
  });
}

function walk(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(walk);
  if (!isObject(value)) return value;
  const isSecret = value.kind === "Secret";
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) {
    if (isSecret && (key === "data" || key === "stringData")) out[key] = maskValues(child);
    else if (key === "env") out[key] = maskEnv(child);
    else if (key === "annotations" && isObject(child)) out[key] = maskAnnotations(child);
    else out[key] = walk(child);
  }
  return out;
}

function maskAnnotations(annotations: Record<string, unknown>): Record<string, unknown> {
  const applied = annotations[LAST_APPLIED];
  if (typeof applied !== "string") return annotations;
  let masked: string;
  try {
    masked = JSON.stringify(walk(JSON.parse(applied)));
  } catch {
    masked = MASKED; // not JSON: it cannot be inspected, so it is not shown
  }
  return { ...annotations, [LAST_APPLIED]: masked };
}

export function maskSecrets<T>(value: T): T {
  return walk(value) as T;
}

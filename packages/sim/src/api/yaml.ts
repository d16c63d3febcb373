// YAML request bodies as kube-apiserver reads them: sigs.k8s.io/yaml over go-yaml v2, i.e. YAML 1.1 scalars (yes/no/
// on/off, 0b/0o/0x/leading-0 octal, `_` separators), `<<` merge keys, only the first document, and no base-60
// numbers (go-yaml v2 dropped them). Timestamps become RFC 3339 strings as Go's time.Time marshals them.
//
// The simulator's own reading, built on the `yaml` package's 1.1 schema: it shares no code with the gateway's reader,
// so a blind spot in one cannot hide in the other. Failure stance: what the apiserver would refuse (duplicate keys,
// NaN/Inf that JSON cannot hold) is a 400.
import { parseAllDocuments, type ScalarTag } from "yaml";
import { StatusError } from "../status.ts";

const DROPPED = new Set(["TIME"]);
const EXOTIC = new Set([
  "tag:yaml.org,2002:binary",
  "tag:yaml.org,2002:omap",
  "tag:yaml.org,2002:pairs",
  "tag:yaml.org,2002:set",
]);

/** Go's ParseInt base 0 also knows "0o17". */
const goOctal: ScalarTag = {
  tag: "tag:yaml.org,2002:int",
  default: true,
  test: /^[-+]?0o[0-7_]+$/,
  resolve: (s: string) => {
    const neg = s.startsWith("-");
    const v = Number.parseInt(s.replace(/^[-+]?0o/, "").replaceAll("_", ""), 8);
    return neg ? -v : v;
  },
};

function goTime(d: Date): string {
  return d
    .toISOString()
    .replace(/\.000Z$/, "Z")
    .replace(/(\.\d*?)0+Z$/, "$1Z");
}

function toJson(value: unknown): unknown {
  if (value instanceof Date) return goTime(value);
  if (typeof value === "number" && !Number.isFinite(value)) {
    throw StatusError.of("BadRequest", "error converting YAML to JSON: json: unsupported value: NaN or Inf");
  }
  if (Array.isArray(value)) return value.map(toJson);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toJson(v)]));
  }
  return value;
}

export function parseYamlAsApiserver(text: string): unknown {
  const docs = parseAllDocuments(text, {
    version: "1.1",
    merge: true,
    uniqueKeys: true,
    customTags: (tags) => [
      ...(tags as ScalarTag[]).filter((t) => !(t.format && DROPPED.has(t.format)) && !EXOTIC.has(t.tag)),
      goOctal,
    ],
  });
  const doc = Array.isArray(docs) ? docs[0] : undefined;
  if (!doc) return null;
  const err = doc.errors[0];
  if (err) throw StatusError.of("BadRequest", `error converting YAML to JSON: ${err.message.split("\n")[0]}`);
  return toJson(doc.toJS({ maxAliasCount: 1000 }));
}

// The request body, read once: its media type decides how, the reading is what policy sees, and what is forwarded is
// the JSON of that reading — so the cluster cannot read the request differently from the gateway. Pure.
//
//   POST/PUT   application/json                      read strictly (json.ts), forwarded as received
//              application/yaml                      read as YAML 1.1 (yaml11.ts), forwarded as application/json
//              application/vnd.kubernetes.protobuf   create/update of a resource only: opaque here; policy sees the
//                                                    object through the server-side dry run (object-context.ts)
//   PATCH      application/{json-patch,merge-patch,strategic-merge-patch}+json   read strictly, forwarded as received
//              application/apply-patch+yaml          read as YAML 1.1, forwarded as JSON (JSON is YAML; same type)
//   DELETE     application/json, application/yaml    DeleteOptions, forwarded as application/json
//
// Fail closed: a body without Content-Type, of another type, with parameters other than charset=utf-8, with a
// Content-Encoding, that is not UTF-8, or that the readers refuse is answered 415 or 400 and never forwarded.
// Proxy requests carry the proxied application's bytes and pass unread (policy cannot see into them anyway).
import { badRequest, unsupportedMediaType } from "../refusals.ts";
import type { KubeRequest } from "../request.ts";
import type { Status } from "../status.ts";
import { decodeUtf8, readJsonText } from "./json.ts";
import { readYamlText } from "./yaml11.ts";

export type BodyRead =
  | {
      ok: true;
      /** What policy reads (undefined: no body, or an opaque one). */
      value: unknown;
      /** The bytes and Content-Type to forward (the client's when nothing changed). */
      body: Buffer | undefined;
      contentType: string | undefined;
      /** The body's media type as received ("" without a body). */
      mediaType: string;
    }
  | { ok: false; status: Status };

const JSON_TYPES = new Set([
  "application/json",
  "application/json-patch+json",
  "application/merge-patch+json",
  "application/strategic-merge-patch+json",
]);
const PATCH_TYPES = [
  "application/json-patch+json",
  "application/merge-patch+json",
  "application/strategic-merge-patch+json",
  "application/apply-patch+yaml",
];
const PROTOBUF = "application/vnd.kubernetes.protobuf";

function accepted(method: string, kube: KubeRequest): string[] {
  if (method === "PATCH") return PATCH_TYPES;
  if (method === "DELETE") return ["application/json", "application/yaml"];
  const opaque = kube.info.isResourceRequest && ["create", "update"].includes(kube.info.verb);
  return ["application/json", "application/yaml", ...(opaque ? [PROTOBUF] : [])];
}

function unsupported(message: string, types: string[]): BodyRead {
  return {
    ok: false,
    status: unsupportedMediaType(
      `airlock: ${message}; accepted here: ${types.join(", ")}. The gateway reads every body before it is sent, so it refuses what it cannot read exactly as the cluster would`,
    ),
  };
}

function bad(message: string): BodyRead {
  return { ok: false, status: badRequest(`airlock: the request body was refused: ${message}`) };
}

/** Splits a Content-Type into its media type and parameters; undefined when it does not parse. */
export function parseContentType(value: string): { type: string; params: Map<string, string> } | undefined {
  const [head = "", ...rest] = value.split(";");
  const type = head.trim().toLowerCase();
  if (!/^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/.test(type)) return undefined;
  const params = new Map<string, string>();
  for (const p of rest) {
    const eq = p.indexOf("=");
    if (eq < 0) return undefined;
    const key = p.slice(0, eq).trim().toLowerCase();
    const v = p
      .slice(eq + 1)
      .trim()
      .replace(/^"(.*)"$/, "$1")
      .toLowerCase();
    if (!key || params.has(key)) return undefined;
    params.set(key, v);
  }
  return { type, params };
}

export function readRequestBody(
  method: string,
  kube: KubeRequest,
  headers: { contentType: string | undefined; contentEncoding: string | undefined },
  body: Buffer | undefined,
): BodyRead {
  const passThrough = {
    ok: true as const,
    value: undefined,
    body,
    contentType: headers.contentType,
    mediaType: "",
  };
  if (kube.info.verb === "proxy" || kube.info.subresource === "proxy") return passThrough;
  if (!body?.length) return passThrough;
  const types = accepted(method, kube);
  if (headers.contentEncoding && headers.contentEncoding.trim().toLowerCase() !== "identity") {
    return unsupported(
      `a request body with Content-Encoding "${headers.contentEncoding.slice(0, 40)}" is not accepted`,
      types,
    );
  }
  if (!headers.contentType)
    return unsupported("a request body without a Content-Type is not accepted", types);
  const ct = parseContentType(headers.contentType);
  if (!ct) return unsupported(`the Content-Type "${headers.contentType.slice(0, 80)}" does not parse`, types);
  if (!types.includes(ct.type)) {
    return unsupported(`the Content-Type "${ct.type}" is not accepted for ${method} ${kube.action}`, types);
  }
  for (const [k, v] of ct.params) {
    if (k !== "charset" || v !== "utf-8") {
      return unsupported(
        `the Content-Type parameter ${k}=${v.slice(0, 40)} is not accepted (only charset=utf-8)`,
        types,
      );
    }
  }
  if (ct.type === PROTOBUF) return { ...passThrough, mediaType: ct.type };
  const text = decodeUtf8(body);
  if (text === undefined) return bad("it is not valid UTF-8");
  if (JSON_TYPES.has(ct.type)) {
    const read = readJsonText(text);
    if (!read.ok) return bad(`not valid JSON for ${ct.type}: ${read.error}`);
    return { ok: true, value: read.value, body, contentType: headers.contentType, mediaType: ct.type };
  }
  const read = readYamlText(text);
  if (!read.ok)
    return bad(`not YAML that can be read exactly as the cluster would (${ct.type}): ${read.error}`);
  const forwardType = ct.type === "application/apply-patch+yaml" ? ct.type : "application/json";
  return {
    ok: true,
    value: read.value,
    body: Buffer.from(JSON.stringify(read.value), "utf8"),
    contentType: forwardType,
    mediaType: ct.type,
  };
}

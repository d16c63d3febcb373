// Decodes the raw bytes of a runtime.Unknown (the `k8s\0` envelope's payload) into the JSON object of a kind the
// simulator has a protobuf schema for. Fail closed: a kind without a schema is 415, never half-decoded.

import type { KubeObject, ObjectMeta } from "../contracts.ts";
import { failure, StatusError } from "../status.ts";
import { decodeMessage, type SchemaTable } from "./decode.ts";
import { KIND_MESSAGES, KINDS } from "./kinds.ts";
import { META } from "./meta.ts";
import { POD } from "./pod.ts";

const TABLE: SchemaTable = { ...META, ...POD, ...KINDS };

/** Whether `group/kind` has a protobuf schema here. */
export function decodesKind(group: string, kind: string): boolean {
  return KIND_MESSAGES[`${group}/${kind}`] !== undefined;
}

export function decodeKubeObject(apiVersion: string, kind: string, raw: Buffer): KubeObject {
  const group = apiVersion.includes("/") ? apiVersion.slice(0, apiVersion.indexOf("/")) : "";
  const message = KIND_MESSAGES[`${group}/${kind}`];
  if (!message) {
    throw new StatusError(
      failure(
        "UnsupportedMediaType",
        `the simulator does not support protobuf request bodies for kind "${kind}" (${apiVersion || "no apiVersion"}); send application/json`,
      ),
    );
  }
  const { metadata, ...rest } = decodeMessage(TABLE, message, raw);
  return { apiVersion, kind, metadata: (metadata ?? {}) as ObjectMeta, ...rest };
}

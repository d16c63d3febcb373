// What the admin API accepts, as zod schemas (also rendered into the OpenAPI document).
//
// Names, groups and labels end up in Impersonate-* headers sent to the cluster, so they are held to the
// Kubernetes-safe alphabets here, and groups in the cluster's reserved `system:` namespace are refused: an Airlock
// admin must not be able to mint an agent that the cluster would treat as `system:masters`.
import { z } from "zod";
import { invalid as invalidStatus } from "../kube/refusals.ts";
import type { Status, StatusCause } from "../kube/status.ts";

export const IDENTITY_NAME = /^[a-z0-9]([a-z0-9._@-]{0,251}[a-z0-9])?$/;
const GROUP = /^[A-Za-z0-9]([A-Za-z0-9:._@-]{0,251}[A-Za-z0-9])?$/;
const LABEL_KEY = /^([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?\/)?[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^([A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?)?$/;

export const identityName = z
  .string()
  .regex(
    IDENTITY_NAME,
    "must be lower-case letters, digits, '.', '_', '@' or '-', starting and ending alphanumeric",
  );

export const group = z
  .string()
  .regex(GROUP, "must be letters, digits, ':', '.', '_', '@' or '-', starting and ending alphanumeric")
  .refine((g) => !g.startsWith("system:"), "groups starting with 'system:' are reserved by Kubernetes");

export const labels = z.record(
  z.string().regex(LABEL_KEY, "label keys are Kubernetes label keys ([prefix/]name)"),
  z.string().regex(LABEL_VALUE, "label values are at most 63 letters, digits, '.', '_' or '-'"),
);

/** A Kubernetes namespace name (RFC 1123 label). */
export const namespaceName = z
  .string()
  .regex(
    /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/,
    "a namespace name: lowercase letters, digits and '-', at most 63",
  );

export const rfc3339 = z.iso.datetime({
  offset: true,
  message: "must be an RFC 3339 time, e.g. 2026-03-01T10:00:00Z",
});

/** A credential's scopes (src/identity/scopes.ts). */
export const credentialScopes = z.strictObject({
  clusters: z
    .array(z.string().regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, "a cluster name"))
    .max(64)
    .optional(),
  readOnly: z.boolean().optional(),
});

/** Options of a new API token. */
export const tokenOptions = {
  name: z.string().max(64).optional(),
  expiresAt: rfc3339.optional(),
  scopes: credentialScopes.optional(),
};

export const createIdentityRequest = z.strictObject({
  name: identityName,
  kind: z.enum(["agent", "human"]),
  groups: z.array(group).max(64).default([]),
  labels: labels.default({}),
  /** The human identity accountable for an agent. */
  owner: identityName.optional(),
  description: z.string().max(1024).optional(),
  expiresAt: rfc3339.optional(),
  /** The namespace MCP tools use when a call names none (a convenience, never a permission). */
  defaultNamespace: namespaceName.optional(),
  /** Options of the first token. */
  token: z.strictObject(tokenOptions).optional(),
});

export type CreateIdentityRequest = z.infer<typeof createIdentityRequest>;

export const auditQuery = z.strictObject({
  identity: identityName.optional(),
  since: z.iso
    .datetime({ offset: true, message: "since must be an RFC 3339 time, e.g. 2026-03-01T10:00:00Z" })
    .optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

/** A zod failure as a 422 Invalid Status, one cause per problem, the way kube-apiserver reports field errors. */
export function invalid(kind: string, name: string, error: z.ZodError): Status {
  const causes: StatusCause[] = error.issues.map((issue) => ({
    type: "FieldValueInvalid",
    field: issue.path.length ? issue.path.join(".") : "<root>",
    message: issue.message,
  }));
  const summary = causes.map((c) => `${c.field}: ${c.message}`).join("; ");
  return invalidStatus(`${kind} "${name}" is invalid: ${summary}`, { kind, name, causes });
}

// The OpenAPI 3.1 description of the admin API. Request schemas come from the zod schemas the API validates with,
// so the document cannot drift from what is enforced; a test checks every route in routes.ts is described.
import { z } from "zod";
import { agentOpenApiPaths } from "./agents.ts";
import { auditOpenApiPaths } from "./audit.ts";
import { clusterOpenApiPaths } from "./clusters.ts";
import { delegationOpenApiPaths } from "./delegations.ts";
import { identityOpenApiPaths } from "./identities.ts";
import { policyOpenApiPaths } from "./policies.ts";
import { reviewOpenApiPaths } from "./reviews.ts";
import { createIdentityRequest } from "./schemas.ts";
import { sessionOpenApiPaths } from "./sessions.ts";

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: unknown) => ({ "application/json": { schema } });
const errors = (...codes: number[]) =>
  Object.fromEntries(codes.map((code) => [String(code), { $ref: `#/components/responses/Status${code}` }]));

const nullable = (type: string) => ({ type: [type, "null"] });
const stringMap = { type: "object", additionalProperties: { type: "string" } };

const IDENTITY = {
  type: "object",
  required: ["id", "name", "kind", "groups", "labels", "createdAt", "revokedAt", "lastUsedAt"],
  properties: {
    id: { type: "string" },
    name: { type: "string" },
    kind: { type: "string", enum: ["agent", "human"] },
    groups: { type: "array", items: { type: "string" } },
    labels: stringMap,
    createdAt: { type: "string", format: "date-time" },
    revokedAt: { ...nullable("string"), format: "date-time" },
    lastUsedAt: { ...nullable("string"), format: "date-time" },
  },
};

const AUDIT_STRINGS = [
  "id",
  "time",
  "sourceAddress",
  "userAgent",
  "cluster",
  "method",
  "path",
  "verb",
  "apiGroup",
];
const AUDIT_MORE = ["apiVersion", "namespace", "resource", "subresource", "name"];
const AUDIT_NULLABLE = ["identityId", "identityName", "identityKind", "credentialId", "kubectlCommand"];
const AUDIT_NULLABLE_MORE = ["kubectlSession", "policy", "rule", "reason", "completedAt"];
const AUDIT_EVENT = {
  type: "object",
  properties: {
    ...Object.fromEntries([...AUDIT_STRINGS, ...AUDIT_MORE].map((k) => [k, { type: "string" }])),
    ...Object.fromEntries([...AUDIT_NULLABLE, ...AUDIT_NULLABLE_MORE].map((k) => [k, nullable("string")])),
    ...Object.fromEntries(
      ["status", "bytesIn", "bytesOut", "durationMs"].map((k) => [k, nullable("integer")]),
    ),
    execCommand: { type: ["array", "null"], items: { type: "string" } },
    decision: { type: "string", enum: ["allow", "deny", "error"] },
  },
};

const STATUS = {
  type: "object",
  description: "A Kubernetes metav1.Status: every error of the admin API has this shape.",
  required: ["kind", "apiVersion", "status", "code"],
  properties: {
    kind: { const: "Status" },
    apiVersion: { const: "v1" },
    metadata: { type: "object" },
    status: { type: "string", enum: ["Success", "Failure"] },
    message: { type: "string" },
    reason: { type: "string" },
    details: { type: "object" },
    code: { type: "integer" },
  },
};

const STATUS_TEXT: Record<number, string> = {
  400: "Bad request",
  401: "No valid token",
  403: "The caller may not do this",
  404: "Not found",
  409: "Already exists",
  415: "The body is not application/json",
  422: "The body failed validation",
  500: "Internal error",
};

const nameParam = { name: "name", in: "path", required: true, schema: { type: "string" } };

export function openApiDocument(gatewayUrl: string): Record<string, unknown> {
  const doc = baseDocument(gatewayUrl);
  // Identity operations share paths with the ones above (GET and PATCH /identities/{name}): merge by method.
  const paths = doc.paths as Record<string, Record<string, unknown>>;
  for (const [path, ops] of Object.entries(identityOpenApiPaths())) paths[path] = { ...paths[path], ...ops };
  for (const [path, ops] of Object.entries(auditOpenApiPaths())) paths[path] = { ...paths[path], ...ops };
  for (const [path, ops] of Object.entries(policyOpenApiPaths())) paths[path] = { ...paths[path], ...ops };
  for (const [path, ops] of Object.entries(sessionOpenApiPaths())) paths[path] = { ...paths[path], ...ops };
  for (const [path, ops] of Object.entries(clusterOpenApiPaths())) paths[path] = { ...paths[path], ...ops };
  for (const [path, ops] of Object.entries(agentOpenApiPaths())) paths[path] = { ...paths[path], ...ops };
  for (const [path, ops] of Object.entries(delegationOpenApiPaths()))
    paths[path] = { ...paths[path], ...ops };
  return doc;
}

function baseDocument(gatewayUrl: string): Record<string, unknown> {
  const createSchema = z.toJSONSchema(createIdentityRequest, { io: "input" });
  delete (createSchema as Record<string, unknown>).$schema;
  return {
    openapi: "3.1.0",
    info: {
      title: "Airlock admin API",
      version: "v1",
      description:
        "Identities and audit of the Airlock gateway. Authenticate with the admin token or a human token.",
    },
    servers: [{ url: gatewayUrl }],
    security: [{ bearer: [] }],
    paths: {
      "/airlock/v1/identities": {
        get: {
          operationId: "listIdentities",
          summary: "List identities",
          responses: {
            "200": { description: "All identities", content: json(list("Identity")) },
            ...errors(401, 403, 500),
          },
        },
        post: {
          operationId: "createIdentity",
          summary: "Create an identity and its first token (shown only in this response)",
          requestBody: { required: true, content: json(ref("CreateIdentityRequest")) },
          responses: {
            "201": { description: "Created", content: json(ref("CreatedIdentity")) },
            ...errors(400, 401, 403, 409, 415, 422, 500),
          },
        },
      },
      "/airlock/v1/identities/{name}": {
        get: {
          operationId: "getIdentity",
          summary: "Read one identity",
          parameters: [nameParam],
          responses: {
            "200": { description: "The identity", content: json(ref("Identity")) },
            ...errors(401, 403, 404),
          },
        },
      },
      "/airlock/v1/identities/{name}/revoke": {
        post: {
          operationId: "revokeIdentity",
          summary: "Revoke an identity: its tokens stop working at once and its live streams are closed",
          parameters: [nameParam],
          responses: {
            "200": { description: "Revoked", content: json(ref("Identity")) },
            ...errors(401, 403, 404, 500),
          },
        },
      },
      "/airlock/v1/audit": {
        get: {
          operationId: "listAudit",
          summary: "Audit events, newest first",
          parameters: [
            {
              name: "identity",
              in: "query",
              schema: { type: "string" },
              description: "Only this identity's events",
            },
            { name: "since", in: "query", schema: { type: "string", format: "date-time" } },
            {
              name: "limit",
              in: "query",
              schema: { type: "integer", minimum: 1, maximum: 1000, default: 100 },
            },
          ],
          responses: {
            "200": { description: "Events", content: json(list("AuditEvent")) },
            ...errors(400, 401, 403, 500),
          },
        },
      },
      ...reviewOpenApiPaths(),
      "/airlock/v1/openapi.json": {
        get: {
          operationId: "openapi",
          summary: "This document",
          security: [],
          responses: { "200": { description: "OpenAPI 3.1", content: json({ type: "object" }) } },
        },
      },
    },
    components: {
      securitySchemes: { bearer: { type: "http", scheme: "bearer" } },
      schemas: {
        Identity: IDENTITY,
        AuditEvent: AUDIT_EVENT,
        Status: STATUS,
        CreateIdentityRequest: createSchema,
        CreatedIdentity: {
          type: "object",
          required: ["identity", "token", "kubeconfig"],
          properties: {
            identity: ref("Identity"),
            token: {
              type: "string",
              description: "The bearer token. It is not stored and cannot be shown again.",
            },
            kubeconfig: { type: "string", description: "A kubeconfig (YAML) for this identity and gateway" },
          },
        },
      },
      responses: Object.fromEntries(
        Object.entries(STATUS_TEXT).map(([code, description]) => [
          `Status${code}`,
          { description, content: json(ref("Status")) },
        ]),
      ),
    },
  };
}

function list(item: string) {
  return { type: "object", required: ["items"], properties: { items: { type: "array", items: ref(item) } } };
}

// The admin API's policy routes: the loaded set, "what would happen" for a described request, and management of
// the managed directory <dataDir>/policies. Mounted by api.ts; the OpenAPI paths for them live here too.
//
// Security stance: reading and evaluating need a human or the admin (agents are refused by the router); writing
// needs the admin or airlock:admins ("write"). A PUT is validated together with every other loaded file before
// anything is written — a refused change answers 422 with every error and leaves the disk untouched — and the file
// is replaced atomically (rename), so the watcher never reads half a policy. Evaluation uses the gateway's own
// evaluator and consumes no rate-limit budget. Policies defined in configured files are read-only here (409).
// A PUT or DELETE is chained as a `policy.put` / `policy.deleted` note naming who and which policy (with the
// SHA-256 of the new text) after it validates and before the disk changes: a change that cannot be recorded is not
// made (500, the disk untouched). The engine's reload that follows is noted too (`policy.reloaded`).
import { createHash, randomUUID } from "node:crypto";
import { mkdir, rename, rm, stat, writeFile } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { join } from "node:path";
import { stringify } from "yaml";
import type { AuditNotes } from "../audit/types.ts";
import type { Principal } from "../identity/types.ts";
import { conflict, invalid, notFound } from "../kube/refusals.ts";
import { StatusError, success } from "../kube/status.ts";
import type { PolicyEngine } from "../policy/engine.ts";
import { compileSources, readSources } from "../policy/load.ts";
import { describeToRequest } from "../policy/request.ts";
import { NAME } from "../policy/schema.ts";
import { readJsonBody, sendJson } from "./http.ts";

export type PolicyRouteId = "listPolicies" | "evaluatePolicy" | "putPolicy" | "deletePolicy";

export const POLICY_ROUTES = [
  { id: "listPolicies", method: "GET", path: "/airlock/v1/policies", access: "read" },
  { id: "evaluatePolicy", method: "POST", path: "/airlock/v1/policies/evaluate", access: "read" },
  { id: "putPolicy", method: "PUT", path: "/airlock/v1/policies/{name}", access: "write" },
  { id: "deletePolicy", method: "DELETE", path: "/airlock/v1/policies/{name}", access: "write" },
] as const;

export interface PolicyCall {
  req: IncomingMessage;
  res: ServerResponse;
  params: Record<string, string>;
  principal?: Principal | undefined;
}

function noEngine(): StatusError {
  return new StatusError(
    notFound(
      "this gateway runs a built-in policy (policy.builtin); configure policy.files to use policy documents",
    ),
  );
}

function invalidPolicy(name: string, errors: string[]): StatusError {
  return new StatusError(
    invalid(`policy "${name}" is invalid: ${errors.join("; ")}`, {
      kind: "policies",
      name,
      causes: errors.map((message) => ({ type: "FieldValueInvalid", message })),
    }),
  );
}

export function policyHandlers(
  engine: PolicyEngine | undefined,
  opts: { audit?: AuditNotes } = {},
): Record<PolicyRouteId, (call: PolicyCall) => Promise<void>> {
  // Writes are serialized: validate-then-write must see the files as they are.
  let writing: Promise<unknown> = Promise.resolve();
  const serialized = <T>(fn: () => Promise<T>): Promise<T> => {
    const next = writing.then(fn, fn);
    writing = next.catch(() => {});
    return next;
  };
  const managedFile = (dir: string, name: string) => join(dir, `${name}.yaml`);
  // Write-ahead: a failure here throws before the file is touched.
  const noteChange = async (
    type: "policy.put" | "policy.deleted",
    principal: Principal | undefined,
    name: string,
    detail: Record<string, string | boolean>,
  ) => {
    await opts.audit?.audit.note({ type, actor: principal?.name ?? "unknown", subject: name, detail });
  };

  return {
    async listPolicies({ res }) {
      if (!engine) throw noEngine();
      const docs = engine.loadedDocuments();
      sendJson(res, 200, {
        items: engine.current().policies.map((p) => ({ ...p.document, source: p.source })),
        maskingProfiles: docs.maskingProfiles,
        files: docs.files,
        managedDir: engine.sources.managedDir ?? null,
        loadedAt: docs.loadedAt,
        lastReloadErrors: engine.lastError() ?? null,
      });
    },
    async evaluatePolicy({ req, res }) {
      if (!engine) throw noEngine();
      const described = describeToRequest(await readJsonBody(req));
      if (!described.ok) {
        throw new StatusError(
          invalid(`the described request is invalid: ${described.errors.join("; ")}`, {
            kind: "policies",
            causes: described.errors.map((message) => ({ type: "FieldValueInvalid", message })),
          }),
        );
      }
      const result = engine.evaluate(
        described.principal,
        described.kube,
        described.now ? { now: described.now } : {},
      );
      sendJson(res, 200, { decision: result.decision, matched: result.matched });
    },
    async putPolicy({ req, res, params, principal }) {
      if (!engine) throw noEngine();
      const dir = engine.sources.managedDir;
      if (!dir) throw noEngine();
      const name = params.name ?? "";
      if (!NAME.test(name)) throw invalidPolicy(name, ["metadata.name: must be a DNS label"]);
      const body = (await readJsonBody(req)) as { metadata?: { name?: unknown } } | null;
      if (body?.metadata?.name !== name) {
        throw invalidPolicy(name, [`metadata.name: must be "${name}", the name in the path`]);
      }
      await serialized(async () => {
        const file = managedFile(dir, name);
        const existing = engine.current().policies.find((p) => p.name === name);
        if (existing && !existing.source.managed) {
          throw new StatusError(
            conflict(
              `policy "${name}" is defined in ${existing.source.file}, which the admin API does not manage; edit that file`,
            ),
          );
        }
        const text = `# Managed by the Airlock admin API (PUT /airlock/v1/policies/${name}).\n${stringify(body)}`;
        const { sources, errors: readErrors } = await readSources(engine.sources);
        if (readErrors.length) throw invalidPolicy(name, readErrors);
        const candidate = [...sources.filter((s) => s.file !== file), { file, text, managed: true }];
        const checked = compileSources(candidate);
        if (!checked.ok) throw invalidPolicy(name, checked.errors);
        await noteChange("policy.put", principal, name, {
          file,
          created: !existing,
          sha256: createHash("sha256").update(text, "utf8").digest("hex"),
        });
        await mkdir(dir, { recursive: true, mode: 0o700 });
        const tmp = join(dir, `.${name}.${randomUUID()}.tmp`);
        await writeFile(tmp, text, { mode: 0o600 });
        await rename(tmp, file);
        const reloaded = await engine.reload();
        if (!reloaded.ok) throw invalidPolicy(name, reloaded.errors);
        sendJson(res, existing ? 200 : 201, {
          ...checked.set.policies.find((p) => p.name === name)?.document,
          source: { file, managed: true },
        });
      });
    },
    async deletePolicy({ res, params, principal }) {
      if (!engine) throw noEngine();
      const dir = engine.sources.managedDir;
      if (!dir) throw noEngine();
      const name = params.name ?? "";
      await serialized(async () => {
        const file = managedFile(dir, name);
        const exists = await stat(file).then(
          () => true,
          () => false,
        );
        if (!exists) {
          const existing = engine.current().policies.find((p) => p.name === name);
          if (existing) {
            throw new StatusError(
              conflict(
                `policy "${name}" is defined in ${existing.source.file}, which the admin API does not manage; edit that file`,
              ),
            );
          }
          throw new StatusError(notFound(`policy "${name}" not found`, { name, kind: "policies" }));
        }
        await noteChange("policy.deleted", principal, name, { file });
        await rm(file);
        const reloaded = await engine.reload();
        if (!reloaded.ok) throw invalidPolicy(name, reloaded.errors);
        sendJson(res, 200, success({ name, kind: "policies" }));
      });
    },
  };
}

export function describePolicyRoute(id: PolicyRouteId, name: string | undefined): string {
  switch (id) {
    case "listPolicies":
      return "reading policies";
    case "evaluatePolicy":
      return "evaluating policies";
    case "putPolicy":
      return `writing policy "${name}"`;
    case "deletePolicy":
      return `deleting policy "${name}"`;
  }
}

const json = (schema: unknown) => ({ "application/json": { schema } });
const object = { type: "object" };
const nameParam = { name: "name", in: "path", required: true, schema: { type: "string" } };
const errors = (...codes: number[]) =>
  Object.fromEntries(
    codes.map((c) => [String(c), { description: "A Kubernetes Status", content: json(object) }]),
  );

export function policyOpenApiPaths(): Record<string, Record<string, unknown>> {
  return {
    "/airlock/v1/policies": {
      get: {
        operationId: "listPolicies",
        summary: "The loaded policies with their source files, masking profiles, and the last refused reload",
        responses: { "200": { description: "Policies", content: json(object) }, ...errors(401, 403, 404) },
      },
    },
    "/airlock/v1/policies/evaluate": {
      post: {
        operationId: "evaluatePolicy",
        summary:
          "What would happen: a described request (docs/policy.md) → the decision, through the live evaluator",
        requestBody: { required: true, content: json(object) },
        responses: {
          "200": { description: "The decision", content: json(object) },
          ...errors(400, 401, 403, 404, 415, 422),
        },
      },
    },
    "/airlock/v1/policies/{name}": {
      put: {
        operationId: "putPolicy",
        summary: "Create or replace a managed policy (validated with every loaded file before it is written)",
        parameters: [nameParam],
        requestBody: { required: true, content: json(object) },
        responses: {
          "200": { description: "Replaced", content: json(object) },
          "201": { description: "Created", content: json(object) },
          ...errors(400, 401, 403, 404, 409, 415, 422),
        },
      },
      delete: {
        operationId: "deletePolicy",
        summary: "Delete a managed policy",
        parameters: [nameParam],
        responses: {
          "200": { description: "Deleted", content: json(object) },
          ...errors(401, 403, 404, 409),
        },
      },
    },
  };
}

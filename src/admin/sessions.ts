// The admin API's session routes: list sessions, read one (its timeline of requests and decisions, and its
// recordings), and download a recording with HTTP Range support (a console seeks in a long recording; a live one
// is served up to its current size). Mounted by api.ts.
//
// Security stance: "read" routes (humans and the admin; agents refused by the router). A recording is served only
// through its store row, under the session named in the path, from a file name the gateway built itself (checked
// again here), so no path from the request ever reaches the file system.
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import type { ServerResponse } from "node:http";
import { join } from "node:path";
import { z } from "zod";
import { badRequest, notFound, rangeNotSatisfiable } from "../kube/refusals.ts";
import { StatusError, sendStatus } from "../kube/status.ts";
import type { SessionRecord } from "../recording/types.ts";
import type { Store } from "../store/types.ts";
import { sendJson } from "./http.ts";
import { identityName } from "./schemas.ts";

export type SessionRouteId = "listSessions" | "getSession" | "getRecording";
export const SESSION_ROUTE_IDS: readonly SessionRouteId[] = ["listSessions", "getSession", "getRecording"];

export const SESSION_ROUTES = [
  { id: "listSessions", method: "GET", path: "/airlock/v1/sessions", access: "read" },
  { id: "getSession", method: "GET", path: "/airlock/v1/sessions/{id}", access: "read" },
  { id: "getRecording", method: "GET", path: "/airlock/v1/sessions/{id}/recordings/{rid}", access: "read" },
] as const;

const sessionQuery = z.strictObject({
  identity: identityName.optional(),
  since: z.iso.datetime({ offset: true, message: "an RFC 3339 time, e.g. 2026-03-01T10:00:00Z" }).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

const CONTENT_TYPE = {
  asciicast: "application/x-asciicast",
  tar: "application/x-tar",
  jsonl: "application/x-ndjson",
} as const;
const SAFE_FILE = /^[0-9a-f-]{36}\/[0-9a-f-]{36}\.(cast|tar|jsonl)$/;

interface Call {
  res: ServerResponse;
  url: URL;
  params: Record<string, string>;
  req: { headers: Record<string, string | string[] | undefined> };
}

/** The session as clients see it: the grouping key (which holds the Kubectl-Session value) stays inside. */
export function publicSession(s: SessionRecord): Omit<SessionRecord, "key"> {
  const { key: _key, ...rest } = s;
  return rest;
}

/** `Range: bytes=…` against a size: one range only; undefined = whole file; "unsatisfiable" = 416. */
export function parseRange(
  header: string | undefined,
  size: number,
): { start: number; end: number } | "unsatisfiable" | undefined {
  if (!header) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m) return undefined; // an unsupported or multi-range form: RFC 9110 lets us answer the whole file
  const [, a = "", b = ""] = m;
  if (a === "" && b === "") return undefined;
  let start: number;
  let end: number;
  if (a === "") {
    const suffix = Number(b);
    if (suffix === 0) return "unsatisfiable";
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(a);
    end = b === "" ? size - 1 : Math.min(Number(b), size - 1);
  }
  if (start >= size || start > end) return "unsatisfiable";
  return { start, end };
}

export function sessionHandlers(
  store: Store,
  recordingsDir: string | undefined,
): Record<SessionRouteId, (call: Call) => Promise<void>> {
  const session = async (id: string) => {
    const s = await store.sessions.get(id);
    if (!s) throw new StatusError(notFound(`session "${id}" not found`, { name: id, kind: "sessions" }));
    return s;
  };
  return {
    async listSessions({ res, url }) {
      const raw = Object.fromEntries(url.searchParams);
      const parsed = sessionQuery.safeParse(raw);
      if (!parsed.success) {
        const problems = parsed.error.issues.map((i) => `${i.path.join(".") || "query"}: ${i.message}`);
        throw new StatusError(badRequest(`invalid query: ${problems.join("; ")}`));
      }
      const q = parsed.data;
      const items = await store.sessions.list({
        limit: q.limit,
        ...(q.identity ? { identityName: q.identity } : {}),
        ...(q.since ? { since: q.since } : {}),
      });
      sendJson(res, 200, { items: items.map(publicSession) });
    },
    async getSession({ res, params }) {
      const s = await session(params.id ?? "");
      const [events, recordings] = await Promise.all([
        store.sessions.events(s.id, 10_000),
        store.recordings.list(s.id),
      ]);
      sendJson(res, 200, { session: publicSession(s), events, recordings });
    },
    async getRecording({ req, res, params }) {
      const s = await session(params.id ?? "");
      const rid = params.rid ?? "";
      const rec = await store.recordings.get(rid);
      if (!rec || rec.sessionId !== s.id) {
        throw new StatusError(
          notFound(`recording "${rid}" not found in session "${s.id}"`, {
            name: rid,
            kind: "recordings",
          }),
        );
      }
      if (!recordingsDir || !SAFE_FILE.test(rec.file))
        throw new StatusError(notFound(`recording "${rid}" has no readable file`));
      const path = join(recordingsDir, rec.file);
      let size: number;
      try {
        size = (await stat(path)).size;
      } catch {
        throw new StatusError(notFound(`the file of recording "${rid}" is gone`));
      }
      const headers: Record<string, string> = {
        "content-type": CONTENT_TYPE[rec.format],
        "cache-control": "no-store",
        "accept-ranges": "bytes",
        "x-content-type-options": "nosniff",
        "content-disposition": `attachment; filename="${rec.id}.${rec.file.split(".").pop()}"`,
      };
      const rangeHeader = req.headers.range;
      const range = parseRange(typeof rangeHeader === "string" ? rangeHeader : undefined, size);
      if (range === "unsatisfiable") {
        sendStatus(
          res,
          rangeNotSatisfiable(`the recording "${rid}" has ${size} bytes; the requested range is outside it`),
          {
            "accept-ranges": "bytes",
            "content-range": `bytes */${size}`,
          },
        );
        return;
      }
      const { start, end } = range ?? { start: 0, end: size - 1 };
      const length = size === 0 ? 0 : end - start + 1;
      if (range) headers["content-range"] = `bytes ${start}-${end}/${size}`;
      res.writeHead(range ? 206 : 200, { ...headers, "content-length": String(length) });
      if (length === 0) return void res.end();
      const stream = createReadStream(path, { start, end });
      stream.on("error", () => res.destroy());
      stream.pipe(res);
    },
  };
}

export function describeSessionRoute(id: SessionRouteId, name: string | undefined): string {
  switch (id) {
    case "listSessions":
      return "listing sessions";
    case "getSession":
      return `reading session "${name}"`;
    case "getRecording":
      return `reading a recording of session "${name}"`;
  }
}

const errors = (...codes: number[]) =>
  Object.fromEntries(codes.map((code) => [String(code), { $ref: `#/components/responses/Status${code}` }]));
const idParam = (name: string) => ({ name, in: "path", required: true, schema: { type: "string" } });
const object = { type: "object" };

export function sessionOpenApiPaths(): Record<string, Record<string, unknown>> {
  return {
    "/airlock/v1/sessions": {
      get: {
        operationId: "listSessions",
        summary:
          "Sessions (requests grouped by Kubectl-Session or identity and idle window), newest activity first",
        parameters: [
          { name: "identity", in: "query", schema: { type: "string" } },
          { name: "since", in: "query", schema: { type: "string", format: "date-time" } },
          {
            name: "limit",
            in: "query",
            schema: { type: "integer", minimum: 1, maximum: 1000, default: 100 },
          },
        ],
        responses: {
          "200": { description: "Sessions", content: { "application/json": { schema: object } } },
          ...errors(400, 401, 403, 500),
        },
      },
    },
    "/airlock/v1/sessions/{id}": {
      get: {
        operationId: "getSession",
        summary: "One session: its requests and decisions in order, and its recordings",
        parameters: [idParam("id")],
        responses: {
          "200": { description: "The session", content: { "application/json": { schema: object } } },
          ...errors(401, 403, 404, 500),
        },
      },
    },
    "/airlock/v1/sessions/{id}/recordings/{rid}": {
      get: {
        operationId: "getRecording",
        summary: "A recording's bytes (asciicast v2, tar or JSON lines); supports Range: bytes=…",
        parameters: [
          idParam("id"),
          idParam("rid"),
          { name: "Range", in: "header", schema: { type: "string" } },
        ],
        responses: {
          "200": { description: "The whole recording" },
          "206": { description: "The requested range" },
          "416": { description: "The range is outside the recording" },
          ...errors(401, 403, 404, 500),
        },
      },
    },
  };
}

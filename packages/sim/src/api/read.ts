// get and list: one object, or a filtered, paginated collection, as JSON or as a meta.k8s.io Table.
//
// Failure stance: bad selectors and bad limit/continue values are 400s; a continue token from before the store's
// retained history is 410 Expired, as kube-apiserver answers when etcd has compacted past it.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { KubeObject, ResourceType, SimRequest } from "../contracts.ts";
import { apiVersionOf } from "../registry.ts";
import {
  checkFieldSelector,
  matchesFieldSelector,
  matchesLabelSelector,
  parseFieldSelector,
  parseLabelSelector,
} from "../selectors.ts";
import { StatusError } from "../status.ts";
import { notFound } from "../store.ts";
import { type PrinterColumn, printerColumnsOf, toTable } from "../table.ts";
import type { ApiContext } from "./context.ts";
import { includeObjectOf, sendJson, wantsTable } from "./respond.ts";

/** A predicate for the label and field selectors of a list or watch, plus the name RequestInfo narrowed it to. */
export function objectFilter(type: ResourceType, route: SimRequest): (obj: KubeObject) => boolean {
  const labels = parseLabelSelector(route.query.get("labelSelector") ?? "");
  const fields = parseFieldSelector(route.query.get("fieldSelector") ?? "");
  checkFieldSelector(fields, type.kind);
  const name = route.name;
  return (obj) =>
    (!name || obj.metadata.name === name) &&
    matchesLabelSelector(labels, obj.metadata.labels) &&
    matchesFieldSelector(fields, obj);
}

/** A custom resource's additionalPrinterColumns, read from its stored CRD; built-in types have none. */
export function printerColumnsFor(ctx: ApiContext, type: ResourceType): { printerColumns?: PrinterColumn[] } {
  const crdType = ctx.registry.find("apiextensions.k8s.io", "v1", "customresourcedefinitions");
  if (!crdType || !type.group.includes(".")) return {};
  const crd = ctx.store.get(crdType, "", `${type.resource}.${type.group}`);
  const columns = crd ? printerColumnsOf(crd, type.version) : undefined;
  return columns ? { printerColumns: columns } : {};
}

export function getObject(ctx: ApiContext, type: ResourceType, route: SimRequest): KubeObject {
  const obj = ctx.store.get(type, route.namespace, route.name);
  if (!obj) throw notFound(type, route.name);
  return obj;
}

/** Sends one object as JSON, or as a one-row Table when the client asked for one. */
export function sendObject(
  ctx: ApiContext,
  type: ResourceType,
  route: SimRequest,
  req: IncomingMessage,
  res: ServerResponse,
  obj: KubeObject,
  code = 200,
) {
  if (wantsTable(req.headers.accept) && obj.kind === type.kind) {
    const rv = obj.metadata.resourceVersion ?? String(ctx.store.currentResourceVersion());
    sendJson(
      res,
      code,
      toTable(type, [obj], {
        includeObject: includeObjectOf(route.query),
        resourceVersion: rv,
        ...printerColumnsFor(ctx, type),
      }),
    );
    return;
  }
  sendJson(res, code, obj);
}

interface ContinueToken {
  rv: number;
  after: string;
}

function encodeContinue(token: ContinueToken): string {
  return Buffer.from(JSON.stringify(token)).toString("base64url");
}

function decodeContinue(ctx: ApiContext, raw: string): ContinueToken {
  let token: ContinueToken;
  try {
    token = JSON.parse(Buffer.from(raw, "base64url").toString("utf8")) as ContinueToken;
  } catch {
    throw StatusError.of("BadRequest", "continue key is not valid: incorrect encoded start resourceVersion");
  }
  if (typeof token.rv !== "number" || typeof token.after !== "string") {
    throw StatusError.of("BadRequest", "continue key is not valid: incorrect encoded start resourceVersion");
  }
  if (token.rv < ctx.store.compactedResourceVersion()) {
    throw StatusError.of(
      "Expired",
      "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.",
    );
  }
  return token;
}

function keyOf(obj: KubeObject): string {
  return `${obj.metadata.namespace ?? ""}/${obj.metadata.name ?? ""}`;
}

export function parseLimit(route: SimRequest): number {
  const raw = route.query.get("limit");
  if (raw === null || raw === "") return 0;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw StatusError.of("BadRequest", `invalid limit: ${raw}`);
  return n;
}

export interface Page {
  items: KubeObject[];
  resourceVersion: string;
  continueToken?: string;
  remainingItemCount?: number;
}

/** Lists, filters and paginates; continue tokens are opaque to clients (an encoded position and version). */
export function listPage(ctx: ApiContext, type: ResourceType, route: SimRequest): Page {
  const filter = objectFilter(type, route);
  const limit = parseLimit(route);
  const cont = route.query.get("continue");
  const start = cont ? decodeContinue(ctx, cont) : undefined;
  const { items, resourceVersion } = ctx.store.list(type, route.namespace);
  const matching = items.filter((o) => (!start || keyOf(o) > start.after) && filter(o));
  if (limit === 0 || matching.length <= limit) return { items: matching, resourceVersion };
  const page = matching.slice(0, limit);
  const last = page[page.length - 1];
  return {
    items: page,
    resourceVersion,
    continueToken: encodeContinue({ rv: Number(resourceVersion), after: last ? keyOf(last) : "" }),
    remainingItemCount: matching.length - limit,
  };
}

export function handleList(
  ctx: ApiContext,
  type: ResourceType,
  route: SimRequest,
  req: IncomingMessage,
  res: ServerResponse,
) {
  const page = listPage(ctx, type, route);
  if (wantsTable(req.headers.accept)) {
    const table = toTable(type, page.items, {
      includeObject: includeObjectOf(route.query),
      resourceVersion: page.resourceVersion,
      ...(page.continueToken ? { continueToken: page.continueToken } : {}),
      ...printerColumnsFor(ctx, type),
    });
    sendJson(res, 200, table);
    return;
  }
  sendJson(res, 200, {
    kind: type.listKind,
    apiVersion: apiVersionOf(type),
    metadata: {
      resourceVersion: page.resourceVersion,
      ...(page.continueToken
        ? { continue: page.continueToken, remainingItemCount: page.remainingItemCount }
        : {}),
    },
    items: page.items,
  });
}

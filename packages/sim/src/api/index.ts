// Dispatch of resource requests (the route is already authenticated and authorized): review kinds and token
// requests go to the auth module, pod streams to the streams module, everything else to the CRUD handlers here.
//
// Failure stance: an unknown resource or subresource is 404, a verb the resource does not serve is 405, a stream
// subresource asked for without an upgrade is 400 — each as a Status.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { KubeObject, ResourceType, SimRequest, UserInfo } from "../contracts.ts";
import { StatusError } from "../status.ts";
import { readBody } from "./body.ts";
import type { ApiContext } from "./context.ts";
import { handleDelete, handleDeleteCollection } from "./delete.ts";
import { handleMetrics, METRICS_GROUP } from "./metrics.ts";
import { getObject, handleList, sendObject } from "./read.ts";
import { sendJson } from "./respond.ts";
import { getScale, writeScale } from "./scale.ts";
import { handleWatch } from "./watch.ts";
import { decodeBody, handleCreate, handlePatch, handleUpdate } from "./write.ts";

export const NOT_FOUND_MESSAGE = "the server could not find the requested resource";

export interface StreamHandlers {
  handlePodLog(route: SimRequest, req: IncomingMessage, res: ServerResponse): void;
  handlePodProxy(route: SimRequest, req: IncomingMessage, res: ServerResponse): void;
}

/** Adds fieldValidation=Warn's `Warning` headers (one per unknown field, as kube-apiserver sends them). */
function warn(res: ServerResponse, warnings: string[] | undefined) {
  if (warnings && warnings.length > 0) res.setHeader("Warning", warnings);
}

function methodNotAllowed(): StatusError {
  return StatusError.of(
    "MethodNotAllowed",
    "the server does not allow this method on the requested resource",
  );
}

function checkScope(type: ResourceType, route: SimRequest) {
  const isNamespaceObject = type.group === "" && type.resource === "namespaces";
  if (!type.namespaced && route.namespace && !isNamespaceObject)
    throw StatusError.of("NotFound", NOT_FOUND_MESSAGE);
  const collectionRead = route.verb === "list" || route.verb === "watch";
  if (type.namespaced && !route.namespace && !collectionRead)
    throw StatusError.of("NotFound", NOT_FOUND_MESSAGE);
}

async function mainResource(
  ctx: ApiContext,
  type: ResourceType,
  route: SimRequest,
  req: IncomingMessage,
  res: ServerResponse,
  user: UserInfo,
) {
  if (!type.verbs.includes(route.verb)) throw methodNotAllowed();
  switch (route.verb) {
    case "get":
      sendObject(ctx, type, route, req, res, getObject(ctx, type, route));
      return;
    case "list":
      handleList(ctx, type, route, req, res);
      return;
    case "watch":
      handleWatch(ctx, type, route, req, res);
      return;
    case "create": {
      const r = handleCreate(ctx, type, route, req, await readBody(req));
      warn(res, r.warnings);
      sendObject(ctx, type, route, req, res, r.object, r.code);
      return;
    }
    case "update": {
      const r = handleUpdate(ctx, type, route, req, await readBody(req));
      warn(res, r.warnings);
      sendObject(ctx, type, route, req, res, r.object, r.code);
      return;
    }
    case "patch": {
      const r = handlePatch(ctx, type, route, req, await readBody(req), user);
      warn(res, r.warnings);
      sendObject(ctx, type, route, req, res, r.object, r.code);
      return;
    }
    case "delete":
      sendJson(res, 200, handleDelete(ctx, type, route, await readBody(req), req.headers["content-type"]));
      return;
    case "deletecollection":
      sendJson(res, 200, handleDeleteCollection(ctx, type, route, req, await readBody(req)));
      return;
    default:
      throw methodNotAllowed();
  }
}

async function subresource(
  ctx: ApiContext,
  streams: StreamHandlers,
  type: ResourceType,
  route: SimRequest,
  req: IncomingMessage,
  res: ServerResponse,
) {
  if (!type.subresources.includes(route.subresource)) throw StatusError.of("NotFound", NOT_FOUND_MESSAGE);
  const verb = route.verb;
  switch (route.subresource) {
    case "status":
    case "finalize": {
      if (verb === "get" && route.subresource === "status") {
        sendJson(res, 200, getObject(ctx, type, route));
        return;
      }
      const body = await readBody(req);
      if (verb === "update") {
        const r =
          route.subresource === "finalize"
            ? finalize(ctx, type, route, req, body)
            : handleUpdate(ctx, type, route, req, body).object;
        sendJson(res, 200, r);
        return;
      }
      if (verb === "patch" && route.subresource === "status") {
        sendJson(res, 200, handlePatch(ctx, type, route, req, body).object);
        return;
      }
      throw methodNotAllowed();
    }
    case "scale":
      if (verb === "get") sendJson(res, 200, getScale(ctx, type, route));
      else if (verb === "update" || verb === "patch")
        sendJson(res, 200, writeScale(ctx, type, route, req, await readBody(req)));
      else throw methodNotAllowed();
      return;
    case "log":
      if (verb !== "get") throw methodNotAllowed();
      streams.handlePodLog(route, req, res);
      return;
    case "proxy":
      streams.handlePodProxy(route, req, res);
      return;
    case "exec":
    case "attach":
    case "portforward":
      throw StatusError.of("BadRequest", "Upgrade request required");
    default:
      throw StatusError.of("NotFound", NOT_FOUND_MESSAGE);
  }
}

/** PUT namespaces/<name>/finalize: only spec.finalizers changes; an emptied list lets the deletion complete. */
function finalize(
  ctx: ApiContext,
  type: ResourceType,
  route: SimRequest,
  req: IncomingMessage,
  body: Buffer,
): KubeObject {
  const next = decodeBody(ctx, req, body) as { spec?: { finalizers?: unknown } };
  const live = getObject(ctx, type, route);
  const finalizers = Array.isArray(next.spec?.finalizers) ? next.spec.finalizers.map(String) : [];
  live.spec = { ...(live.spec as object | undefined), finalizers };
  return ctx.store.update(type, live);
}

export async function handleResource(
  ctx: ApiContext,
  streams: StreamHandlers,
  route: SimRequest,
  user: UserInfo,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  if (ctx.auth.handles(route)) {
    const body = decodeBody(ctx, req, await readBody(req)) as KubeObject;
    sendJson(res, 201, ctx.auth.handle(route, user, body));
    return;
  }
  const type = route.type;
  if (!type) throw StatusError.of("NotFound", NOT_FOUND_MESSAGE);
  if (route.verb === "") throw methodNotAllowed();
  checkScope(type, route);
  if (type.group === METRICS_GROUP) {
    if (route.subresource || !type.verbs.includes(route.verb)) throw methodNotAllowed();
    handleMetrics(ctx, type, route, res);
    return;
  }
  if (route.subresource) await subresource(ctx, streams, type, route, req, res);
  else await mainResource(ctx, type, route, req, res, user);
}

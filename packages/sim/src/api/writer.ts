// The write path behind every mutating handler, with dryRun=All as a writer that checks everything the store would
// check (existence, conflicts) and answers as if it had stored, but stores nothing and wakes no watcher.
import { randomUUID } from "node:crypto";
import type { KubeObject, ResourceType, SimRequest } from "../contracts.ts";
import { StatusError } from "../status.ts";
import { conflict, notFound, qualifiedResource, STALE_MESSAGE } from "../store.ts";
import type { ApiContext } from "./context.ts";
import { timestamp } from "./context.ts";
import { validateObject } from "./validation.ts";

export interface Writer {
  dryRun: boolean;
  create(type: ResourceType, obj: KubeObject): KubeObject;
  update(type: ResourceType, obj: KubeObject): KubeObject;
  remove(type: ResourceType, namespace: string, name: string): KubeObject;
}

export function isDryRun(route: SimRequest): boolean {
  const values = route.query.getAll("dryRun");
  for (const v of values) {
    if (v !== "All")
      throw StatusError.of("BadRequest", `dryRun: Unsupported value: "${v}": supported values: "All"`);
  }
  return values.length > 0;
}

/** `dryRun` defaults to the query's; deletes pass what their DeleteOptions (body or query) say. */
export function writerFor(ctx: ApiContext, route: SimRequest, dryRun = isDryRun(route)): Writer {
  const writer = plainWriterFor(ctx, dryRun);
  // kube-apiserver's field validation (validation.ts) runs before anything is stored, dry run or not; a write to
  // the status subresource leaves the spec it would check untouched.
  if (route.subresource === "status") return writer;
  return {
    ...writer,
    create(type, obj) {
      validateObject(type, obj);
      return writer.create(type, obj);
    },
    update(type, obj) {
      validateObject(type, obj, ctx.store.get(type, obj.metadata.namespace ?? "", obj.metadata.name ?? ""));
      return writer.update(type, obj);
    },
  };
}

function plainWriterFor(ctx: ApiContext, dryRun: boolean): Writer {
  const store = ctx.store;
  if (!dryRun) {
    return {
      dryRun: false,
      create: (t, o) => store.create(t, o),
      update: (t, o) => store.update(t, o),
      remove: (t, ns, n) => store.remove(t, ns, n),
    };
  }
  return {
    dryRun: true,
    create(type, obj) {
      const out = structuredClone(obj);
      const meta = out.metadata;
      if (!meta.name && meta.generateName) meta.name = `${meta.generateName}dryrun`;
      if (store.get(type, meta.namespace ?? "", meta.name ?? "")) {
        throw StatusError.of("AlreadyExists", `${qualifiedResource(type)} "${meta.name}" already exists`, {
          name: meta.name ?? "",
          group: type.group,
          kind: type.resource,
        });
      }
      meta.uid = randomUUID();
      meta.creationTimestamp = timestamp(ctx);
      meta.generation = 1;
      return out;
    },
    update(type, obj) {
      const meta = obj.metadata;
      const live = store.get(type, meta.namespace ?? "", meta.name ?? "");
      if (!live) throw notFound(type, meta.name ?? "");
      if (meta.resourceVersion && meta.resourceVersion !== live.metadata.resourceVersion) {
        throw conflict(type, meta.name ?? "", STALE_MESSAGE);
      }
      return {
        ...structuredClone(obj),
        metadata: {
          ...structuredClone(meta),
          uid: live.metadata.uid,
          creationTimestamp: live.metadata.creationTimestamp,
        },
      };
    },
    remove(type, namespace, name) {
      const live = store.get(type, namespace, name);
      if (!live) throw notFound(type, name);
      return live;
    },
  };
}

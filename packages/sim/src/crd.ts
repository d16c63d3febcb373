// CustomResourceDefinitions: a stored CRD registers the types it serves (one per served version), marks itself
// Established, and on deletion unregisters them and deletes its custom resources — driven by a store watch, so CRDs
// written by any client (or the seed) take effect the same way.
//
// Failure stance: a CRD with missing names is refused at create time (422); a malformed version list simply serves
// nothing. Custom resources are schemaless here: any field is accepted.

import type { KubeObject, ObjectStore, ResourceType } from "./contracts.ts";
import type { MemoryRegistry } from "./registry.ts";
import { CRUD_VERBS } from "./registry.ts";
import { StatusError } from "./status.ts";

interface CrdSpec {
  group?: string;
  scope?: string;
  names?: {
    plural?: string;
    singular?: string;
    kind?: string;
    listKind?: string;
    shortNames?: string[];
    categories?: string[];
  };
  versions?: {
    name?: string;
    served?: boolean;
    storage?: boolean;
    subresources?: { status?: unknown; scale?: unknown };
  }[];
}

/** The resource types a CRD serves; throws 422 when its names are unusable. */
export function crdTypes(crd: KubeObject): ResourceType[] {
  const spec = (crd.spec ?? {}) as CrdSpec;
  const names = spec.names ?? {};
  const name = crd.metadata.name ?? "";
  if (!spec.group || !names.plural || !names.kind || name !== `${names.plural}.${spec.group}`) {
    throw StatusError.of(
      "Invalid",
      `CustomResourceDefinition.apiextensions.k8s.io "${name}" is invalid: metadata.name: Invalid value: "${name}": must be spec.names.plural+"."+spec.group`,
    );
  }
  return (spec.versions ?? [])
    .filter((v) => v.name && v.served !== false)
    .map((v) => ({
      group: spec.group ?? "",
      version: v.name ?? "",
      resource: names.plural ?? "",
      singular: names.singular ?? (names.kind ?? "").toLowerCase(),
      kind: names.kind ?? "",
      listKind: names.listKind ?? `${names.kind}List`,
      namespaced: spec.scope !== "Cluster",
      shortNames: names.shortNames ?? [],
      categories: names.categories ?? [],
      verbs: CRUD_VERBS,
      subresources: [
        ...(v.subresources?.status !== undefined ? ["status"] : []),
        ...(v.subresources?.scale !== undefined ? ["scale"] : []),
      ],
    }));
}

function established(crd: KubeObject): boolean {
  const conditions =
    (crd.status as { conditions?: { type: string; status: string }[] } | undefined)?.conditions ?? [];
  return conditions.some((c) => c.type === "Established" && c.status === "True");
}

/** Keeps the registry in step with the stored CRDs. Returns the unsubscribe function. */
export function syncCrds(store: ObjectStore, registry: MemoryRegistry): () => void {
  const crdType = registry.find("apiextensions.k8s.io", "v1", "customresourcedefinitions");
  if (!crdType) return () => {};
  const served = new Map<string, ResourceType[]>();
  const drop = (uidKey: string) => {
    for (const t of served.get(uidKey) ?? []) registry.unregister(t.group, t.resource);
    served.delete(uidKey);
  };
  return store.watch(crdType, "", store.currentResourceVersion(), (event) => {
    const crd = event.object;
    const key = crd.metadata.name ?? "";
    if (event.type === "DELETED") {
      const types = served.get(key) ?? [];
      const first = types[0];
      if (first) {
        for (const obj of store.list(first, "").items) {
          store.remove(first, obj.metadata.namespace ?? "", obj.metadata.name ?? "");
        }
      }
      drop(key);
      return;
    }
    let types: ResourceType[];
    try {
      types = crdTypes(crd);
    } catch {
      return;
    }
    drop(key);
    for (const t of types) registry.register(t);
    served.set(key, types);
    if (!established(crd) && !crd.metadata.deletionTimestamp) {
      const spec = (crd.spec ?? {}) as CrdSpec;
      const now = new Date().toISOString().replace(/\.\d+Z$/, "Z");
      crd.status = {
        acceptedNames: spec.names ?? {},
        storedVersions: (spec.versions ?? []).filter((v) => v.storage).map((v) => v.name),
        conditions: [
          {
            type: "NamesAccepted",
            status: "True",
            reason: "NoConflicts",
            message: "no conflicts found",
            lastTransitionTime: now,
          },
          {
            type: "Established",
            status: "True",
            reason: "InitialNamesAccepted",
            message: "the initial names have been accepted",
            lastTransitionTime: now,
          },
        ],
      };
      store.update(crdType, crd);
    }
  });
}

// The simulator's patch engines, one per PATCH content type, plus field-ownership bookkeeping:
//   application/json-patch+json            → applyJsonPatch
//   application/merge-patch+json           → applyMergePatch
//   application/strategic-merge-patch+json → applyStrategicMergePatch
//   application/apply-patch+yaml           → serverSideApply (and trackUpdate for every other write)
// All are pure: they return new objects and throw StatusError with the apiserver's reason on bad input.
export { type FieldSet, fromFieldsV1, pathString, toFieldsV1 } from "./fieldpath.ts";
export { applyJsonPatch } from "./json-patch.ts";
export { serverSideApply, trackUpdate } from "./managed-fields.ts";
export { applyMergePatch } from "./merge-patch.ts";
export { isBuiltInKind, type ListStrategy, listStrategy } from "./schema.ts";
export { applyStrategicMergePatch } from "./strategic.ts";

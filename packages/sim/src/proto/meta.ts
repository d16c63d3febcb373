// Protobuf schemas of apimachinery meta/v1 (pkg/apis/meta/v1/generated.proto): ObjectMeta and the types every kind
// shares. Field numbers are the .proto's; see decode.ts for how the table turns into JSON.
import { bool, type FieldSpec, int, msgs, type SchemaTable, str, strMap, strs } from "./decode.ts";

const time = (name: string, flags: Partial<FieldSpec> = {}): FieldSpec => ({ name, type: "time", ...flags });

export const META: SchemaTable = {
  ObjectMeta: {
    1: str("name"),
    2: str("generateName"),
    3: str("namespace"),
    4: str("selfLink"),
    5: str("uid"),
    6: str("resourceVersion"),
    7: int("generation"),
    8: time("creationTimestamp"),
    9: time("deletionTimestamp", { ptr: true }),
    10: int("deletionGracePeriodSeconds", { ptr: true }),
    11: strMap("labels"),
    12: strMap("annotations"),
    13: msgs("ownerReferences", "OwnerReference"),
    14: strs("finalizers"),
  },
  OwnerReference: {
    1: str("kind"),
    3: str("name"),
    4: str("uid"),
    5: str("apiVersion"),
    6: bool("controller", { ptr: true }),
    7: bool("blockOwnerDeletion", { ptr: true }),
  },
  LabelSelector: {
    1: strMap("matchLabels"),
    2: msgs("matchExpressions", "LabelSelectorRequirement"),
  },
  LabelSelectorRequirement: { 1: str("key"), 2: str("operator"), 3: strs("values") },
  Condition: {
    1: str("type"),
    2: str("status"),
    3: int("observedGeneration"),
    4: time("lastTransitionTime"),
    5: str("reason"),
    6: str("message"),
  },
};

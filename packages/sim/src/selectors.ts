// Label and field selectors (the `labelSelector` and `fieldSelector` list parameters), parsed and matched the way
// kube-apiserver does. Every refusal is a 400 BadRequest StatusError with the apiserver's wording.
export {
  checkFieldSelector,
  type FieldRequirement,
  type FieldSelector,
  fieldSelectorName,
  matchesFieldSelector,
  parseFieldSelector,
} from "./selectors/fields.ts";
export {
  type LabelRequirement,
  type LabelSelector,
  labelSelectorFromObject,
  matchesLabelSelector,
  parseLabelSelector,
} from "./selectors/labels.ts";

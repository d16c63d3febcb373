// The checks every label requirement passes, parsed or built from a metav1.LabelSelector (apimachinery
// labels.NewRequirement and util/validation), with the apiserver's messages. Errors are plain Errors: the caller
// wraps them into a 400 BadRequest.
import type { LabelRequirement } from "./labels.ts";

// ---- validation (apimachinery util/validation) ----------------------------------------------------------------

const NAME_RE = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const DNS1123_SUBDOMAIN_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const VALUE_RE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

export function validateKey(key: string): void {
  const slash = key.split("/");
  const name = slash.length === 2 ? slash[1]! : key;
  const prefix = slash.length === 2 ? slash[0]! : undefined;
  const problems: string[] = [];
  if (slash.length > 2) {
    problems.push(
      "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
    );
  } else {
    if (
      prefix !== undefined &&
      (prefix.length === 0 || prefix.length > 253 || !DNS1123_SUBDOMAIN_RE.test(prefix))
    )
      problems.push(
        "prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
      );
    if (name.length === 0) problems.push("name part must be non-empty");
    else if (name.length > 63) problems.push("name part must be no more than 63 characters");
    if (name.length > 0 && !NAME_RE.test(name))
      problems.push(
        "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
      );
  }
  if (problems.length > 0)
    throw new Error(`key: Invalid value: ${JSON.stringify(key)}: ${problems.join(", ")}`);
}

function validateValue(key: string, index: number, value: string): void {
  if (value.length > 63 || !VALUE_RE.test(value)) {
    const why =
      value.length > 63
        ? "must be no more than 63 characters"
        : "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
    throw new Error(`values[${index}][${key}]: Invalid value: ${JSON.stringify(value)}: ${why}`);
  }
}

/** apimachinery labels.NewRequirement: the checks every requirement passes, whether parsed or built from an object. */
export function newRequirement(
  key: string,
  operator: LabelRequirement["operator"],
  values: string[],
): LabelRequirement {
  validateKey(key);
  if (operator === "in" || operator === "notin") {
    if (values.length === 0)
      throw new Error("values: Invalid value: []: for 'in', 'notin' operators, values set can't be empty");
  } else if (operator === "=" || operator === "==" || operator === "!=") {
    if (values.length !== 1)
      throw new Error("values: Invalid value: []: exact-match compatibility requires one single value");
  } else if (operator === "exists" || operator === "!") {
    if (values.length !== 0)
      throw new Error("values: Invalid value: []: values set must be empty for exists and does not exist");
  } else {
    if (values.length !== 1)
      throw new Error("values: Required value: for 'Gt', 'Lt' operators, exactly one value is required");
    if (!/^[-+]?\d+$/.test(values[0]!))
      throw new Error(
        `values[0]: Invalid value: ${JSON.stringify(values[0])}: for 'Gt', 'Lt' operators, the value must be an integer`,
      );
  }
  values.forEach((v, i) => {
    validateValue(key, i, v);
  });
  return { key, operator, values: [...new Set(values)].sort() };
}

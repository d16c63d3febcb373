// kube-apiserver's validation of the kinds a deployment's manifests use, ported from k8s.io/kubernetes
// pkg/apis/*/validation: the required fields and the value checks of NetworkPolicy, PodDisruptionBudget,
// PersistentVolumeClaim, Role/ClusterRole, RoleBinding/ClusterRoleBinding and Deployment. Run on every create and
// update (dryRun=All included: `kubectl apply --dry-run=server` sees the same refusals as a real write).
//
// Failure stance: every problem found is reported at once, as kube aggregates a field.ErrorList: 422 Invalid whose
// message is `<Kind>.<group> "<name>" is invalid: <field>: <problem>` (several: `[a: …, b: …]`) and whose causes
// list each field. Kinds not listed here are not checked beyond prepare.ts (names, namespaces, labels).

import { isIP } from "node:net";
import type { KubeObject, ResourceType } from "../contracts.ts";
import { StatusError } from "../status.ts";

interface FieldError {
  reason: "FieldValueRequired" | "FieldValueInvalid" | "FieldValueNotSupported" | "FieldValueForbidden";
  field: string;
  message: string;
}

type Obj = Record<string, unknown>;
type Errors = FieldError[];

const asObj = (v: unknown): Obj | undefined =>
  v && typeof v === "object" && !Array.isArray(v) ? (v as Obj) : undefined;
const asList = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const show = (v: unknown) => (typeof v === "string" ? JSON.stringify(v) : JSON.stringify(v ?? null));

function required(errs: Errors, field: string, detail = ""): void {
  errs.push({ reason: "FieldValueRequired", field, message: `Required value${detail ? `: ${detail}` : ""}` });
}
function invalid(errs: Errors, field: string, value: unknown, detail: string): void {
  errs.push({ reason: "FieldValueInvalid", field, message: `Invalid value: ${show(value)}: ${detail}` });
}
function notSupported(errs: Errors, field: string, value: unknown, supported: string[]): void {
  errs.push({
    reason: "FieldValueNotSupported",
    field,
    message: `Unsupported value: ${show(value)}: supported values: ${supported.map((s) => `"${s}"`).join(", ")}`,
  });
}
function forbidden(errs: Errors, field: string, detail: string): void {
  errs.push({ reason: "FieldValueForbidden", field, message: `Forbidden: ${detail}` });
}

// ---- shared pieces ----------------------------------------------------------------------------------------------

const SELECTOR_OPS = ["In", "NotIn", "Exists", "DoesNotExist"];

/** metav1 LabelSelector: matchExpressions operators and their values. */
function labelSelector(errs: Errors, field: string, value: unknown): void {
  if (value === undefined || value === null) return;
  const sel = asObj(value);
  if (!sel) {
    invalid(errs, field, value, "must be an object");
    return;
  }
  for (const [k, v] of Object.entries(asObj(sel.matchLabels) ?? {})) {
    if (typeof v !== "string") invalid(errs, `${field}.matchLabels`, v, `the value of ${k} must be a string`);
  }
  for (const [i, e] of asList(sel.matchExpressions).entries()) {
    const at = `${field}.matchExpressions[${i}]`;
    const expr = asObj(e) ?? {};
    if (!expr.key) required(errs, `${at}.key`);
    const op = String(expr.operator ?? "");
    const values = asList(expr.values);
    if (!SELECTOR_OPS.includes(op)) notSupported(errs, `${at}.operator`, op, SELECTOR_OPS);
    else if ((op === "In" || op === "NotIn") && values.length === 0) {
      required(errs, `${at}.values`, "must be specified when `operator` is 'In' or 'NotIn'");
    } else if ((op === "Exists" || op === "DoesNotExist") && values.length > 0) {
      forbidden(errs, `${at}.values`, "may not be specified when `operator` is 'Exists' or 'DoesNotExist'");
    }
  }
}

/** The parts of an IPv4 or IPv6 CIDR as a bit string prefix, or undefined when it is not one. */
function parseCidr(
  text: unknown,
): { family: 4 | 6; bits: bigint; prefix: number; width: number } | undefined {
  if (typeof text !== "string") return undefined;
  const m = /^([^/]+)\/(\d{1,3})$/.exec(text);
  if (!m) return undefined;
  const addr = m[1] ?? "";
  const family = isIP(addr);
  if (family !== 4 && family !== 6) return undefined;
  const width = family === 4 ? 32 : 128;
  const prefix = Number(m[2]);
  if (prefix > width) return undefined;
  let bits = 0n;
  if (family === 4) {
    for (const part of addr.split(".")) bits = (bits << 8n) | BigInt(Number(part));
  } else {
    const [head = "", tail] = addr.split("::");
    const groups = (s: string) => (s ? s.split(":") : []);
    const h = groups(head);
    const t = tail === undefined ? [] : groups(tail);
    if (t.at(-1)?.includes(".") || h.at(-1)?.includes(".")) return undefined; // embedded IPv4: not needed here
    const all = [...h, ...new Array(8 - h.length - t.length).fill("0"), ...t];
    for (const g of all) bits = (bits << 16n) | BigInt(Number.parseInt(g, 16));
  }
  return { family, bits, prefix, width };
}

function within(inner: ReturnType<typeof parseCidr>, outer: ReturnType<typeof parseCidr>): boolean {
  if (!inner || !outer || inner.family !== outer.family || inner.prefix <= outer.prefix) return false;
  const shift = BigInt(outer.width - outer.prefix);
  return inner.bits >> shift === outer.bits >> shift;
}

const CIDR_HINT = "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)";
const IANA_SVC_NAME = /^(?=.*[a-z])[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

// ---- networking.k8s.io/v1 NetworkPolicy --------------------------------------------------------------------------

const PROTOCOLS = ["SCTP", "TCP", "UDP"];
const POLICY_TYPES = ["Egress", "Ingress"];

function networkPolicyPort(errs: Errors, at: string, value: unknown): void {
  const port = asObj(value) ?? {};
  if (port.protocol !== undefined && !PROTOCOLS.includes(String(port.protocol))) {
    notSupported(errs, `${at}.protocol`, port.protocol, PROTOCOLS);
  }
  if (port.port !== undefined && port.port !== null) {
    if (typeof port.port === "number") {
      if (!Number.isInteger(port.port) || port.port < 1 || port.port > 65535) {
        invalid(errs, `${at}.port`, port.port, "must be between 1 and 65535, inclusive");
      }
    } else if (typeof port.port !== "string" || port.port.length > 15 || !IANA_SVC_NAME.test(port.port)) {
      invalid(errs, `${at}.port`, port.port, "must be a valid port name (IANA_SVC_NAME) or number");
    }
  }
  if (port.endPort !== undefined && port.endPort !== null) {
    if (typeof port.port !== "number") {
      forbidden(errs, `${at}.endPort`, "may not be specified when `port` is non-numeric");
    } else if (typeof port.endPort !== "number" || port.endPort < port.port) {
      invalid(errs, `${at}.endPort`, port.endPort, "must be greater than or equal to `port`");
    }
  }
}

function networkPolicyPeer(errs: Errors, at: string, value: unknown): void {
  const peer = asObj(value) ?? {};
  const set = ["podSelector", "namespaceSelector", "ipBlock"].filter(
    (k) => peer[k] !== undefined && peer[k] !== null,
  );
  if (set.length === 0) {
    required(errs, at, "must specify a peer");
    return;
  }
  if (set.length > 1 && set.includes("ipBlock"))
    forbidden(errs, at, "may not specify both ipBlock and another peer");
  labelSelector(errs, `${at}.podSelector`, peer.podSelector);
  labelSelector(errs, `${at}.namespaceSelector`, peer.namespaceSelector);
  if (peer.ipBlock === undefined || peer.ipBlock === null) return;
  const block = asObj(peer.ipBlock) ?? {};
  if (!block.cidr) {
    required(errs, `${at}.ipBlock.cidr`);
    return;
  }
  const cidr = parseCidr(block.cidr);
  if (!cidr) {
    invalid(errs, `${at}.ipBlock.cidr`, block.cidr, CIDR_HINT);
    return;
  }
  for (const [k, ex] of asList(block.except).entries()) {
    const parsed = parseCidr(ex);
    if (!parsed) invalid(errs, `${at}.ipBlock.except[${k}]`, ex, CIDR_HINT);
    else if (!within(parsed, cidr))
      invalid(errs, `${at}.ipBlock.except[${k}]`, ex, "must be a strict subset of `cidr`");
  }
}

function networkPolicy(obj: KubeObject, errs: Errors): void {
  const spec = asObj(obj.spec) ?? {};
  labelSelector(errs, "spec.podSelector", spec.podSelector);
  for (const [dir, peers] of [
    ["ingress", "from"],
    ["egress", "to"],
  ] as const) {
    for (const [i, r] of asList(spec[dir]).entries()) {
      const rule = asObj(r) ?? {};
      for (const [j, p] of asList(rule.ports).entries())
        networkPolicyPort(errs, `spec.${dir}[${i}].ports[${j}]`, p);
      for (const [j, p] of asList(rule[peers]).entries())
        networkPolicyPeer(errs, `spec.${dir}[${i}].${peers}[${j}]`, p);
    }
  }
  const types = asList(spec.policyTypes);
  for (const [i, t] of types.entries()) {
    if (!POLICY_TYPES.includes(String(t))) notSupported(errs, `spec.policyTypes[${i}]`, t, POLICY_TYPES);
  }
  if (types.length > 2) invalid(errs, "spec.policyTypes", types, "may not specify more than two policyTypes");
}

// ---- policy/v1 PodDisruptionBudget -------------------------------------------------------------------------------

function intOrPercent(errs: Errors, field: string, value: unknown): void {
  if (typeof value === "number") {
    if (!Number.isInteger(value) || value < 0)
      invalid(errs, field, value, "must be greater than or equal to 0");
    return;
  }
  const m = typeof value === "string" ? /^([0-9]+)%$/.exec(value) : null;
  if (!m) {
    invalid(
      errs,
      field,
      value,
      "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')",
    );
    return;
  }
  if (Number(m[1]) > 100) invalid(errs, field, value, "must not be greater than 100%");
}

function podDisruptionBudget(obj: KubeObject, errs: Errors): void {
  const spec = asObj(obj.spec) ?? {};
  const has = (k: string) => spec[k] !== undefined && spec[k] !== null;
  if (has("minAvailable") && has("maxUnavailable")) {
    invalid(errs, "spec", spec, "minAvailable and maxUnavailable cannot be both set");
  }
  if (has("minAvailable")) intOrPercent(errs, "spec.minAvailable", spec.minAvailable);
  if (has("maxUnavailable")) intOrPercent(errs, "spec.maxUnavailable", spec.maxUnavailable);
  labelSelector(errs, "spec.selector", spec.selector);
  const policies = ["AlwaysAllow", "IfHealthyBudget"];
  if (has("unhealthyPodEvictionPolicy") && !policies.includes(String(spec.unhealthyPodEvictionPolicy))) {
    notSupported(errs, "spec.unhealthyPodEvictionPolicy", spec.unhealthyPodEvictionPolicy, policies);
  }
}

// ---- v1 PersistentVolumeClaim ------------------------------------------------------------------------------------

const ACCESS_MODES = ["ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"];
const QUANTITY = /^[+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei|[eE][+-]?[0-9]+)?$/;

function persistentVolumeClaim(obj: KubeObject, errs: Errors): void {
  const spec = asObj(obj.spec) ?? {};
  const modes = asList(spec.accessModes);
  if (modes.length === 0) required(errs, "spec.accessModes", "at least 1 access mode is required");
  for (const m of modes)
    if (!ACCESS_MODES.includes(String(m))) notSupported(errs, "spec.accessModes", m, ACCESS_MODES);
  if (spec.volumeMode !== undefined && !["Block", "Filesystem"].includes(String(spec.volumeMode))) {
    notSupported(errs, "spec.volumeMode", spec.volumeMode, ["Block", "Filesystem"]);
  }
  const storage = asObj(asObj(spec.resources)?.requests)?.storage;
  if (storage === undefined || storage === null || storage === "") {
    required(errs, "spec.resources[storage]");
  } else if (!QUANTITY.test(String(storage))) {
    invalid(
      errs,
      "spec.resources[storage]",
      storage,
      "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
    );
  } else if (Number.parseFloat(String(storage)) <= 0) {
    invalid(errs, "spec.resources[storage]", storage, "must be greater than zero");
  }
}

// ---- rbac.authorization.k8s.io/v1 --------------------------------------------------------------------------------

const RBAC_GROUP = "rbac.authorization.k8s.io";

function role(obj: KubeObject, errs: Errors, namespaced: boolean): void {
  for (const [i, r] of asList(obj.rules).entries()) {
    const at = `rules[${i}]`;
    const rule = asObj(r) ?? {};
    if (asList(rule.verbs).length === 0)
      required(errs, `${at}.verbs`, "verbs must contain at least one value");
    const urls = asList(rule.nonResourceURLs);
    if (urls.length > 0) {
      if (namespaced)
        invalid(errs, `${at}.nonResourceURLs`, urls, "namespaced rules cannot apply to non-resource URLs");
      if (
        asList(rule.apiGroups).length ||
        asList(rule.resources).length ||
        asList(rule.resourceNames).length
      ) {
        invalid(
          errs,
          `${at}.nonResourceURLs`,
          urls,
          "rules cannot apply to both regular resources and non-resource URLs",
        );
      }
      continue;
    }
    if (asList(rule.apiGroups).length === 0)
      required(errs, `${at}.apiGroups`, "resource rules must supply at least one api group");
    if (asList(rule.resources).length === 0)
      required(errs, `${at}.resources`, "resource rules must supply at least one resource");
  }
}

function roleBinding(obj: KubeObject, errs: Errors, namespaced: boolean, live: KubeObject | undefined): void {
  const ref = asObj(obj.roleRef) ?? {};
  if (ref.apiGroup !== RBAC_GROUP) notSupported(errs, "roleRef.apiGroup", ref.apiGroup ?? "", [RBAC_GROUP]);
  const kinds = namespaced ? ["ClusterRole", "Role"] : ["ClusterRole"];
  if (!kinds.includes(String(ref.kind))) notSupported(errs, "roleRef.kind", ref.kind ?? "", kinds);
  if (!ref.name) required(errs, "roleRef.name");
  else if (typeof ref.name !== "string" || ref.name.includes("/") || ref.name === "." || ref.name === "..") {
    invalid(errs, "roleRef.name", ref.name, "may not contain '/' or be '.' or '..'");
  }
  if (live && JSON.stringify(live.roleRef) !== JSON.stringify(obj.roleRef)) {
    invalid(errs, "roleRef", obj.roleRef, "cannot change roleRef");
  }
  for (const [i, s] of asList(obj.subjects).entries()) {
    const at = `subjects[${i}]`;
    const subject = asObj(s) ?? {};
    if (!subject.name) required(errs, `${at}.name`);
    switch (subject.kind) {
      case "ServiceAccount":
        if (subject.apiGroup) notSupported(errs, `${at}.apiGroup`, subject.apiGroup, [""]);
        if (!subject.namespace && !namespaced) required(errs, `${at}.namespace`);
        break;
      case "User":
      case "Group":
        // rbac/v1 defaulting (SetDefaults_Subject): an empty apiGroup of a User or Group is rbac's.
        if (!subject.apiGroup) subject.apiGroup = RBAC_GROUP;
        if (subject.apiGroup !== RBAC_GROUP)
          notSupported(errs, `${at}.apiGroup`, subject.apiGroup ?? "", [RBAC_GROUP]);
        break;
      default:
        notSupported(errs, `${at}.kind`, subject.kind ?? "", ["ServiceAccount", "User", "Group"]);
    }
  }
}

// ---- apps/v1 Deployment ------------------------------------------------------------------------------------------

function matches(selector: Obj, labels: Obj): boolean {
  for (const [k, v] of Object.entries(asObj(selector.matchLabels) ?? {})) if (labels[k] !== v) return false;
  for (const e of asList(selector.matchExpressions)) {
    const expr = asObj(e) ?? {};
    const key = String(expr.key);
    const values = asList(expr.values);
    const has = key in labels;
    if (expr.operator === "In" && !(has && values.includes(labels[key]))) return false;
    if (expr.operator === "NotIn" && has && values.includes(labels[key])) return false;
    if (expr.operator === "Exists" && !has) return false;
    if (expr.operator === "DoesNotExist" && has) return false;
  }
  return true;
}

function deployment(obj: KubeObject, errs: Errors): void {
  const spec = asObj(obj.spec) ?? {};
  const selector = asObj(spec.selector);
  if (!selector) required(errs, "spec.selector");
  else {
    labelSelector(errs, "spec.selector", selector);
    if (!Object.keys(asObj(selector.matchLabels) ?? {}).length && !asList(selector.matchExpressions).length) {
      invalid(errs, "spec.selector", selector, "empty selector is invalid for deployment");
    }
  }
  const template = asObj(spec.template) ?? {};
  const labels = asObj(asObj(template.metadata)?.labels) ?? {};
  if (selector && !matches(selector, labels)) {
    invalid(errs, "spec.template.metadata.labels", labels, "`selector` does not match template `labels`");
  }
  const podSpec = asObj(template.spec) ?? {};
  const containers = asList(podSpec.containers);
  if (containers.length === 0) required(errs, "spec.template.spec.containers");
  for (const [list, items] of [
    ["containers", containers],
    ["initContainers", asList(podSpec.initContainers)],
  ] as const) {
    for (const [i, c] of items.entries()) {
      const container = asObj(c) ?? {};
      if (!container.name) required(errs, `spec.template.spec.${list}[${i}].name`);
      if (!container.image) required(errs, `spec.template.spec.${list}[${i}].image`);
    }
  }
}

// ---- entry -------------------------------------------------------------------------------------------------------

/** Throws 422 Invalid listing every problem of `obj` (after the few defaults kube applies first, which it sets on `obj`); `live` is the stored object on an update. */
export function validateObject(type: ResourceType, obj: KubeObject, live?: KubeObject): void {
  const errs: Errors = [];
  switch (`${type.group}/${type.kind}`) {
    case "networking.k8s.io/NetworkPolicy":
      networkPolicy(obj, errs);
      break;
    case "policy/PodDisruptionBudget":
      podDisruptionBudget(obj, errs);
      break;
    case "/PersistentVolumeClaim":
      persistentVolumeClaim(obj, errs);
      break;
    case `${RBAC_GROUP}/Role`:
    case `${RBAC_GROUP}/ClusterRole`:
      role(obj, errs, type.namespaced);
      break;
    case `${RBAC_GROUP}/RoleBinding`:
    case `${RBAC_GROUP}/ClusterRoleBinding`:
      roleBinding(obj, errs, type.namespaced, live);
      break;
    case "apps/Deployment":
      deployment(obj, errs);
      break;
    default:
      return;
  }
  if (errs.length === 0) return;
  const name = obj.metadata.name ?? "";
  const list = errs.map((e) => `${e.field}: ${e.message}`);
  throw StatusError.of(
    "Invalid",
    `${type.kind}${type.group ? `.${type.group}` : ""} "${name}" is invalid: ${list.length === 1 ? list[0] : `[${list.join(", ")}]`}`,
    {
      name,
      group: type.group,
      kind: type.kind,
      causes: errs.map((e) => ({ reason: e.reason, message: e.message, field: e.field })),
    },
  );
}

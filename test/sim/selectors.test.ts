import assert from "node:assert/strict";
import { test } from "node:test";
import type { KubeObject } from "@airlock/sim/contracts.ts";
import {
  checkFieldSelector,
  fieldSelectorName,
  labelSelectorFromObject,
  matchesFieldSelector,
  matchesLabelSelector,
  parseFieldSelector,
  parseLabelSelector,
} from "@airlock/sim/selectors.ts";
import { StatusError } from "@airlock/sim/status.ts";

function badRequest(fn: () => unknown, message: RegExp | string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof StatusError, `expected StatusError, got ${String(err)}`);
    assert.equal(err.status.reason, "BadRequest");
    assert.equal(err.status.code, 400);
    if (typeof message === "string") assert.equal(err.status.message, message);
    else assert.match(err.status.message ?? "", message);
    return true;
  });
}

test("an empty label selector parses to no requirements and matches everything", () => {
  assert.deepEqual(parseLabelSelector(""), []);
  assert.deepEqual(parseLabelSelector("   "), []);
  assert.equal(matchesLabelSelector([], undefined), true);
  assert.equal(matchesLabelSelector([], { a: "b" }), true);
});

test("every label selector operator parses into its requirement", () => {
  const cases: [string, ReturnType<typeof parseLabelSelector>][] = [
    ["app=web", [{ key: "app", operator: "=", values: ["web"] }]],
    ["app==web", [{ key: "app", operator: "==", values: ["web"] }]],
    ["app!=web", [{ key: "app", operator: "!=", values: ["web"] }]],
    ["app in (web, db)", [{ key: "app", operator: "in", values: ["db", "web"] }]],
    ["app notin (web)", [{ key: "app", operator: "notin", values: ["web"] }]],
    ["app", [{ key: "app", operator: "exists", values: [] }]],
    ["!app", [{ key: "app", operator: "!", values: [] }]],
    ["replicas>3", [{ key: "replicas", operator: "gt", values: ["3"] }]],
    ["replicas<3", [{ key: "replicas", operator: "lt", values: ["3"] }]],
    ["app=", [{ key: "app", operator: "=", values: [""] }]],
    ["example.com/tier=front", [{ key: "example.com/tier", operator: "=", values: ["front"] }]],
    [
      "a=1, !b,c in (x),d",
      [
        { key: "a", operator: "=", values: ["1"] },
        { key: "b", operator: "!", values: [] },
        { key: "c", operator: "in", values: ["x"] },
        { key: "d", operator: "exists", values: [] },
      ],
    ],
    ["in in (in)", [{ key: "in", operator: "in", values: ["in"] }]],
  ];
  for (const [input, want] of cases) assert.deepEqual(parseLabelSelector(input), want, input);
});

test("label selectors match labels as the apiserver does", () => {
  const labels = { app: "web", tier: "front", n: "5" };
  const cases: [string, Record<string, string> | undefined, boolean][] = [
    ["app=web", labels, true],
    ["app=db", labels, false],
    ["app==web", labels, true],
    ["app!=db", labels, true],
    ["app!=web", labels, false],
    ["missing!=x", labels, true],
    ["app in (db,web)", labels, true],
    ["app in (db)", labels, false],
    ["missing in (x)", labels, false],
    ["app notin (db)", labels, true],
    ["app notin (web)", labels, false],
    ["missing notin (x)", labels, true],
    ["app", labels, true],
    ["missing", labels, false],
    ["!missing", labels, true],
    ["!app", labels, false],
    ["n>4", labels, true],
    ["n>5", labels, false],
    ["n<6", labels, true],
    ["app>1", labels, false],
    ["app=web,tier=front", labels, true],
    ["app=web,tier=back", labels, false],
    ["app=web", undefined, false],
    ["!app", undefined, true],
  ];
  for (const [sel, l, want] of cases)
    assert.equal(matchesLabelSelector(parseLabelSelector(sel), l), want, sel);
});

test("malformed label selectors are refused with the apiserver's parser messages", () => {
  const cases: [string, string | RegExp][] = [
    ["app in web", "unable to parse requirement: found 'web' expected: '('"],
    ["app in (a", "unable to parse requirement: found '', expected: ',' or ')'"],
    ["app=web,", "found '', expected: identifier after ','"],
    ["=web", "found '=', expected: !, identifier, or 'end of string'"],
    ["app=a=b", "found '=', expected: ',' or 'end of string'"],
    ["app=(x)", "unable to parse requirement: found '(', expected: identifier"],
    ["app=a b", "found 'b', expected: ',' or 'end of string'"],
    ["-bad=x", /^unable to parse requirement: key: Invalid value: "-bad": name part must consist/],
    ["app=-bad", /^unable to parse requirement: values\[0\]\[app\]: Invalid value: "-bad": a valid label/],
    ["n>x", /for 'Gt', 'Lt' operators, the value must be an integer/],
    ["a/b/c=x", /^unable to parse requirement: key: Invalid value: "a\/b\/c"/],
    ["Bad_Prefix/x=y", /prefix part a lowercase RFC 1123 subdomain/],
  ];
  for (const [sel, msg] of cases) badRequest(() => parseLabelSelector(sel), msg);
});

test("a metav1.LabelSelector object becomes equality and set requirements", () => {
  const sel = labelSelectorFromObject({
    matchLabels: { app: "web" },
    matchExpressions: [
      { key: "tier", operator: "In", values: ["front", "back"] },
      { key: "env", operator: "NotIn", values: ["prod"] },
      { key: "team", operator: "Exists" },
      { key: "legacy", operator: "DoesNotExist" },
    ],
  });
  assert.deepEqual(sel, [
    { key: "app", operator: "=", values: ["web"] },
    { key: "tier", operator: "in", values: ["back", "front"] },
    { key: "env", operator: "notin", values: ["prod"] },
    { key: "team", operator: "exists", values: [] },
    { key: "legacy", operator: "!", values: [] },
  ]);
  assert.equal(matchesLabelSelector(sel, { app: "web", tier: "front", team: "x" }), true);
  assert.equal(matchesLabelSelector(sel, { app: "web", tier: "front", team: "x", legacy: "1" }), false);
  assert.equal(matchesLabelSelector(sel, { app: "web", tier: "front", team: "x", env: "prod" }), false);
  assert.deepEqual(labelSelectorFromObject({}), []);
  badRequest(
    () => labelSelectorFromObject({ matchExpressions: [{ key: "a", operator: "Gt", values: ["1"] }] }),
    '"Gt" is not a valid label selector operator',
  );
  badRequest(
    () => labelSelectorFromObject({ matchExpressions: [{ key: "a", operator: "In", values: [] }] }),
    /values set can't be empty/,
  );
});

test("field selectors parse =, == and != with escapes, as the apiserver does", () => {
  assert.deepEqual(parseFieldSelector(""), []);
  assert.deepEqual(parseFieldSelector("status.phase=Running,metadata.name!=x"), [
    { field: "metadata.name", operator: "!=", value: "x" },
    { field: "status.phase", operator: "=", value: "Running" },
  ]);
  assert.deepEqual(parseFieldSelector("metadata.name==a"), [
    { field: "metadata.name", operator: "=", value: "a" },
  ]);
  assert.deepEqual(parseFieldSelector("spec.nodeName="), [
    { field: "spec.nodeName", operator: "=", value: "" },
  ]);
  assert.deepEqual(parseFieldSelector("metadata.name=a\\,b\\=c\\\\"), [
    { field: "metadata.name", operator: "=", value: "a,b=c\\" },
  ]);
  badRequest(
    () => parseFieldSelector("status.phase"),
    "invalid selector: 'status.phase'; can't understand 'status.phase'",
  );
  badRequest(() => parseFieldSelector("a=b=c"), "invalid field selector: unescaped character in value: 61");
  badRequest(() => parseFieldSelector("a=b\\x"), "invalid field selector: invalid escape sequence: \\x");
});

const pod: KubeObject = {
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name: "web-1", namespace: "default" },
  spec: {
    nodeName: "node-a",
    restartPolicy: "Always",
    serviceAccountName: "default",
    schedulerName: "default-scheduler",
  },
  status: { phase: "Running", podIP: "10.0.0.5" },
};

test("field selectors match metadata and each kind's own field labels", () => {
  const cases: [string, KubeObject, boolean][] = [
    ["metadata.name=web-1", pod, true],
    ["metadata.name!=web-1", pod, false],
    ["metadata.namespace=default", pod, true],
    ["status.phase=Running", pod, true],
    ["status.phase=Pending", pod, false],
    ["spec.nodeName=node-a", pod, true],
    ["spec.nodeName=", pod, false],
    ["spec.restartPolicy=Always,spec.serviceAccountName=default", pod, true],
    ["spec.schedulerName=default-scheduler", pod, true],
    ["status.podIP=10.0.0.5", pod, true],
    ["status.nominatedNodeName=", pod, true],
    ["spec.hostNetwork=false", pod, true],
    ["type=Opaque", { apiVersion: "v1", kind: "Secret", metadata: { name: "s" }, type: "Opaque" }, true],
    [
      "status.phase=Active",
      { apiVersion: "v1", kind: "Namespace", metadata: { name: "n" }, status: { phase: "Active" } },
      true,
    ],
    [
      "spec.unschedulable=true",
      { apiVersion: "v1", kind: "Node", metadata: { name: "n" }, spec: { unschedulable: true } },
      true,
    ],
    ["spec.unschedulable=false", { apiVersion: "v1", kind: "Node", metadata: { name: "n" }, spec: {} }, true],
    [
      "status.replicas=3",
      { apiVersion: "apps/v1", kind: "ReplicaSet", metadata: { name: "r" }, status: { replicas: 3 } },
      true,
    ],
    [
      "status.replicas=0",
      { apiVersion: "apps/v1", kind: "ReplicaSet", metadata: { name: "r" }, status: {} },
      true,
    ],
    [
      "status.successful=1",
      { apiVersion: "batch/v1", kind: "Job", metadata: { name: "j" }, status: { succeeded: 1 } },
      true,
    ],
  ];
  for (const [sel, obj, want] of cases)
    assert.equal(matchesFieldSelector(parseFieldSelector(sel), obj), want, sel);

  const event: KubeObject = {
    apiVersion: "v1",
    kind: "Event",
    metadata: { name: "e", namespace: "default" },
    involvedObject: {
      kind: "Pod",
      name: "web-1",
      namespace: "default",
      uid: "u1",
      apiVersion: "v1",
      fieldPath: "spec.containers{app}",
    },
    reason: "Started",
    type: "Normal",
    source: { component: "kubelet" },
  };
  for (const sel of [
    "involvedObject.kind=Pod",
    "involvedObject.name=web-1",
    "involvedObject.namespace=default",
    "involvedObject.uid=u1",
    "involvedObject.apiVersion=v1",
    "involvedObject.fieldPath=spec.containers{app}",
    "involvedObject.resourceVersion=",
    "reason=Started",
    "type=Normal",
    "source=kubelet",
  ])
    assert.equal(matchesFieldSelector(parseFieldSelector(sel), event), true, sel);
  assert.equal(matchesFieldSelector(parseFieldSelector("type=Warning"), event), false);
});

test("a field label the kind does not register is refused with 'field label not supported'", () => {
  badRequest(
    () => matchesFieldSelector(parseFieldSelector("spec.foo=bar"), pod),
    "field label not supported: spec.foo",
  );
  badRequest(
    () =>
      matchesFieldSelector(parseFieldSelector("status.phase=Active"), {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: {},
      }),
    "field label not supported: status.phase",
  );
  badRequest(
    () => checkFieldSelector(parseFieldSelector("type=Opaque"), "ConfigMap"),
    "field label not supported: type",
  );
  checkFieldSelector(parseFieldSelector("type=Opaque,metadata.name=x"), "Secret");
});

test("fieldSelectorName returns the name an exact metadata.name term pins, and nothing otherwise", () => {
  assert.equal(fieldSelectorName(parseFieldSelector("metadata.name=nginx")), "nginx");
  assert.equal(fieldSelectorName(parseFieldSelector("metadata.name==nginx,status.phase=Running")), "nginx");
  assert.equal(fieldSelectorName(parseFieldSelector("metadata.name!=nginx")), undefined);
  assert.equal(fieldSelectorName(parseFieldSelector("status.phase=Running")), undefined);
});

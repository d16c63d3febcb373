import assert from "node:assert/strict";
import { test } from "node:test";
import { AGENT, decide, engineOf, policy, type Req, verdict } from "./support.ts";

const ALLOW = (name: string, body: string) => `    - name: ${name}\n${body}\n      effect: allow`;

/** One policy per case: does the rule match the request? */
function matches(rule: string, request: Req, identity = AGENT, subjects = "[{ identity: '*' }]"): boolean {
  const engine = engineOf(policy("p", subjects, ALLOW("r", rule)));
  return decide(engine, request, identity).effect === "allow";
}

test("every matcher matches what it names and nothing else", () => {
  const pods: Req = { verb: "get", resource: "pods", namespace: "dev", name: "web-1" };
  const cases: [string, string, Req, boolean][] = [
    ["verbs", "      verbs: [get]", pods, true],
    ["verbs other", "      verbs: [list]", pods, false],
    ["verbs *", '      verbs: ["*"]', pods, true],
    [
      "exec is an action, not create",
      "      verbs: [create]",
      { verb: "exec", resource: "pods", namespace: "dev", name: "w", exec: { command: ["ls"] } },
      false,
    ],
    [
      "exec action",
      "      verbs: [exec]\n      resources: [pods]",
      { verb: "exec", resource: "pods", namespace: "dev", name: "w", exec: { command: ["ls"] } },
      true,
    ],
    [
      "attach action",
      "      verbs: [attach]\n      resources: [pods/attach]",
      { verb: "attach", resource: "pods", namespace: "dev", name: "w" },
      true,
    ],
    [
      "portforward action (a port-forward rule names its ports)",
      "      verbs: [portforward]\n      ports: [80]",
      { verb: "portforward", resource: "pods", namespace: "dev", name: "w" },
      true,
    ],
    ["resource", "      verbs: [get]\n      resources: [pods]", pods, true],
    ["resource other", "      verbs: [get]\n      resources: [services]", pods, false],
    [
      "resource does not match its subresource",
      "      verbs: [get]\n      resources: [pods]",
      { ...pods, subresource: "log" },
      false,
    ],
    ["subresource", "      verbs: [get]\n      resources: [pods/log]", { ...pods, subresource: "log" }, true],
    [
      "pods/* any subresource",
      "      verbs: [get]\n      resources: [pods/*]",
      { ...pods, subresource: "log" },
      true,
    ],
    ["pods/* not pods", "      verbs: [get]\n      resources: [pods/*]", pods, false],
    ["* everything", '      verbs: [get]\n      resources: ["*"]', { ...pods, subresource: "log" }, true],
    [
      "*/scale",
      '      verbs: [patch]\n      resources: ["*/scale"]',
      {
        verb: "patch",
        apiGroup: "apps",
        resource: "statefulsets",
        subresource: "scale",
        namespace: "a",
        name: "b",
        object: {},
      },
      true,
    ],
    [
      "resource.group",
      "      verbs: [get]\n      resources: [deployments.apps]",
      { verb: "get", apiGroup: "apps", resource: "deployments", namespace: "a", name: "b" },
      true,
    ],
    [
      "resource.group other group",
      "      verbs: [get]\n      resources: [deployments.apps]",
      { verb: "get", apiGroup: "extensions", resource: "deployments", namespace: "a", name: "b" },
      false,
    ],
    ["apiGroups core", '      verbs: [get]\n      apiGroups: [""]', pods, true],
    ["apiGroups apps", "      verbs: [get]\n      apiGroups: [apps]", pods, false],
    ["namespaces", "      verbs: [get]\n      namespaces: [dev]", pods, true],
    ["namespaces glob", '      verbs: [get]\n      namespaces: ["d*"]', pods, true],
    ["namespaces other", "      verbs: [get]\n      namespaces: [prod]", pods, false],
    [
      "namespaces * not cluster-scoped",
      '      verbs: [get]\n      namespaces: ["*"]',
      { verb: "get", resource: "nodes", name: "n1" },
      false,
    ],
    [
      'namespaces "" cluster-scoped',
      '      verbs: [get]\n      namespaces: [""]',
      { verb: "get", resource: "nodes", name: "n1" },
      true,
    ],
    ["names", "      verbs: [get]\n      names: [web-1]", pods, true],
    ["names glob", '      verbs: [get]\n      names: ["web-*"]', pods, true],
    [
      "names do not match a list",
      '      verbs: [list]\n      names: ["*"]',
      { verb: "list", resource: "pods", namespace: "dev" },
      false,
    ],
    ["clusters", "      verbs: [get]\n      clusters: [default]", pods, true],
    [
      "clusters other",
      "      verbs: [get]\n      clusters: [prod-eks]",
      { ...pods, cluster: "staging" },
      false,
    ],
    [
      "nonResourceURLs",
      '      verbs: [get]\n      nonResourceURLs: ["/apis/*"]',
      { verb: "get", path: "/apis/apps" },
      true,
    ],
    ["nonResourceURLs not resources", '      verbs: [get]\n      nonResourceURLs: ["*"]', pods, false],
    [
      "resources not non-resource",
      '      verbs: [get]\n      resources: ["*"]',
      { verb: "get", path: "/version" },
      false,
    ],
    ["no target fields: both", "      verbs: [get]", { verb: "get", path: "/version" }, true],
    [
      "labelSelector on body",
      "      verbs: [create]\n      labelSelector: { matchLabels: { app: web } }",
      {
        verb: "create",
        resource: "pods",
        namespace: "dev",
        object: { metadata: { labels: { app: "web" } } },
      },
      true,
    ],
    [
      "labelSelector on body other",
      "      verbs: [create]\n      labelSelector: { matchLabels: { app: web } }",
      { verb: "create", resource: "pods", namespace: "dev", object: { metadata: { labels: { app: "db" } } } },
      false,
    ],
    [
      "labelSelector on list selector",
      "      verbs: [list]\n      labelSelector: { matchLabels: { app: web } }",
      { verb: "list", resource: "pods", namespace: "dev", labelSelector: "app=web,tier!=x" },
      true,
    ],
    [
      "labelSelector In",
      "      verbs: [list]\n      labelSelector: { matchExpressions: [{ key: app, operator: In, values: [web, api] }] }",
      { verb: "list", resource: "pods", namespace: "dev", labelSelector: "app in (api)" },
      true,
    ],
    [
      "labelSelector DoesNotExist on unlabelled",
      "      verbs: [list]\n      labelSelector: { matchExpressions: [{ key: secret, operator: DoesNotExist }] }",
      { verb: "list", resource: "pods", namespace: "dev" },
      true,
    ],
    [
      "exec command prefix",
      "      verbs: [exec]\n      exec: { command: [rm, '-rf'] }",
      {
        verb: "exec",
        resource: "pods",
        namespace: "d",
        name: "w",
        exec: { command: ["/bin/rm", "-rf", "/"] },
      },
      true,
    ],
    [
      "exec command prefix other",
      "      verbs: [exec]\n      exec: { command: [rm, '-rf'] }",
      { verb: "exec", resource: "pods", namespace: "d", name: "w", exec: { command: ["rm", "x"] } },
      false,
    ],
    [
      "exec commandRegex",
      "      verbs: [exec]\n      exec: { commandRegex: '^cat /etc/(passwd|shadow)$' }",
      {
        verb: "exec",
        resource: "pods",
        namespace: "d",
        name: "w",
        exec: { command: ["cat", "/etc/shadow"] },
      },
      true,
    ],
    [
      "exec commandMatches (allow): every program in sh -c listed",
      "      verbs: [exec]\n      exec: { commandMatches: [sh, echo, rm] }",
      {
        verb: "exec",
        resource: "pods",
        namespace: "d",
        name: "w",
        exec: { command: ["sh", "-c", "echo hi; rm -rf /"] },
      },
      true,
    ],
    [
      "exec commandMatches (allow): a program in sh -c not listed",
      "      verbs: [exec]\n      exec: { commandMatches: [rm] }",
      {
        verb: "exec",
        resource: "pods",
        namespace: "d",
        name: "w",
        exec: { command: ["sh", "-c", "echo hi; rm -rf /"] },
      },
      false,
    ],
    [
      "exec commandMatches not an argument",
      "      verbs: [exec]\n      exec: { commandMatches: [rm] }",
      { verb: "exec", resource: "pods", namespace: "d", name: "w", exec: { command: ["ls", "rm"] } },
      false,
    ],
    [
      "exec tty",
      "      verbs: [exec]\n      exec: { tty: true }",
      {
        verb: "exec",
        resource: "pods",
        namespace: "d",
        name: "w",
        exec: { command: ["sh"], tty: true, stdin: true },
      },
      true,
    ],
    [
      "exec containers",
      "      verbs: [exec]\n      exec: { containers: [sidecar] }",
      {
        verb: "exec",
        resource: "pods",
        namespace: "d",
        name: "w",
        exec: { command: ["sh"], container: "app" },
      },
      false,
    ],
    ["exec matcher needs an exec", "      verbs: [get]\n      exec: { tty: false }", pods, false],
  ];
  for (const [what, rule, request, expected] of cases) {
    assert.equal(matches(rule, request), expected, what);
  }
});

test("subjects match identity name, group, kind and identity labels; rule subjects narrow the policy's", () => {
  const rule = "      verbs: [get]";
  const pods: Req = { verb: "get", resource: "pods", namespace: "dev", name: "w" };
  const cases: [string, boolean][] = [
    ["[{ identity: demo-agent }]", true],
    ["[{ identity: 'demo-*' }]", true],
    ["[{ identity: other }]", false],
    ["[{ group: agents }]", true],
    ["[{ group: sre }]", false],
    ["[{ kind: agent }]", true],
    ["[{ kind: human }]", false],
    ["[{ group: agents, kind: human }]", false],
    ["[{ labelSelector: { matchLabels: { team: web } } }]", true],
    ["[{ labelSelector: { matchExpressions: [{ key: team, operator: NotIn, values: [web] }] } }]", false],
    ["[{ identity: nobody }, { group: agents }]", true],
  ];
  for (const [subjects, expected] of cases)
    assert.equal(matches(rule, pods, AGENT, subjects), expected, subjects);
  const narrowed = "      verbs: [get]\n      subjects: [{ group: sre }]";
  assert.equal(matches(narrowed, pods), false, "rule-level subjects are ANDed with the policy's");
});

test("precedence is deny > review > allow across policies, and nothing matching is a default deny", () => {
  const review =
    "    - name: hold\n      verbs: [delete]\n      effect: review\n      review: { approvers: { groups: [sre] } }";
  const deny =
    "    - name: block\n      verbs: [delete]\n      resources: [namespaces]\n      effect: deny\n      message: no";
  const allow = "    - name: ok\n      verbs: [delete, get]\n      effect: allow";
  const engine = engineOf(
    [
      policy("a", "[{ identity: '*' }]", allow),
      policy("b", "[{ identity: '*' }]", review),
      policy("c", "[{ identity: '*' }]", deny),
    ].join("---\n"),
  );
  assert.equal(
    verdict(decide(engine, { verb: "get", resource: "pods", namespace: "x", name: "y" })),
    "allow a/ok",
  );
  assert.equal(
    verdict(decide(engine, { verb: "delete", resource: "pods", namespace: "x", name: "y" })),
    "review b/hold",
  );
  assert.equal(
    verdict(decide(engine, { verb: "delete", resource: "namespaces", name: "x" })),
    "deny c/block",
  );
  const none = decide(engine, { verb: "create", resource: "pods", namespace: "x", object: {} });
  assert.equal(verdict(none), "deny default/default-deny");
  assert.equal(none.effect === "deny" && none.message, 'no policy allows create pods in namespace "x"');
});

test("an allow rule that masks wins over one that does not", () => {
  const rules =
    "    - name: plain\n      verbs: [get]\n      effect: allow\n    - name: masked\n      verbs: [get]\n      effect: allow\n      mask: strict";
  const d = decide(engineOf(policy("p", "[{ identity: '*' }]", rules)), {
    verb: "get",
    resource: "secrets",
    namespace: "x",
    name: "s",
  });
  assert.equal(d.effect === "allow" && `${d.rule}:${d.mask}`, "masked:strict");
});

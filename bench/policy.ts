// Policy evaluation benchmark: 1,000 rules (100 policies × 10 rules, a tenth with CEL conditions) against a mix of
// requests. Target (issue 4): under 50 µs per request at p99. Run: npx node bench/policy.ts [--rules N]

import type { Principal } from "../src/identity/types.ts";
import type { KubeRequest } from "../src/kube/request.ts";
import { engineForSet } from "../src/policy/engine.ts";
import { compileSources } from "../src/policy/load.ts";
import { describeToRequest } from "../src/policy/request.ts";

const argRules = process.argv.indexOf("--rules");
const RULES = argRules > 0 ? Number(process.argv[argRules + 1]) : 1000;
const PER_POLICY = 10;
const RESOURCES = [
  "pods",
  "deployments",
  "services",
  "configmaps",
  "secrets",
  "jobs",
  "ingresses",
  "replicasets",
];
const VERBS = ["get", "list", "watch", "create", "update", "patch", "delete"];

function policies(): string {
  const docs: string[] = [];
  for (let p = 0; p < RULES / PER_POLICY; p++) {
    const rules: string[] = [];
    for (let r = 0; r < PER_POLICY; r++) {
      const n = p * PER_POLICY + r;
      const verb = VERBS[n % VERBS.length];
      const resource = RESOURCES[n % RESOURCES.length];
      const effect = n % 5 === 0 ? "deny" : "allow";
      const when = n % 10 === 3 ? `\n      when: "has(object.spec) && object.spec.replicas > ${n % 7}"` : "";
      rules.push(
        `    - name: r${r}\n      verbs: [${verb}]\n      resources: [${resource}]\n      namespaces: [ns-${n % 20}, "team-*"]${when}\n      effect: ${effect}`,
      );
    }
    docs.push(
      `apiVersion: airlock.dev/v1alpha1\nkind: Policy\nmetadata: { name: p${p} }\nspec:\n  subjects: [{ group: team-${p % 10} }, { identity: bot-${p} }]\n  rules:\n${rules.join("\n")}\n`,
    );
  }
  return docs.join("---\n");
}

const loaded = compileSources([{ file: "bench.yaml", text: policies(), managed: false }]);
if (!loaded.ok) throw new Error(loaded.errors.slice(0, 5).join("\n"));
const engine = engineForSet(loaded.set);

const requests: { principal: Principal; kube: KubeRequest }[] = [];
for (let i = 0; i < 500; i++) {
  const verb = VERBS[i % VERBS.length] ?? "get";
  const d = describeToRequest({
    identity: { name: `bot-${i % 120}`, groups: [`team-${i % 13}`] },
    request: {
      verb,
      resource: RESOURCES[(i * 7) % RESOURCES.length],
      namespace: i % 3 ? `ns-${i % 25}` : `team-${i % 4}`,
      ...(["list", "watch", "create"].includes(verb) ? {} : { name: `obj-${i}` }),
      ...(["create", "update", "patch"].includes(verb) ? { object: { spec: { replicas: i % 9 } } } : {}),
    },
  });
  if (!d.ok) throw new Error(d.errors.join("; "));
  requests.push({ principal: d.principal, kube: d.kube });
}

const N = 200_000;
for (let i = 0; i < 20_000; i++) {
  const r = requests[i % requests.length];
  if (r) engine.decide(r.principal, r.kube);
}
const times = new Float64Array(N);
const effects: Record<string, number> = {};
for (let i = 0; i < N; i++) {
  const r = requests[i % requests.length];
  if (!r) continue;
  const t0 = performance.now();
  const d = engine.decide(r.principal, r.kube);
  times[i] = performance.now() - t0;
  effects[d.effect] = (effects[d.effect] ?? 0) + 1;
}
times.sort();
const us = (q: number) => ((times[Math.min(N - 1, Math.floor(q * N))] ?? 0) * 1000).toFixed(1);
console.log(
  `policy evaluation, ${RULES} rules, ${N} requests: p50 ${us(0.5)} µs, p99 ${us(0.99)} µs, p99.9 ${us(0.999)} µs, max ${us(1)} µs`,
);
console.log(`decisions: ${JSON.stringify(effects)}`);

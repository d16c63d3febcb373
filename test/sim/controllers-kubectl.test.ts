// The controllers as real kubectl sees them through the simulator: rollout restart + rollout status completes,
// scale is followed by the pods, describe shows events, and a foreground delete waits for the dependents.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { kubectl } from "../helpers/kubectl.ts";
import { type Simulator, startTestSimulator } from "../helpers/sim.ts";

let sim: Simulator;
const k = (...args: string[]) => kubectl(sim.kubeconfigPath, args, { timeoutMs: 30_000 });

before(async () => {
  sim = await startTestSimulator({ seed: "demo" });
});
after(() => sim.close());

describe("controllers through kubectl", () => {
  test("the seeded web Deployment is rolled out", async () => {
    const r = await k("rollout", "status", "deployment/web", "-n", "prod", "--timeout=20s");
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /deployment "web" successfully rolled out/);
  });

  test("rollout restart followed by rollout status completes on a new ReplicaSet", async () => {
    const before = await k("get", "rs", "-n", "prod", "-l", "app=web", "-o", "name");
    const restart = await k("rollout", "restart", "deployment/web", "-n", "prod");
    assert.equal(restart.code, 0, restart.stderr);
    assert.match(restart.stdout, /deployment.apps\/web restarted/);
    const status = await k("rollout", "status", "deployment/web", "-n", "prod", "--timeout=20s");
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /successfully rolled out/);
    const rs = await k(
      "get",
      "rs",
      "-n",
      "prod",
      "-l",
      "app=web",
      "-o",
      'jsonpath={range .items[*]}{.metadata.name}={.spec.replicas}/{.status.replicas}{"\\n"}{end}',
    );
    const lines = rs.stdout.trim().split("\n").sort();
    assert.equal(lines.length, 2, rs.stdout);
    const oldName = before.stdout.trim().replace("replicaset.apps/", "");
    assert.ok(lines.includes(`${oldName}=0/0`), `old ReplicaSet scaled to 0: ${rs.stdout}`);
    assert.ok(
      lines.some((l) => l !== `${oldName}=0/0` && l.endsWith("=3/3")),
      rs.stdout,
    );
    const history = await k("rollout", "history", "deployment/web", "-n", "prod");
    assert.equal(history.code, 0, history.stderr);
    assert.match(history.stdout, /^1\s/m);
    assert.match(history.stdout, /^2\s/m);
  });

  test("kubectl scale is followed by the pods, and describe shows the events", async () => {
    const scale = await k("scale", "deployment/api", "-n", "staging", "--replicas=4");
    assert.equal(scale.code, 0, scale.stderr);
    const status = await k("rollout", "status", "deployment/api", "-n", "staging", "--timeout=20s");
    assert.equal(status.code, 0, status.stderr);
    const pods = await k(
      "get",
      "pods",
      "-n",
      "staging",
      "-l",
      "app=api",
      "-o",
      'jsonpath={range .items[*]}{.metadata.name} {.status.phase} {.status.containerStatuses[0].ready}{"\\n"}{end}',
    );
    const rows = pods.stdout.trim().split("\n");
    assert.equal(rows.length, 4, pods.stdout);
    for (const row of rows) assert.match(row, /^api-\w+-\w+ Running true$/);
    const name = rows[0]?.split(" ")[0] ?? "";
    const describe = await k("describe", "pod", name, "-n", "staging");
    assert.equal(describe.code, 0, describe.stderr);
    for (const reason of ["Scheduled", "Pulled", "Created", "Started"])
      assert.match(describe.stdout, new RegExp(reason));
    assert.match(describe.stdout, /Node:\s+sim-node-1\/10\.0\.0\.10/);
  });

  test("a foreground delete returns once the Deployment's pods are gone", async () => {
    const del = await k("delete", "deployment/api", "-n", "staging", "--cascade=foreground", "--timeout=20s");
    assert.equal(del.code, 0, del.stderr);
    const left = await k("get", "pods,rs,deploy", "-n", "staging", "-o", "name");
    assert.equal(left.code, 0, left.stderr);
    assert.equal(left.stdout.trim(), "");
  });
});

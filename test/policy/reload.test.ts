import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { openPolicyEngine } from "../../src/policy/engine.ts";
import { describeToRequest } from "../../src/policy/request.ts";
import { eventually } from "../helpers/eventually.ts";
import { policy } from "./support.ts";

const rulesFor = (verb: string) => `    - { name: only-${verb}, verbs: [${verb}], effect: allow }`;

test("policies reload when their file changes, and a broken change keeps the last good set in force", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "airlock-reload-"));
  const file = join(dir, "agents.yaml");
  await writeFile(file, policy("agents", "[{ group: agents }]", rulesFor("get")));
  const logged: { level: string; obj: object }[] = [];
  const opened = await openPolicyEngine({
    paths: [file],
    managedDir: join(dir, "managed"),
    pollIntervalMs: 50,
    debounceMs: 20,
    log: {
      info: (obj) => logged.push({ level: "info", obj }),
      error: (obj) => logged.push({ level: "error", obj }),
    },
  });
  assert.ok(opened.ok);
  const engine = opened.engine;
  t.after(async () => {
    engine.close();
    await rm(dir, { recursive: true, force: true });
  });
  const list = describeToRequest({
    identity: { name: "bot", groups: ["agents"] },
    request: { verb: "list", resource: "pods", namespace: "x" },
  });
  assert.ok(list.ok);
  const decideList = () => engine.decide(list.principal, list.kube).rule;
  assert.equal(decideList(), "default-deny");

  await writeFile(file, policy("agents", "[{ group: agents }]", rulesFor("list")));
  await eventually("the new policy", decideList, { until: (rule) => rule === "only-list" });

  await writeFile(file, policy("agents", "[{ group: agents }]", rulesFor("lisst")));
  await eventually("the refusal", () => engine.lastError());
  assert.match(
    engine.lastError()?.[0] ?? "",
    /agents\.yaml: document 1 \(Policy "agents"\): spec\.rules\[0\]\.verbs\[0\]: unknown verb "lisst"/,
  );
  assert.equal(decideList(), "only-list", "the last good set stays in force");
  assert.equal(engine.current().policies.length, 1, "never empty or partial");
  const refusal = logged.find((l) => l.level === "error");
  assert.ok(refusal, "the refusal is logged");

  await writeFile(file, "");
  await eventually("an empty file to load", () => engine.lastError(), { until: (e) => e === undefined });
  assert.equal(decideList(), "default-deny", "an intentionally empty file is a valid (empty) set");
});

test("a policy file that does not load at start is an error listing every problem", async () => {
  const dir = await mkdtemp(join(tmpdir(), "airlock-reload-"));
  try {
    await writeFile(
      join(dir, "a.yaml"),
      policy("a", "[]", "    - { name: r, verbs: [nope], effect: allow }"),
    );
    const opened = await openPolicyEngine({ paths: [dir], watch: false });
    assert.ok(!opened.ok);
    assert.equal(opened.errors.length, 2, opened.errors.join("\n"));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

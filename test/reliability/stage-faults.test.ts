// A stage that throws after the write-ahead record (a bug, or a dependency failing in a way no stage expected) still
// leaves the request's audit record complete, and the client gets a Status, not a cut connection: the pipeline
// catches it, writes the completion (500, naming the failure), and the listener answers and logs.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { STAGES } from "../../src/gateway/pipeline.ts";
import { record } from "../../src/gateway/stages/record.ts";
import type { Stage } from "../../src/gateway/stages/types.ts";
import { eventually } from "../helpers/eventually.ts";
import { callGateway, startTestGateway, type TestGateway } from "../helpers/gateway.ts";
import { allAuditEvents } from "./support.ts";

const DEMO_POLICY = new URL("../../examples/policies/demo.yaml", import.meta.url).pathname;
let gw: TestGateway;
let token: string;

before(async () => {
  gw = await startTestGateway({ policyFiles: [DEMO_POLICY] });
  ({ token } = await gw.addIdentity("fault-agent", "agent", ["agents"]));
});
after(() => gw.close());

/** Runs `body` with `stage` placed right after the write-ahead record stage, then takes it out again. */
async function withStageAfterRecord(stage: Stage, body: () => Promise<void>): Promise<void> {
  const stages = STAGES as Stage[];
  const at = stages.indexOf(record) + 1;
  assert.ok(at > 0, "the record stage is in STAGES");
  stages.splice(at, 0, stage);
  try {
    await body();
  } finally {
    stages.splice(stages.indexOf(stage), 1);
  }
}

test("a stage throwing after the record: the client gets a 500 Status and the record its completion", async () => {
  const path = "/api/v1/namespaces/prod/configmaps";
  const seen = new Set((await allAuditEvents(gw.gateway.store)).map((e) => e.id));
  await withStageAfterRecord(
    async () => {
      throw new Error("injected stage fault");
    },
    async () => {
      const r = await callGateway(gw, "GET", path, token);
      assert.equal(r.code, 500);
      assert.equal(r.body?.kind, "Status", JSON.stringify(r.body));
    },
  );
  const events = await eventually(
    "the faulted request's audit record with its completion",
    async () => (await allAuditEvents(gw.gateway.store)).filter((e) => !seen.has(e.id) && e.path === path),
    { until: (found) => found.length === 1 && found[0]?.completedAt !== null },
  );
  const [event] = events;
  assert.equal(event?.status, 500);
  assert.match(String(event?.reason ?? ""), /the gateway failed handling the request: injected stage fault/);
  // The gateway goes on serving.
  const next = await callGateway(gw, "GET", "/api/v1/namespaces/prod/configmaps", token);
  assert.equal(next.code, 200);
});

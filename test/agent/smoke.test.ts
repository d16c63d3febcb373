import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { startTestAgent } from "../helpers/agent.ts";
import { startTestGateway, type TestGateway } from "../helpers/gateway.ts";
import { kubectl } from "../helpers/kubectl.ts";

let tg: TestGateway;
before(async () => {
  tg = await startTestGateway({ agents: { listen: { address: "127.0.0.1", port: 0 } } });
});
after(async () => {
  await tg.close();
});
test("get through the tunnel", async () => {
  const logs: object[] = [];
  const agent = await startTestAgent(tg, { logs });
  const { kubeconfig } = await tg.addIdentity("alice", "human");
  const r = await kubectl(kubeconfig, ["get", "pods", "-n", "prod"]);
  console.log(r, logs);
  assert.equal(r.code, 0);
  agent.stop();
});

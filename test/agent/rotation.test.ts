// Certificate rotation (docs/agent.md): with agent certificates that live 9 s, the agent renews at two thirds of
// their life, moves to a new tunnel with the new certificate and lets the old one go (GOAWAY), so requests sent all
// along — past the first certificate's end, through several renewals — are answered without a gap; the gateway
// closes a tunnel when its certificate ends.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { Agent } from "../../src/agent/run.ts";
import { startTestAgent } from "../helpers/agent.ts";
import { startTestGateway, type TestGateway } from "../helpers/gateway.ts";
import { httpsJson } from "../helpers/https-json.ts";

let tg: TestGateway;
let agent: Agent;
const logs: object[] = [];

before(async () => {
  tg = await startTestGateway({
    agents: { listen: { address: "127.0.0.1", port: 0 }, certificateHours: 0.0025 },
  });
  agent = await startTestAgent(tg, { logs });
});
after(async () => {
  agent?.stop();
  await tg?.close();
});

test("requests keep being answered across certificate renewals, past the first certificate's end", async () => {
  const { token } = await tg.addIdentity("ops", "human");
  const target = { url: tg.gateway.url, ca: tg.gateway.caPem };
  const codes: number[] = [];
  const until = Date.now() + 12_000;
  while (Date.now() < until) {
    const answer = await httpsJson(target, "GET", "/api/v1/namespaces/prod/configmaps/web-config", token);
    codes.push(answer.code);
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.ok(codes.length > 20, `only ${codes.length} requests`);
  assert.deepEqual(
    codes.filter((c) => c !== 200),
    [],
    "every request was answered by the cluster",
  );
  const renewed = logs.filter((e) => (e as { event?: string }).event === "agent.renewed");
  assert.ok(renewed.length >= 1, "the agent renewed its certificate");
  const metrics = await tg.gateway.runtime.metrics.registry.metrics();
  assert.match(metrics, /^airlock_agent_renewals_total\{result="ok"\} [1-9]/m);
  // Still one agent (the same id), on the newest tunnel.
  const links = tg.gateway.agents?.hub.links("sim").filter((l) => l.usable) ?? [];
  assert.deepEqual([...new Set(links.map((l) => l.id))], [agent.agentId]);
});

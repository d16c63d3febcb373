// A request crossing a tunnel's end (docs/agent.md "Failure modes"): a request sent onto a tunnel whose agent was
// already moving away (its GOAWAY names a last stream below the request's: the agent never processed it) provably
// never reached the cluster, so the gateway sends it once more on another agent of the cluster, and the client gets
// the cluster's answer — the renewal race that turned into a 502. A request whose stream the agent accepted and then
// lost is never sent again (it may have reached the cluster): the client gets an error Status naming the cluster.
// Either way the request has exactly one begin and one completion record.
import assert from "node:assert/strict";
import type { ClientHttp2Stream } from "node:http2";
import { after, before, test } from "node:test";
import { drainMs } from "../../src/agent/gateway-listener.ts";
import type { Agent } from "../../src/agent/run.ts";
import type { AuditRecord } from "../../src/audit/types.ts";
import type { TunnelLink } from "../../src/upstream/tunnel-hub.ts";
import { startTestAgent } from "../helpers/agent.ts";
import { eventually } from "../helpers/eventually.ts";
import { startTestGateway, type TestGateway } from "../helpers/gateway.ts";
import { httpsJson } from "../helpers/https-json.ts";

let tg: TestGateway;
let token: string;
const agents: Agent[] = [];
const PATH = "/api/v1/namespaces/prod/configmaps/web-config";

before(async () => {
  tg = await startTestGateway({ agents: { listen: { address: "127.0.0.1", port: 0 } } });
  token = (await tg.addIdentity("ops", "human")).token;
});
after(async () => {
  for (const a of agents) a.stop();
  await tg?.close();
});

function usableLinks(): TunnelLink[] {
  return tg.gateway.agents?.hub.links("sim").filter((l) => l.usable) ?? [];
}

/** `n` agents of "sim" connected (fresh ones), their links. */
async function freshAgents(n: number): Promise<{ pair: Agent[]; links: TunnelLink[] }> {
  for (const a of agents.splice(0)) a.stop();
  await eventually("no tunnel left", async () => usableLinks().length === 0 || undefined);
  const pair: Agent[] = [];
  for (let i = 0; i < n; i++) pair.push(await startTestAgent(tg));
  agents.push(...pair);
  const links = await eventually(`${n} tunnels`, async () => {
    const l = usableLinks();
    return l.length === n ? l : undefined;
  });
  return { pair, links };
}

/** Calls `onOpen` for each stream the gateway opens on these links; the ids of the links streams were opened on. */
function watchOpens(
  links: TunnelLink[],
  onOpen: (link: TunnelLink, stream: ClientHttp2Stream) => void,
): string[] {
  const opened: string[] = [];
  for (const link of links) {
    const open = link.open.bind(link);
    link.open = (declared, onClose) => {
      const stream = open(declared, onClose);
      opened.push(link.id);
      onOpen(link, stream);
      return stream;
    };
  }
  return opened;
}

/** The request records written from `afterSeq` on, once every begun request has its completion. */
async function requestRecords(afterSeq: number): Promise<AuditRecord[]> {
  return eventually("the request's completion record", async () => {
    const all = (await tg.gateway.store.audit.records({ afterSeq, limit: 10_000 })).filter((r) =>
      r.type.startsWith("request"),
    );
    const begun = all.filter((r) => r.type === "request");
    const done = all.filter((r) => r.type === "request.completed");
    return begun.length > 0 && done.length === begun.length ? all : undefined;
  });
}

async function lastSeq(): Promise<number> {
  const all = await tg.gateway.store.audit.records({ afterSeq: 0, limit: 100_000 });
  return all.at(-1)?.seq ?? 0;
}

test("a request sent onto a tunnel its agent is leaving (above its GOAWAY) is answered through the other agent", async () => {
  const { pair, links } = await freshAgents(2);
  let leaving: TunnelLink | undefined;
  const opened = watchOpens(links, (link) => {
    if (leaving) return;
    // The agent moves away as the request is dispatched: its GOAWAY (last stream: the ones it had) crosses the
    // request's stream, as when a renewal's new tunnel is up and the old one is let go.
    leaving = link;
    void pair.find((a) => a.agentId === link.id)?.drain(5_000);
  });
  const from = await lastSeq();
  const answer = await httpsJson({ url: tg.gateway.url, ca: tg.gateway.caPem }, "GET", PATH, token);
  assert.equal(answer.code, 200, JSON.stringify(answer.body));
  assert.equal(answer.body.metadata?.name, "web-config");
  assert.ok(leaving, "the request was first sent onto a tunnel");
  const other = links.find((l) => l !== leaving);
  assert.deepEqual(opened, [leaving.id, other?.id], "sent once more, on the other agent's tunnel");
  const records = await requestRecords(from);
  assert.deepEqual(
    records.map((r) => r.type),
    ["request", "request.completed"],
    "one begin and one completion",
  );
  assert.equal(records[1]?.ref, records[0]?.ref);
  assert.match(records[1]?.body ?? "", /"status":200/);
});

test("a request whose stream the agent accepted and then lost is not sent again: an error Status naming the cluster", async () => {
  const { links } = await freshAgents(2);
  let cut = false;
  const opened = watchOpens(links, (link, stream) => {
    // The agent answers the CONNECT (it took the request) and then the tunnel ends (its certificate's end, a
    // revocation, the network): the request may have reached the cluster.
    stream.once("response", () => {
      if (cut) return;
      cut = true;
      link.close("the test cut the tunnel after the agent accepted the stream");
    });
  });
  const from = await lastSeq();
  const answer = await httpsJson({ url: tg.gateway.url, ca: tg.gateway.caPem }, "GET", PATH, token);
  assert.ok(cut, "the stream was accepted, then cut");
  assert.equal(answer.code, 503, JSON.stringify(answer.body));
  assert.equal(answer.body.kind, "Status");
  assert.match(String(answer.body.message), /"sim"/);
  assert.doesNotMatch(String(answer.body.message), /nothing reached the cluster/);
  assert.equal(opened.length, 1, "never sent on the other tunnel");
  const records = await requestRecords(from);
  assert.deepEqual(
    records.map((r) => r.type),
    ["request", "request.completed"],
    "one begin and one completion",
  );
  assert.match(records[1]?.body ?? "", new RegExp(`"status":${answer.code}`));
});

test("with no other agent to take it, a request its agent never took is a 503 saying nothing reached the cluster", async () => {
  const { pair, links } = await freshAgents(1);
  const opened = watchOpens(links, () => void pair[0]?.drain(5_000));
  const from = await lastSeq();
  const answer = await httpsJson({ url: tg.gateway.url, ca: tg.gateway.caPem }, "GET", PATH, token);
  assert.equal(answer.code, 503, JSON.stringify(answer.body));
  assert.equal(answer.body.kind, "Status");
  assert.match(
    String(answer.body.message),
    /"sim".*closed before the agent took the request \(nothing reached the cluster\)/,
  );
  assert.equal(opened.length, 1);
  const records = await requestRecords(from);
  assert.deepEqual(
    records.map((r) => r.type),
    ["request", "request.completed"],
  );
});

test("a tunnel in its last moments before its certificate ends gets new requests only when the cluster has no other", async () => {
  const { links } = await freshAgents(2);
  const hub = tg.gateway.agents?.hub;
  assert.ok(hub);
  const [first, second] = links;
  assert.ok(first && second);
  // Both idle: the one connected first is chosen, until it drains.
  assert.equal(hub.pick("sim"), first);
  first.drain();
  assert.equal(hub.pick("sim"), second);
  const answer = await httpsJson({ url: tg.gateway.url, ca: tg.gateway.caPem }, "GET", PATH, token);
  assert.equal(answer.code, 200);
  second.drain();
  assert.equal(hub.pick("sim"), first, "with every tunnel draining, one is still used");
  // The last tenth of the time a certificate has left when the tunnel opens, between 1 s and 60 s.
  assert.deepEqual([drainMs(9_000), drainMs(3_600_000), drainMs(86_400_000)], [1_000, 60_000, 60_000]);
  assert.equal(drainMs(100_000), 10_000);
});

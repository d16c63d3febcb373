// `airlock cluster` against a gateway with no tunnel cluster (the default direct connection): the list shows the
// cluster as direct with the address the gateway dials; join tokens and agent revocation say why there is nothing
// to do instead of failing obscurely.
import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { runAirlock } from "../helpers/cli.ts";
import { startTestGateway, type TestGateway } from "../helpers/gateway.ts";

let tg: TestGateway;
let caFile: string;
let admin: string;
before(async () => {
  tg = await startTestGateway();
  caFile = join(tg.dir, "ca.crt");
  await writeFile(caFile, tg.gateway.caPem);
  admin = (await readFile(tg.gateway.adminTokenPath, "utf8")).trim();
});
after(() => tg.close());

test("cluster list shows a direct cluster with the address it is dialled at", async () => {
  const r = await runAirlock(tg, caFile, admin, ["cluster", "list"]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `sim: direct (${tg.sim.url})\n`);
});

test("join-token create and agent revoke say there are no tunnel clusters", async () => {
  const token = await runAirlock(tg, caFile, admin, ["cluster", "join-token", "create", "sim"]);
  assert.equal(token.code, 1);
  assert.match(token.stderr, /NotFound.*no tunnel clusters \(no agents section/);
  const revoke = await runAirlock(tg, caFile, admin, ["cluster", "agent", "revoke", "agent-000000000000"]);
  assert.equal(revoke.code, 1);
  assert.match(revoke.stderr, /no tunnel clusters/);
});

test("an agent identity may not list clusters or create join tokens (admin API is for humans and the admin)", async () => {
  const { token } = await tg.addIdentity("bot", "agent");
  const r = await runAirlock(tg, caFile, token, ["cluster", "list"]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /agents may not use the admin API/);
});

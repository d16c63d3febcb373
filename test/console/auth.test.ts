// The console's sign-in and the admin API behind it, below the browser: what the cookie looks like, and that no
// console request works without a signed-in human, with the right role, repeating the session's CSRF token.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { startTestGateway, type TestGateway } from "../helpers/gateway.ts";
import { cookieFrom, ensureConsoleBuilt, type HttpAnswer, https } from "./support.ts";

let gw: TestGateway;
let agentToken: string;
let aliceToken: string;
let bobToken: string;

const call = (
  method: string,
  path: string,
  opts: { headers?: Record<string, string>; body?: unknown } = {},
) => https(gw.gateway.url, gw.gateway.caPem, method, path, opts);

async function signIn(token: string): Promise<{ cookie: string; csrf: string; answer: HttpAnswer }> {
  const answer = await call("POST", "/ui/api/login", { body: { token } });
  assert.equal(answer.status, 200, answer.body);
  return {
    cookie: cookieFrom(answer),
    csrf: (JSON.parse(answer.body) as { csrfToken: string }).csrfToken,
    answer,
  };
}

before(async () => {
  await ensureConsoleBuilt();
  gw = await startTestGateway();
  agentToken = (await gw.addIdentity("demo-agent", "agent", ["agents"])).token;
  aliceToken = (await gw.addIdentity("alice", "human", ["sre", "airlock:admins"])).token;
  bobToken = (await gw.addIdentity("bob", "human", ["sre"])).token;
});
after(async () => {
  await gw?.close();
});

test("the console is served at /ui/ with a strict CSP, and deep links such as /ui/reviews/<id> get the app", async () => {
  const redirect = await call("GET", "/ui");
  assert.equal(redirect.status, 308);
  assert.equal(redirect.headers.location, "/ui/");
  const index = await call("GET", "/ui/");
  assert.equal(index.status, 200);
  assert.match(String(index.headers["content-type"]), /text\/html/);
  assert.match(String(index.headers["content-security-policy"]), /script-src 'self'/);
  assert.match(String(index.headers["content-security-policy"]), /frame-ancestors 'none'/);
  const script = /src="(\/ui\/assets\/[^"]+\.js)"/.exec(index.body)?.[1];
  assert.ok(script, index.body);
  const asset = await call("GET", script);
  assert.equal(asset.status, 200);
  assert.match(String(asset.headers["cache-control"]), /immutable/);
  const deep = await call("GET", "/ui/reviews/0b6f3c1e-2f0a-4c55-9a4e-0c6b1d2e3f40");
  assert.equal(deep.status, 200);
  assert.equal(deep.body, index.body);
  assert.equal((await call("GET", "/ui/assets/missing.js")).status, 404);
  assert.equal((await call("GET", "/ui/..%2fpackage.json")).status, 404);
  assert.equal((await call("POST", "/ui/")).status, 405);
});

test("signing in sets an HttpOnly, Secure, SameSite=Strict host-only cookie and answers a CSRF token", async () => {
  const { answer, csrf } = await signIn(aliceToken);
  const set = String(answer.headers["set-cookie"]);
  assert.match(set, /^__Host-airlock-session=[A-Za-z0-9_-]{43};/);
  for (const attr of ["HttpOnly", "Secure", "SameSite=Strict", "Path=/"]) assert.ok(set.includes(attr), set);
  assert.doesNotMatch(set, /Domain=/i);
  assert.equal(csrf.length, 43);
  const body = JSON.parse(answer.body) as { name: string; kind: string };
  assert.deepEqual([body.name, body.kind], ["alice", "human"]);
});

test("agents, unknown tokens and other origins cannot sign in", async () => {
  const agent = await call("POST", "/ui/api/login", { body: { token: agentToken } });
  assert.equal(agent.status, 403);
  assert.match(agent.body, /is an agent; only humans sign in/);
  assert.equal(agent.headers["set-cookie"], undefined);
  const unknown = await call("POST", "/ui/api/login", { body: { token: "not-a-token" } });
  assert.equal(unknown.status, 401);
  const foreign = await call("POST", "/ui/api/login", {
    body: { token: aliceToken },
    headers: { origin: "https://evil.example" },
  });
  assert.equal(foreign.status, 403);
  const form = await call("POST", "/ui/api/login", {
    headers: { "content-type": "application/x-www-form-urlencoded" },
  });
  assert.equal(form.status, 415);
});

test("without a cookie, with an unknown cookie, or with an agent's token the console's API calls are refused", async () => {
  assert.equal((await call("GET", "/airlock/v1/reviews")).status, 401);
  assert.equal((await call("GET", "/ui/api/session")).status, 401);
  const forged = await call("GET", "/airlock/v1/reviews", {
    headers: { cookie: "__Host-airlock-session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" },
  });
  assert.equal(forged.status, 401);
  const agent = await call("GET", "/airlock/v1/reviews", {
    headers: { authorization: `Bearer ${agentToken}` },
  });
  assert.equal(agent.status, 403);
});

test("a cookie session reads the admin API; a state change needs the session's CSRF token", async () => {
  const { cookie, csrf } = await signIn(aliceToken);
  const read = await call("GET", "/airlock/v1/identities", { headers: { cookie } });
  assert.equal(read.status, 200, read.body);
  const create = (headers: Record<string, string>) =>
    call("POST", "/airlock/v1/identities", {
      headers: { cookie, ...headers },
      body: { name: `made-${Object.keys(headers).length}-${Date.now()}`, kind: "agent" },
    });
  const none = await create({});
  assert.equal(none.status, 403);
  assert.match(none.body, /CSRF token/);
  const wrong = await create({ "x-airlock-csrf": `${csrf.slice(0, -1)}x` });
  assert.equal(wrong.status, 403);
  const other = await signIn(aliceToken);
  const crossed = await create({ "x-airlock-csrf": other.csrf });
  assert.equal(crossed.status, 403, "another session's CSRF token does not count");
  const right = await create({ "x-airlock-csrf": csrf });
  assert.equal(right.status, 201, right.body);
});

test("a human without airlock:admins signed in to the console may read but not revoke", async () => {
  const { cookie, csrf } = await signIn(bobToken);
  assert.equal((await call("GET", "/airlock/v1/identities", { headers: { cookie } })).status, 200);
  const revoke = await call("POST", "/airlock/v1/identities/demo-agent/revoke", {
    headers: { cookie, "x-airlock-csrf": csrf },
    body: {},
  });
  assert.equal(revoke.status, 403);
  assert.match(revoke.body, /airlock:admins/);
});

test("signing out ends the session, and revoking the human ends it on the next request", async () => {
  const first = await signIn(aliceToken);
  const out = await call("POST", "/ui/api/logout", {
    headers: { cookie: first.cookie, "x-airlock-csrf": first.csrf },
  });
  assert.equal(out.status, 200);
  assert.match(String(out.headers["set-cookie"]), /Max-Age=0/);
  assert.equal(
    (await call("GET", "/airlock/v1/identities", { headers: { cookie: first.cookie } })).status,
    401,
  );

  const carol = await gw.addIdentity("carol", "human", ["sre"]);
  const session = await signIn(carol.token);
  assert.equal((await call("GET", "/ui/api/session", { headers: { cookie: session.cookie } })).status, 200);
  await gw.gateway.store.identities.revoke("carol");
  assert.equal(
    (await call("GET", "/airlock/v1/identities", { headers: { cookie: session.cookie } })).status,
    401,
  );
});

test("a bearer token still works and takes precedence over a cookie", async () => {
  const { cookie } = await signIn(aliceToken);
  const agentWithCookie = await call("GET", "/airlock/v1/reviews", {
    headers: { cookie, authorization: `Bearer ${agentToken}` },
  });
  assert.equal(agentWithCookie.status, 403, "the agent's bearer token decides, not alice's cookie");
  const bearer = await call("GET", "/airlock/v1/reviews", {
    headers: { authorization: `Bearer ${aliceToken}` },
  });
  assert.equal(bearer.status, 200);
});

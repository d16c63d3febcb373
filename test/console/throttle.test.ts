// Issue 15 §5: console sign-in and session-credential minting are throttled per source address (failed attempts) and
// per identity (sign-ins, mints), answered with a Status 429 and Retry-After, with one audit note per throttled key
// and window; after the window the same caller gets in again. Real HTTPS against a gateway with a 2 s window.
import assert from "node:assert/strict";
import { request } from "node:https";
import { after, before, describe, test } from "node:test";
import { startTestGateway, type TestGateway } from "../helpers/gateway.ts";

let gw: TestGateway;
let alice: string;
let agent: string;
const WINDOW = 2;

before(async () => {
  gw = await startTestGateway({
    identity: { throttle: { failuresPerSource: 3, attemptsPerIdentity: 3, windowSeconds: WINDOW } },
  });
  ({ token: alice } = await gw.addIdentity("alice", "human", ["sre"]));
  ({ token: agent } = await gw.addIdentity("minting-agent", "agent", ["agents"]));
});
after(async () => {
  await gw?.close();
});

/** POST JSON; returns code, Retry-After and the parsed body. */
function post(path: string, body: unknown, token?: string) {
  return new Promise<{ code: number; retryAfter: string | undefined; body: { message?: string } }>(
    (resolve, reject) => {
      const headers: Record<string, string> = { "content-type": "application/json" };
      if (token) headers.authorization = `Bearer ${token}`;
      const req = request(
        `${gw.gateway.url}${path}`,
        { method: "POST", headers, ca: gw.gateway.caPem },
        (res) => {
          let text = "";
          res.setEncoding("utf8").on("data", (d: string) => {
            text += d;
          });
          res.on("end", () =>
            resolve({
              code: res.statusCode ?? 0,
              retryAfter: res.headers["retry-after"] as string | undefined,
              body: text ? JSON.parse(text) : {},
            }),
          );
        },
      );
      req.on("error", reject);
      req.end(JSON.stringify(body));
    },
  );
}

async function throttleNotes(subject: string): Promise<string[]> {
  const records = await gw.gateway.store.audit.records({ afterSeq: 0, limit: 100_000 });
  return records.map((r) => r.body).filter((b) => b.includes("auth.throttled") && b.includes(subject));
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("sign-in and token minting are throttled", () => {
  test("console sign-in: 429 with Retry-After after 3 bad tokens from one address, even for a good token; one audit note; then it recovers", async () => {
    for (let i = 0; i < 3; i++) {
      const bad = await post("/ui/api/login", { token: `airlock_wrong${i}` });
      assert.equal(bad.code, 401);
    }
    for (const token of ["airlock_wrong-again", alice, "airlock_wrong-more"]) {
      const r = await post("/ui/api/login", { token });
      assert.equal(r.code, 429, JSON.stringify(r.body));
      assert.ok(Number(r.retryAfter) >= 1 && Number(r.retryAfter) <= WINDOW, `Retry-After ${r.retryAfter}`);
      assert.match(
        r.body.message ?? "",
        /console sign-in is throttled: at most 3 failed attempts from one address per 2s; retry in \ds/,
      );
    }
    await pause(200);
    const notes = await throttleNotes("console sign-in");
    assert.equal(notes.length, 1, "one note for the window, not one per attempt");
    assert.match(notes[0] ?? "", /"scope":"source"/);
    await pause(WINDOW * 1000 + 100);
    const ok = await post("/ui/api/login", { token: alice });
    assert.equal(ok.code, 200, JSON.stringify(ok.body));
  });

  test("session credentials: 429 after 3 mints by one identity, and after 3 bad tokens from one address; both recover", async () => {
    await pause(WINDOW * 1000); // a fresh window for this address
    for (let i = 0; i < 3; i++)
      assert.equal((await post("/airlock/v1/credentials/session", {}, agent)).code, 201);
    const fourth = await post("/airlock/v1/credentials/session", {}, agent);
    assert.equal(fourth.code, 429);
    assert.ok(fourth.retryAfter);
    assert.match(
      fourth.body.message ?? "",
      /minting a session credential is throttled: at most 3 attempts by one identity per 2s/,
    );
    await pause(100);
    const notes = await throttleNotes("session credential");
    assert.equal(notes.length, 1);
    assert.match(notes[0] ?? "", /"identity":"minting-agent"/);

    for (let i = 0; i < 3; i++)
      assert.equal((await post("/airlock/v1/credentials/session", {}, `airlock_bad${i}`)).code, 401);
    const guessed = await post("/airlock/v1/credentials/session", {}, "airlock_bad-again");
    assert.equal(guessed.code, 429);
    assert.match(guessed.body.message ?? "", /at most 3 failed attempts from one address/);

    await pause(WINDOW * 1000 + 100);
    assert.equal((await post("/airlock/v1/credentials/session", {}, agent)).code, 201, "recovered");
  });
});

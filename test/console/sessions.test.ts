// Console sign-in sessions and the static app lookup, as pure functions: cookie parsing, expiry, CSRF comparison,
// and which /ui/ paths get a file, the app, or nothing.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { test } from "node:test";
import {
  ConsoleSessions,
  cookieValue,
  csrfMatches,
  SESSION_COOKIE,
  sessionCookie,
} from "../../src/console/sessions.ts";
import { type ConsoleAssets, lookupAsset } from "../../src/console/static.ts";
import { openStore } from "../../src/store/index.ts";

test("the session cookie is read from a Cookie header; a duplicated one is refused", () => {
  const cases: [string | undefined, string | undefined][] = [
    [undefined, undefined],
    ["", undefined],
    [`${SESSION_COOKIE}=abc`, "abc"],
    [`other=1; ${SESSION_COOKIE}=abc; x=2`, "abc"],
    [`${SESSION_COOKIE}=abc; ${SESSION_COOKIE}=planted`, undefined],
    [`x${SESSION_COOKIE}=abc`, undefined],
  ];
  for (const [header, want] of cases) assert.equal(cookieValue(header, SESSION_COOKIE), want, String(header));
});

test("the Set-Cookie value is host-only, HttpOnly, Secure and SameSite=Strict", () => {
  const set = sessionCookie("v", 60);
  assert.equal(set, `${SESSION_COOKIE}=v; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=60`);
  assert.ok(SESSION_COOKIE.startsWith("__Host-"));
});

test("sessions end after the idle or absolute lifetime, on close, and the oldest goes first when full", async () => {
  let now = 0;
  const store = await openStore({ kind: "sqlite", path: ":memory:" });
  const sessions = new ConsoleSessions(store, { idleMs: 100, absoluteMs: 250, maxSessions: 2 }, () => now);
  const a = await sessions.open("cred-a", "alice");
  assert.equal((await sessions.find(a.cookie))?.identityName, "alice");
  now = 90;
  assert.ok(await sessions.find(a.cookie), "used within the idle time");
  now = 180;
  assert.ok(await sessions.find(a.cookie), "idle time counts from the last use");
  now = 260;
  assert.equal(await sessions.find(a.cookie), undefined, "absolute lifetime reached");
  const b = await sessions.open("cred-b", "bob");
  now = 400;
  assert.equal(await sessions.find(b.cookie), undefined, "idle too long");
  const c = await sessions.open("cred-c", "carol");
  now = 401;
  const d = await sessions.open("cred-d", "dave");
  now = 402;
  const e = await sessions.open("cred-e", "erin");
  assert.equal(await sessions.find(c.cookie), undefined, "evicted as the oldest");
  assert.ok((await sessions.find(d.cookie)) && (await sessions.find(e.cookie)));
  await sessions.close(d.cookie);
  assert.equal(await sessions.find(d.cookie), undefined);
  await sessions.closeCredential("cred-e");
  assert.equal(await sessions.find(e.cookie), undefined);
  assert.equal(await sessions.find("x".repeat(500)), undefined);
  await store.close();
});

test("the store keeps only the cookie's SHA-256, and a session outlives the object that opened it", async () => {
  const store = await openStore({ kind: "sqlite", path: ":memory:" });
  const opened = await new ConsoleSessions(store).open("cred-a", "alice");
  const digest = createHash("sha256").update(opened.cookie).digest("hex");
  assert.equal((await store.consoleSessions.get(digest))?.identityName, "alice");
  assert.equal(await store.consoleSessions.get(opened.cookie), undefined);
  // Another replica or a restarted gateway: a new ConsoleSessions over the same store.
  const again = await new ConsoleSessions(store).find(opened.cookie);
  assert.equal(again?.csrfToken, opened.session.csrfToken);
  await store.close();
});

test("each session has its own random CSRF token, compared exactly", async () => {
  const store = await openStore({ kind: "sqlite", path: ":memory:" });
  const sessions = new ConsoleSessions(store);
  const a = (await sessions.open("c", "alice")).session.csrfToken;
  const b = (await sessions.open("c", "alice")).session.csrfToken;
  await store.close();
  assert.notEqual(a, b);
  assert.equal(csrfMatches(a, a), true);
  assert.equal(csrfMatches(a, b), false);
  assert.equal(csrfMatches(a, undefined), false);
  assert.equal(csrfMatches(a, ""), false);
  assert.equal(csrfMatches(a, `${a}x`), false);
});

test("a /ui/ path gets a built file, the app, or 404; without a build the console says so", () => {
  const asset = (body: string) => ({ body: Buffer.from(body), type: "text/plain", immutable: false });
  const index = asset("<html>");
  const assets: ConsoleAssets = {
    files: new Map([
      ["index.html", index],
      ["assets/app-1.js", asset("js")],
    ]),
    index,
  };
  const kind = (rest: string) => lookupAsset(assets, rest).kind;
  assert.equal(kind("assets/app-1.js"), "asset");
  assert.equal(kind(""), "app");
  assert.equal(kind("reviews/0b6f3c1e-2f0a-4c55-9a4e-0c6b1d2e3f40"), "app");
  assert.equal(kind("sessions/"), "app");
  assert.equal(kind("index.html"), "app");
  assert.equal(kind("assets/app-0.js"), "notFound", "a stale hashed file is not answered with the app");
  for (const bad of ["../package.json", "reviews/../x", "a//b", "%2e%2e/x", "a\\b", ".env", "x?y"]) {
    assert.equal(kind(bad), "notFound", bad);
  }
  assert.equal(lookupAsset({ files: new Map(), index: undefined }, "").kind, "notBuilt");
});

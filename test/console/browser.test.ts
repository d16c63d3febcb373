// The console in a real browser (Debian's Chromium via playwright-core) against a demo-like gateway: the simulator,
// the demo policy, identities demo-agent and alice. Alice signs in, replays the agent's exec session, denies one held
// kubectl delete (the agent's kubectl prints her reason) and approves another (the waiting kubectl finishes), and
// revokes the agent (its next kubectl request fails). Screenshots of the main pages are saved (see SHOTS).
//
// The tests run in order on one gateway and one browser page.
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import type { Page } from "playwright-core";
import { execKubeconfig } from "../helpers/exec-kubeconfig.ts";
import { callGateway, startTestGateway, type TestGateway } from "../helpers/gateway.ts";
import { kubectl, spawnKubectl } from "../helpers/kubectl.ts";
import { ensureConsoleBuilt, launchBrowser, type TestBrowser } from "./support.ts";

const DEMO = fileURLToPath(new URL("../../examples/policies/demo.yaml", import.meta.url));
// Screenshots go to a temporary folder; to refresh the ones docs/console.md shows, run with
// AIRLOCK_CONSOLE_SCREENSHOTS=docs/console (so an ordinary test run leaves the work tree alone).
const SHOTS = `${resolve(process.env.AIRLOCK_CONSOLE_SCREENSHOTS ?? join(tmpdir(), "airlock-console-screenshots"))}/`;

let gw: TestGateway;
let agent: string;
let agentExec: string;
let aliceToken: string;
let browser: TestBrowser;
let page: Page;

before(async () => {
  await ensureConsoleBuilt();
  gw = await startTestGateway({ policyFiles: [DEMO] });
  const demoAgent = await gw.addIdentity("demo-agent", "agent", ["agents"]);
  agent = demoAgent.kubeconfig;
  // Prod writes need a justification under the demo policy: given per command (AIRLOCK_REASON) via the exec plugin.
  agentExec = await execKubeconfig(gw, "demo-agent-exec", { name: "demo-agent", token: demoAgent.token });
  aliceToken = (await gw.addIdentity("alice", "human", ["sre", "airlock:admins"])).token;
  browser = await launchBrowser();
  page = await browser.context.newPage();
  page.setDefaultTimeout(15_000);
  await mkdir(SHOTS, { recursive: true });
});
after(async () => {
  await browser?.close();
  await gw?.close();
});

const ui = (path: string) => `${gw.gateway.url}/ui${path}`;
const go = (section: string) =>
  page.getByRole("navigation", { name: "Sections" }).getByRole("link", { name: section }).click();
const shot = (name: string) => page.screenshot({ path: `${SHOTS}${name}.png` });

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function collect(child: ChildProcess): Promise<Run> {
  let stdout = "";
  let stderr = "";
  child.stdout?.setEncoding("utf8").on("data", (d: string) => {
    stdout += d;
  });
  child.stderr?.setEncoding("utf8").on("data", (d: string) => {
    stderr += d;
  });
  return new Promise((resolve) => child.on("close", (code) => resolve({ code, stdout, stderr })));
}

/** Resolves with the run, or with undefined when it is still running after `ms`. */
function settledWithin(run: Promise<Run>, ms: number): Promise<Run | undefined> {
  return Promise.race([run, new Promise<undefined>((r) => setTimeout(() => r(undefined), ms))]);
}

test("alice signs in with her token and lands in the reviews inbox", async () => {
  await page.goto(ui("/"));
  await page.getByLabel("Token").fill(aliceToken);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "Reviews" }).waitFor();
  await page.getByText("Nothing is waiting for a review.").waitFor();
  const cookies = await browser.context.cookies();
  const session = cookies.find((c) => c.name === "__Host-airlock-session");
  assert.ok(session, "the session cookie is set");
  assert.equal(session.httpOnly, true);
  assert.equal(session.secure, true);
  assert.equal(session.sameSite, "Strict");
  assert.equal(await page.evaluate("document.cookie"), "", "scripts cannot read the cookie");
});

test("the agent's exec session is listed and its recording replays the typed command", async () => {
  const pods = await kubectl(agent, ["get", "pods", "-n", "prod", "-l", "app=web", "-o", "name"]);
  const pod = pods.stdout.trim().split("\n")[0]?.replace("pod/", "");
  assert.ok(pod, pods.stderr);
  const exec = await kubectl(agent, ["exec", "-i", "-n", "prod", pod, "--", "sh"], {
    input: "echo typed-by-the-agent\nexit\n",
  });
  assert.equal(exec.code, 0, exec.stderr);
  assert.match(exec.stdout, /typed-by-the-agent/);

  await go("Sessions");
  await page.getByRole("heading", { name: "Sessions" }).waitFor();
  await page.getByLabel("has exec").check();
  await page.getByRole("button", { name: "Filter" }).click();
  const row = page.locator("tr[data-session]", { hasText: "kubectl exec" }).first();
  await row.waitFor();
  await shot("sessions");
  await row.getByRole("link").click();
  await page.getByRole("heading", { name: /Session of demo-agent/ }).waitFor();
  await page.getByRole("button", { name: "Replay" }).first().click();
  const terminal = page.getByTestId("terminal");
  await terminal.waitFor();
  await page.getByLabel("Speed").selectOption("8");
  await page.getByRole("button", { name: "Play" }).click();
  await page.getByTestId("terminal").getByText("typed-by-the-agent").waitFor();
  await page.getByTestId("typed").getByText("echo typed-by-the-agent").waitFor();
  // Seeking back to the start empties the screen again.
  await page.getByLabel("Seek").fill("0");
  assert.doesNotMatch((await terminal.textContent()) ?? "", /typed-by-the-agent/);
  await page.getByLabel("Seek").fill("1000");
  await page.getByTestId("terminal").getByText("typed-by-the-agent").waitFor();
  await shot("session-replay");
});

test("a denied review: the agent's waiting kubectl prints alice's reason", async () => {
  await go("Reviews");
  const run = collect(
    spawnKubectl(agentExec, ["delete", "configmap", "web-config", "-n", "prod"], {
      AIRLOCK_REASON: "CHG-3: drop the old web config",
    }),
  );
  const row = page.locator("tr[data-review]", { hasText: "delete configmaps web-config" });
  await row.waitFor();
  await row.getByRole("link").click();
  await page.getByText("Requested by").waitFor();
  await page.getByLabel("Reason (the requester sees it)").fill("not during the change freeze");
  await page.getByRole("button", { name: "Deny" }).click();
  await page.getByTestId("review-state").getByText("denied").waitFor();
  const result = await settledWithin(run, 10_000);
  assert.ok(result, "kubectl finished once the review was denied");
  assert.notEqual(result.code, 0);
  assert.match(result.stderr, /denied in review .* by alice: not during the change freeze/);
});

test("an approved review: alice sees the held delete with its diff, approves, and the waiting kubectl finishes", async () => {
  await go("Reviews");
  const why = "INC-42: web is crash-looping after the release";
  const run = collect(
    spawnKubectl(agentExec, ["delete", "deployment", "web", "-n", "prod"], { AIRLOCK_REASON: why }),
  );
  const row = page.locator("tr[data-review]", { hasText: "delete deployments web" });
  await row.waitFor();
  await row.getByText("demo-agent").waitFor();
  await row.getByText("demo/prod-writes-need-review").waitFor();
  await shot("reviews-inbox");
  await row.getByRole("link").click();
  // The dry-run preview lands in the background; the page keeps polling until it shows.
  const diff = page.getByRole("table", { name: /Dry-run diff/ });
  await diff.waitFor();
  await diff.locator("td.removed", { hasText: "kind: Deployment" }).first().waitFor();
  await page
    .getByText(/ReplicaSet prod\/web-/)
    .first()
    .waitFor();
  assert.equal(await settledWithin(run, 0), undefined, "kubectl is still waiting");
  await page.getByTestId("justification").getByText(why).waitFor();
  await shot("review");
  await page.getByLabel("Also allow the same kind of request for").selectOption("");
  await page.getByRole("button", { name: "Approve" }).click();
  const result = await settledWithin(run, 15_000);
  assert.ok(result, "kubectl finished once the review was approved");
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /deployment.apps "web" deleted/);
  await page
    .getByTestId("review-state")
    .getByText(/approved|executed/)
    .waitFor();
});

test("the audit page finds the agent's denied request, shows its detail and a verified chain", async () => {
  await go("Audit");
  await page
    .getByTestId("chain-status")
    .getByText(/Chain verified/)
    .waitFor();
  await page.getByLabel("Identity").fill("demo-agent");
  await page.getByLabel("Verb").fill("delete");
  await page.getByRole("button", { name: "Search" }).click();
  const entry = page.getByRole("button", { name: /delete deployments web/ }).first();
  await entry.waitFor();
  await entry.click();
  await page
    .getByRole("complementary", { name: "Audit event" })
    .locator("dd", { hasText: "prod-writes-need-review" })
    .waitFor();
  await shot("audit");
});

test("the policies page shows the demo policy and answers a what-if", async () => {
  await go("Policies");
  await page.getByRole("heading", { name: "demo", exact: true }).waitFor();
  await page.getByLabel("Exec command").fill("rm -rf /");
  await page.getByLabel("Verb").fill("exec");
  await page.getByLabel("Resource").fill("pods");
  await page.getByLabel("API group").fill("");
  await page.getByRole("button", { name: "Evaluate" }).click();
  await page
    .getByRole("status")
    .getByText(/deny.*no-destructive-commands/)
    .waitFor();
  await shot("policies");
});

test("the identities page lists alice's delegation to the agent, and revoking it there ends it", async () => {
  const given = await callGateway(gw, "POST", "/airlock/v1/identities/alice/delegations", aliceToken, {
    to: "demo-agent",
    for: "1h",
  });
  assert.equal(given.code, 201, JSON.stringify(given.body));
  await go("Identities");
  const row = page.locator(`tr[data-delegation='${given.body.id}']`);
  await row.waitFor();
  await row.getByText("active").waitFor();
  await row.getByRole("button", { name: "Revoke" }).click();
  await row.getByText("revoked by alice").waitFor();
  const listed = await callGateway(gw, "GET", "/airlock/v1/delegations?agent=demo-agent", aliceToken);
  assert.equal(listed.body.items[0].revokedBy, "alice");
});

test("revoking the agent in the identities page makes its next kubectl request fail", async () => {
  const before = await kubectl(agent, ["get", "pods", "-n", "prod"]);
  assert.equal(before.code, 0, before.stderr);
  await go("Identities");
  const row = page.locator("tr[data-identity='demo-agent']");
  await row.waitFor();
  await row.getByRole("button", { name: "Revoke" }).click();
  await row.getByRole("button", { name: "Confirm revoke demo-agent" }).click();
  await row.getByText("revoked").waitFor();
  await page.getByLabel("New identity name").fill("ci-bot");
  await page.getByRole("button", { name: "Create" }).click();
  const token = await page.getByTestId("new-token").textContent();
  assert.match(token ?? "", /^\S{20,}$/, "the new token is shown once");
  await page.locator("tr[data-identity='ci-bot']").waitFor();
  await shot("identities");
  const afterRevoke = await kubectl(agent, ["get", "pods", "-n", "prod"]);
  assert.notEqual(afterRevoke.code, 0);
  assert.match(afterRevoke.stderr, /Unauthorized|must be logged in/);
});

test("the console cannot be used with an agent's token or after signing out", async () => {
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.getByLabel("Token").waitFor();
  const status = await page.evaluate(async () => (await fetch("/airlock/v1/reviews")).status);
  assert.equal(status, 401);
});

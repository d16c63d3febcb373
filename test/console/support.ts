// Browser-test support: Debian's Chromium driven by playwright-core (no browser download), a fresh profile per run,
// and flags that keep it off the network (the machine has none; without them Chromium tries to reach Google).
// Also a tiny HTTPS client that trusts the gateway's CA, for the cookie/CSRF checks below the browser.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Browser, type BrowserContext, chromium } from "playwright-core";

export const CHROMIUM = "/usr/bin/chromium";
const ROOT = fileURLToPath(new URL("../../", import.meta.url));

export const CHROMIUM_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** Builds the console when there is no build (npm test builds it in pretest; a lone test run may not have). */
export async function ensureConsoleBuilt(): Promise<void> {
  if (existsSync(join(ROOT, "console/dist/index.html"))) return;
  const code = await new Promise<number | null>((resolve) => {
    const child = spawn(process.execPath, [join(ROOT, "node_modules/vite/bin/vite.js"), "build", "console"], {
      cwd: ROOT,
      stdio: "ignore",
    });
    child.on("close", resolve);
  });
  if (code !== 0) throw new Error("vite build console failed");
}

export interface TestBrowser {
  browser: Browser;
  context: BrowserContext;
  close(): Promise<void>;
}

export async function launchBrowser(): Promise<TestBrowser> {
  const profile = await mkdtemp(join(tmpdir(), "airlock-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_FLAGS,
    // The gateway's certificate is signed by its own CA, which this fresh profile does not know.
    ignoreHTTPSErrors: true,
    viewport: { width: 1280, height: 800 },
    timezoneId: "Europe/Berlin",
    locale: "en-GB",
  });
  const browser = context.browser() as Browser;
  return {
    browser,
    context,
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

export interface HttpAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One HTTPS request to the gateway, trusting its CA. */
export function https(
  base: string,
  caPem: string,
  method: string,
  path: string,
  opts: { headers?: Record<string, string>; body?: unknown } = {},
): Promise<HttpAnswer> {
  const text = opts.body === undefined ? undefined : JSON.stringify(opts.body);
  return new Promise((resolve, reject) => {
    const req = request(
      new URL(path, base),
      {
        method,
        ca: caPem,
        headers: {
          ...(text !== undefined ? { "content-type": "application/json" } : {}),
          ...opts.headers,
        },
      },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => {
          body += c;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on("error", reject);
    req.end(text);
  });
}

/** The cookie pair ("name=value") from a Set-Cookie answer. */
export function cookieFrom(answer: HttpAnswer): string {
  const set = answer.headers["set-cookie"];
  const first = Array.isArray(set) ? set[0] : set;
  if (!first) throw new Error(`no Set-Cookie in the answer (${answer.status} ${answer.body})`);
  return first.split(";")[0] ?? "";
}

// The console's built assets (console/dist, made by `npm run build:console`), held in memory and served under /ui/.
//
// Security stance: only files found in the build at start-up are served, looked up by exact name, so no request path
// can reach the disk; every other clean /ui/ path gets index.html (the app routes in the browser, so links such as
// /ui/reviews/<id> from webhooks work). A strict Content-Security-Policy allows only the gateway's own scripts, styles
// and API; framing is refused. Without a build the console answers 503 saying how to build it.
import { readdir, readFile } from "node:fs/promises";
import { extname, join, relative, sep } from "node:path";

export const UI_PREFIX = "/ui/";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".json": "application/json",
  ".txt": "text/plain; charset=utf-8",
  ".woff2": "font/woff2",
};

export const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  "content-security-policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
    "font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin",
});

export interface Asset {
  body: Buffer;
  type: string;
  /** Vite names files under assets/ by content hash, so they may be cached for good. */
  immutable: boolean;
}

export interface ConsoleAssets {
  /** Files by their path below /ui/ (e.g. "assets/index-3f2a.js"). */
  files: Map<string, Asset>;
  index: Asset | undefined;
}

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await walk(full)));
    else if (entry.isFile()) out.push(full);
  }
  return out;
}

export async function loadAssets(distDir: string): Promise<ConsoleAssets> {
  const files = new Map<string, Asset>();
  let paths: string[];
  try {
    paths = await walk(distDir);
  } catch {
    return { files, index: undefined };
  }
  for (const full of paths) {
    const rel = relative(distDir, full).split(sep).join("/");
    files.set(rel, {
      body: await readFile(full),
      type: TYPES[extname(full)] ?? "application/octet-stream",
      immutable: rel.startsWith("assets/"),
    });
  }
  return { files, index: files.get("index.html") };
}

/** A client-side route: letters, digits and - _ . / only, no empty or dot segments. */
const APP_ROUTE = /^(?:[A-Za-z0-9_-][A-Za-z0-9_.-]*(?:\/[A-Za-z0-9_-][A-Za-z0-9_.-]*)*)?\/?$/;

export type AssetLookup =
  | { kind: "asset"; asset: Asset }
  | { kind: "app"; asset: Asset }
  | { kind: "notBuilt" }
  | { kind: "notFound" };

/** What to answer for a path below /ui/ (`rest` is the part after the prefix, undecoded). */
export function lookupAsset(assets: ConsoleAssets, rest: string): AssetLookup {
  if (!assets.index) return { kind: "notBuilt" };
  const file = assets.files.get(rest);
  if (file && rest !== "index.html") return { kind: "asset", asset: file };
  // A missing hashed file is a stale page after a rebuild: 404, not the app (which would run as the wrong script).
  if (rest.startsWith("assets/") || !APP_ROUTE.test(rest)) return { kind: "notFound" };
  return { kind: "app", asset: assets.index };
}

// The image, without a container builder: the Dockerfile's stages are performed step by step, AS WRITTEN, in temp
// folders standing in for each stage's root. The build stage: its COPY lines copy from this checkout (honouring
// .dockerignore), its `npm ci` (dev dependencies) is the one step replaced — by this checkout's own dev install,
// linked, since installing 500 packages again would take minutes — and its other RUN lines (the console's vite
// build) run as written, so a file the build needs but no COPY brings fails here. The runtime stage: COPY from the
// checkout, `COPY --from=build` from the build stage's folder, RUN through sh (npm ci --omit=dev reads only the
// machine's npm cache: npm_config_offline), ENV applied — and then its ENTRYPOINT runs `serve` on the pinned Node
// binary and /readyz must answer. So a runtime dependency kept in devDependencies, a source folder missing from a
// COPY line, or a step the test does not know fails here, on any machine. Nothing is duplicated from the Dockerfile.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import {
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { eventuallyMatches } from "../helpers/eventually.ts";
import { envOf, execForm, type Instruction, parseDockerfile, type Stage } from "./dockerfile.ts";

const REPO = fileURLToPath(new URL("../../", import.meta.url));
const PINNED_NODE = join(REPO, "node_modules/node/bin/node");
const pkg = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
const stages = parseDockerfile(readFileSync(join(REPO, "Dockerfile"), "utf8"));
const runtime = stages.at(-1) as Stage;
const build = stages.find((s) => s.name === "build");

/** .dockerignore as Docker reads the simple patterns used here: `**\/x` is x at any depth, `x` a path and below. */
const ignored = readFileSync(join(REPO, ".dockerignore"), "utf8")
  .split("\n")
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith("#"));
function isIgnored(rel: string): boolean {
  const parts = rel.split("/");
  return ignored.some((p) =>
    p.startsWith("**/")
      ? parts.includes(p.slice(3))
      : rel === p || rel.startsWith(`${p}/`) || (p.startsWith("**") && rel.endsWith(p.slice(2))),
  );
}

interface Image {
  root: string;
  workdir: string;
  env: Record<string, string>;
  user: string;
  entrypoint: string[];
  cmd: string[];
  ran: string[];
}

let tmp: string;
let image: Image;
let built: Image;
const inImage = (root: string, p: string, workdir: string) =>
  join(root, p.startsWith("/") ? p : join(workdir, p));

function copy(img: Image, ins: Instruction): void {
  const args = ins.rest.split(/\s+/);
  const dest = args.pop() as string;
  for (const src of args) {
    let from: string;
    if (ins.flags.from !== undefined) {
      // The build stage's files, as the build stage left them in its own folder.
      assert.equal(ins.flags.from, build?.name, `line ${ins.line}: COPY --from names an unknown stage`);
      from = inImage(built.root, src, built.workdir);
      assert.ok(existsSync(from), `line ${ins.line}: the build stage did not produce ${src}`);
    } else {
      assert.ok(
        !src.startsWith("/") && !src.includes(".."),
        `line ${ins.line}: COPY reads the build context only`,
      );
      const rel = src.replace(/\/$/, "");
      assert.ok(
        !isIgnored(rel),
        `line ${ins.line}: ${src} is excluded by .dockerignore, so a real build lacks it`,
      );
      from = join(REPO, src);
      assert.ok(existsSync(from), `line ${ins.line}: ${src} does not exist in the build context`);
    }
    const target = inImage(img.root, dest, img.workdir);
    const isDir = lstatSync(from).isDirectory();
    const to = isDir || !dest.endsWith("/") ? target : join(target, src.split("/").pop() as string);
    mkdirSync(isDir ? to : dirname(to), { recursive: true });
    cpSync(from, to, {
      recursive: true,
      filter: (p) => ins.flags.from !== undefined || !isIgnored(relative(REPO, p)),
    });
  }
}

/** The build stage's dev install: this checkout's node_modules (the same lock file), linked instead of reinstalled. */
function linkDevInstall(stage: Stage, img: Image, ins: Instruction): boolean {
  if (stage === runtime || !/\bnpm ci\b/.test(ins.rest) || /--omit=dev/.test(ins.rest)) return false;
  symlinkSync(join(REPO, "node_modules"), inImage(img.root, "node_modules", img.workdir), "dir");
  img.ran.push(`(linked this checkout's dev install for: ${ins.rest})`);
  return true;
}

function perform(stage: Stage, root: string): Image {
  const img: Image = { root, workdir: "/", env: {}, user: "0", entrypoint: [], cmd: [], ran: [] };
  for (const ins of stage.instructions) {
    switch (ins.op) {
      case "ENV":
        Object.assign(img.env, envOf(ins));
        break;
      case "WORKDIR":
        img.workdir = ins.rest;
        mkdirSync(inImage(root, ins.rest, "/"), { recursive: true });
        break;
      case "COPY":
        copy(img, ins);
        break;
      case "RUN": {
        if (linkDevInstall(stage, img, ins)) break;
        // A cache mount of the npm cache is the machine's own npm cache here; offline, so nothing is downloaded.
        const r = spawnSync("sh", ["-c", ins.rest], {
          cwd: inImage(root, img.workdir, "/"),
          env: {
            // The machine's npm settings (a custom cache location in CI) carry over; nothing else of its env does.
            ...Object.fromEntries(
              Object.entries(process.env).filter(([k]) => k.toLowerCase().startsWith("npm_config_")),
            ),
            PATH: `${dirname(PINNED_NODE)}:${process.env.PATH}`,
            HOME: process.env.HOME,
            npm_config_offline: "true",
            NO_COLOR: "1",
            npm_config_update_notifier: "false",
            ...img.env,
          },
          encoding: "utf8",
          timeout: 180_000,
        });
        assert.equal(r.status, 0, `line ${ins.line}: RUN ${ins.rest} failed:\n${r.stdout}\n${r.stderr}`);
        img.ran.push(ins.rest);
        break;
      }
      case "USER":
        img.user = ins.rest;
        break;
      case "ENTRYPOINT":
        img.entrypoint = execForm(ins);
        break;
      case "CMD":
        img.cmd = execForm(ins);
        break;
      case "EXPOSE":
        break;
      default:
        assert.fail(`line ${ins.line}: the packaging test does not know how to perform ${ins.op}; teach it`);
    }
  }
  return img;
}

/** Every file under `dir` with its size and modification time: what a read-only root filesystem must keep. */
function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      const st = lstatSync(p);
      out.set(relative(dir, p), `${st.size}:${st.mtimeMs}`);
      if (e.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out;
}

function get(url: string, ca: string): Promise<{ code: number; body: string }> {
  return new Promise((resolve, reject) => {
    request(url, { ca, agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8").on("data", (d: string) => {
        body += d;
      });
      res.on("end", () => resolve({ code: res.statusCode ?? 0, body }));
    })
      .on("error", reject)
      .end();
  });
}

before(() => {
  tmp = mkdtempSync(join(tmpdir(), "airlock-image-"));
  built = perform(build as Stage, join(tmp, "build"));
  image = perform(runtime, join(tmp, "root"));
});

after(() => {
  rmSync(tmp, { recursive: true, force: true });
});

test("both stages build on the official Node slim image of the Node version pinned in package.json", () => {
  assert.equal(runtime.name, "runtime");
  assert.ok(build, "a build stage named build makes the console");
  for (const s of stages) {
    assert.match(
      s.image,
      /^node:[0-9.]+-[a-z]+-slim$/,
      `${s.name}: an official node:<version>-<debian>-slim image`,
    );
    assert.equal(
      s.image.split(":")[1]?.split("-")[0],
      pkg.devDependencies.node,
      `${s.name}: Node ${pkg.devDependencies.node}`,
    );
  }
});

test("the runtime stage installs production dependencies only, from the lock file", () => {
  assert.ok(
    image.ran.some((r) => /\bnpm ci\b.*--omit=dev\b/.test(r)),
    `the runtime stage runs npm ci --omit=dev (ran: ${image.ran.join(" | ")})`,
  );
  const modules = join(image.root, image.workdir, "node_modules");
  for (const dep of Object.keys(pkg.dependencies))
    assert.ok(existsSync(join(modules, dep)), `${dep} is installed`);
  for (const dev of ["vite", "typescript", "@biomejs/biome", "node", "fast-check", "react"]) {
    assert.ok(!existsSync(join(modules, dev)), `dev dependency ${dev} is not in the runtime image`);
  }
  assert.equal(image.env.NODE_ENV, "production");
});

test("it runs as a numeric non-root user, with airlock as the entrypoint and serve as the default command", () => {
  const [uid, gid] = image.user.split(":");
  assert.match(uid ?? "", /^[1-9][0-9]*$/, "USER is a numeric uid (runAsNonRoot can check it), not root");
  assert.match(gid ?? "", /^[1-9][0-9]*$/, "and a numeric non-root gid");
  assert.deepEqual(image.entrypoint, ["node", "bin/airlock.ts"]);
  assert.equal(image.cmd[0], "serve");
});

test("every package the gateway's sources import resolves and loads in the runtime image", () => {
  const specs = new Set<string>();
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (p.endsWith(".ts")) {
        const text = readFileSync(p, "utf8");
        for (const m of text.matchAll(/^\s*(?:import|export)\s+(?!type\s)[^;]*?\bfrom\s+"([^"]+)"/gms))
          specs.add(m[1] ?? "");
        for (const m of text.matchAll(/\bimport\(\s*"([^"]+)"\s*\)/g)) specs.add(m[1] ?? "");
      }
    }
  };
  walk(join(image.root, image.workdir, "src"));
  const bare = [...specs].filter((s) => !s.startsWith(".") && !s.startsWith("node:"));
  assert.ok(
    bare.includes("zod") && bare.includes("@airlock/sim"),
    `the scan finds the imports (${bare.join(", ")})`,
  );
  const r = spawnSync(
    PINNED_NODE,
    ["--input-type=module", "-e", `for (const s of ${JSON.stringify(bare)}) await import(s);`],
    { cwd: join(image.root, image.workdir), env: { PATH: process.env.PATH, ...image.env }, encoding: "utf8" },
  );
  assert.equal(r.status, 0, `a package imported by src/ is missing from the runtime image:\n${r.stderr}`);
});

test("serve starts from the image's files on the pinned Node, /readyz and the console answer, and nothing outside the data directory is written", async () => {
  const dataDir = join(tmp, "data");
  const config = join(tmp, "airlock.yaml");
  writeFileSync(
    config,
    [
      "listen: { address: 127.0.0.1, port: 0 }",
      `dataDir: ${dataDir}`,
      "clusters:",
      "  - { name: prod, server: https://127.0.0.1:9, token: not-a-real-token }",
      "policy: { builtin: deny-all }",
      "",
    ].join("\n"),
  );
  const app = join(image.root, image.workdir);
  // The image user's HOME (/home/node in the official image) is part of the read-only root too: watched like /app.
  const home = join(image.root, "home/node");
  mkdirSync(home, { recursive: true });
  const before = snapshot(image.root);
  const [cmd, ...args] = image.entrypoint;
  assert.equal(cmd, "node");
  const child = spawn(PINNED_NODE, [...args, image.cmd[0] as string, "--config", config], {
    cwd: app,
    env: { PATH: process.env.PATH, HOME: home, TMPDIR: join(tmp, "tmp"), ...image.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  mkdirSync(join(tmp, "tmp"), { recursive: true });
  let out = "";
  for (const s of [child.stdout, child.stderr]) {
    s.setEncoding("utf8").on("data", (d: string) => {
      out += d;
    });
  }
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  let ready = false;
  // Fails the start only while not ready: the exit after SIGTERM below is expected.
  const exitedEarly = exited.then((code) => {
    if (!ready) throw new Error(`serve exited (${code}) before it was ready:\n${out}`);
  });
  exitedEarly.catch(() => {}); // reported by the race below
  try {
    await Promise.race([eventuallyMatches(() => out, /airlock: ready/, 30_000), exitedEarly]);
    ready = true;
    const url = /gateway listening on (\S+)/.exec(out)?.[1] as string;
    const ca = readFileSync(join(dataDir, "tls/ca.crt"), "utf8");
    assert.deepEqual(await get(`${url}/readyz`, ca), { code: 200, body: "ok" });
    const ui = await get(`${url}/ui/`, ca);
    assert.equal(ui.code, 200, "the console copied from the build stage is served");
    assert.match(ui.body, /<script type="module"[^>]*src="\/ui\/assets\//);
  } finally {
    child.kill("SIGTERM");
  }
  assert.equal(await exited, 0, `serve exits 0 on SIGTERM:\n${out}`);
  const after = snapshot(image.root);
  const changed = [...new Set([...before.keys(), ...after.keys()])].filter(
    (p) => before.get(p) !== after.get(p),
  );
  assert.deepEqual(
    changed,
    [],
    "serve wrote nothing outside its data directory and TMPDIR (read-only root filesystem)",
  );
});

test("the same image runs `airlock agent` (the tunnel agent) and the other commands", () => {
  const app = join(image.root, image.workdir);
  const [, ...args] = image.entrypoint;
  for (const command of [["agent", "--help"], ["check-isolation", "--help"], ["--help"]]) {
    const r = spawnSync(PINNED_NODE, [...args, ...command], {
      cwd: app,
      env: { PATH: process.env.PATH, HOME: join(tmp, "home"), ...image.env },
      encoding: "utf8",
    });
    assert.equal(r.status, 0, `${command.join(" ")}: ${r.stderr}`);
  }
  const agent = spawnSync(PINNED_NODE, [...args, "agent", "--help"], { cwd: app, encoding: "utf8" });
  assert.match(agent.stdout, /--gateway URL.*\n.*--cluster NAME.*\n.*--join-token-file FILE/s);
});

// The simulator is its own package (packages/sim, "@airlock/sim") so that it checks the gateway instead of sharing
// its code: every import in the package stays inside it or names a Node built-in or one of the package's own
// dependencies; files it reads at run time lie inside it; and the gateway loads it only for `airlock sim` and
// `airlock demo`, by package name.
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { dirname, join, relative, resolve, sep } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const PKG = join(ROOT, "packages/sim");

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return e.name === "node_modules" ? [] : sources(path);
    return /\.(ts|tsx|js|mjs|cjs)$/.test(e.name) ? [path] : [];
  });
}

/** Every module specifier in a source file: static imports and re-exports, side-effect imports, import(), require(). */
function specifiers(text: string): string[] {
  const found: string[] = [];
  const patterns = [
    /^\s*(?:import|export)\b[^;"'`()]*?\bfrom\s*["']([^"']+)["']/gm,
    /^\s*import\s*["']([^"']+)["']/gm,
    /\bimport\s*\(\s*["'`]([^"'`]+)["'`]\s*\)/g,
    /\brequire\s*\(\s*["'`]([^"'`]+)["'`]\s*\)/g,
  ];
  for (const re of patterns) for (const m of text.matchAll(re)) found.push(m[1] as string);
  return found;
}

const inside = (path: string, dir: string) => path === dir || path.startsWith(dir + sep);

describe("the simulator package stands alone", () => {
  const pkg = JSON.parse(readFileSync(join(PKG, "package.json"), "utf8"));
  const files = sources(PKG);
  const allowedBare = new Set(Object.keys(pkg.dependencies ?? {}));

  test("the scan sees the package (imports of every kind are found)", () => {
    assert.ok(files.length > 90, `only ${files.length} files under packages/sim`);
    assert.deepEqual(
      specifiers(
        'import a from "x";\nexport { b } from "./y.ts";\nimport "z";\nconst c = await import("w");\n',
      ),
      ["x", "./y.ts", "z", "w"],
    );
    assert.deepEqual(
      specifiers('import {\n  a,\n  type B,\n} from "../x.ts";\nexport const t = { d: "from \'u\'" };'),
      ["../x.ts"],
    );
    assert.ok(files.every((f) => inside(f, PKG)));
  });

  test("no file in packages/sim imports anything outside it but Node built-ins and its declared dependencies", () => {
    const outside: string[] = [];
    for (const file of files) {
      for (const spec of specifiers(readFileSync(file, "utf8"))) {
        const where = `${relative(ROOT, file)}: ${spec}`;
        if (spec.startsWith(".") || spec.startsWith("/")) {
          if (!inside(resolve(dirname(file), spec), PKG)) outside.push(where);
        } else if (spec.startsWith("node:")) {
          if (!builtinModules.includes(spec.slice(5))) outside.push(where);
        } else {
          const name = spec.startsWith("@")
            ? spec.split("/").slice(0, 2).join("/")
            : (spec.split("/")[0] as string);
          if (!allowedBare.has(name)) outside.push(where);
        }
      }
    }
    assert.deepEqual(outside, []);
  });

  test("files the package opens by its own location lie inside it and exist", () => {
    for (const file of files) {
      for (const m of readFileSync(file, "utf8").matchAll(
        /new URL\(\s*["']([^"']+)["']\s*,\s*import\.meta\.url/g,
      )) {
        const target = resolve(dirname(file), m[1] as string);
        assert.ok(inside(target, PKG), `${relative(ROOT, file)} opens ${m[1]}, outside the package`);
        assert.ok(existsSync(target), `${relative(ROOT, file)} opens ${m[1]}, which is missing`);
      }
    }
  });

  test("the package is an ES module whose exports name files that exist, and the workspace links it", () => {
    assert.equal(pkg.name, "@airlock/sim");
    assert.equal(pkg.type, "module");
    assert.ok(existsSync(join(PKG, pkg.exports["."])), "main export");
    assert.equal(pkg.exports["./*"], "./src/*");
    const root = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
    assert.ok(root.workspaces.includes("packages/sim"));
    const lock = JSON.parse(readFileSync(join(ROOT, "package-lock.json"), "utf8"));
    assert.deepEqual(lock.packages["node_modules/@airlock/sim"], { resolved: "packages/sim", link: true });
    for (const [dep, version] of Object.entries(pkg.dependencies)) {
      assert.equal(
        lock.packages[`node_modules/${dep}`]?.version,
        version,
        `${dep} resolves to the pinned version`,
      );
    }
  });
});

describe("the gateway does not depend on the simulator", () => {
  test("only the CLI's sim and demo commands load it, by package name; nothing reaches into packages/", () => {
    const users: string[] = [];
    for (const file of [...sources(join(ROOT, "src")), ...sources(join(ROOT, "bin"))]) {
      for (const spec of specifiers(readFileSync(file, "utf8"))) {
        const intoPackages =
          spec.startsWith(".") && inside(resolve(dirname(file), spec), join(ROOT, "packages"));
        if (intoPackages || spec === "@airlock/sim" || spec.startsWith("@airlock/sim/"))
          users.push(`${relative(ROOT, file)}: ${spec}`);
      }
    }
    assert.deepEqual(users.sort(), ["src/cli/demo.ts: @airlock/sim", "src/cli/sim.ts: @airlock/sim"]);
  });
});

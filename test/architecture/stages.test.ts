// The stage order is written once, in STAGES (src/gateway/pipeline.ts); docs/security-model.md shows the same list,
// and every stage is one file of src/gateway/stages/.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { test } from "node:test";
import { STAGES } from "../../src/gateway/pipeline.ts";

const root = new URL("../../", import.meta.url);
const names = STAGES.map((stage) => stage.name);

test("docs/security-model.md lists the pipeline's stages in the order of STAGES", () => {
  const doc = readFileSync(new URL("docs/security-model.md", root), "utf8");
  const section = doc.slice(doc.indexOf("## The pipeline"), doc.indexOf("## Threats we design against"));
  const block = section.slice(section.indexOf("```") + 3, section.indexOf("```", section.indexOf("```") + 3));
  const listed = block
    .replace(/\([^)]*\)/g, "")
    .split(/─▶/)
    .map((s) => s.trim())
    .filter((s) => s && s !== "client" && s !== "listen");
  assert.deepEqual(listed, names);
});

test("every stage is one file of src/gateway/stages/ named after it", () => {
  const files = readdirSync(new URL("src/gateway/stages/", root)).filter((f) => f !== "types.ts");
  const kebab = (name: string) => `${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}.ts`;
  assert.deepEqual(files.sort(), names.map(kebab).sort());
  assert.equal(new Set(names).size, names.length, "a stage is listed twice");
});

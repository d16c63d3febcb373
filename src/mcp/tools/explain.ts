// k8s_explain: a resource's fields from the cluster's OpenAPI v3, as kubectl explain prints them — the documents are
// read through the pipeline as the caller (/openapi/v3 and the group-version document), nothing is compiled in.
import { z } from "zod";
import { failed, json, kube, ok, text, toolError } from "../call.ts";
import { capText, untrusted } from "../format.ts";
import { common, defineTool, READ_ONLY } from "./define.ts";
import { resolveType } from "./lookup.ts";

interface Schema {
  type?: string;
  description?: string;
  properties?: Record<string, Schema>;
  items?: Schema;
  $ref?: string;
  allOf?: Schema[];
  "x-kubernetes-group-version-kind"?: { group?: string; version?: string; kind?: string }[];
}

const firstSentence = (d: string | undefined) => (d ?? "").split(/(?<=\.)\s/)[0]?.replace(/\s+/g, " ") ?? "";

export const explainTool = defineTool({
  name: "k8s_explain",
  title: "Explain a resource's fields",
  description:
    'The documentation of a resource type or one of its fields (e.g. resource "deployments", field ' +
    '"spec.template.spec.containers"), from the cluster\'s OpenAPI: type, description and the fields below it, as ' +
    "kubectl explain shows them.",
  input: {
    resource: z.string().min(1).describe('Resource type, e.g. "deployments"'),
    field: z
      .string()
      .max(300)
      .regex(/^[A-Za-z0-9_.-]*$/)
      .optional()
      .describe('A dotted field path, e.g. "spec.replicas" (default: the whole kind)'),
    cluster: common.cluster,
  },
  output: {
    kind: z.string(),
    version: z.string(),
    field: z.string(),
    type: z.string(),
    description: z.string(),
    fields: z.array(z.object({ name: z.string(), type: z.string(), description: z.string() })),
  },
  annotations: READ_ONLY,
  async run(c, a) {
    const type = await resolveType(c, a.resource, a.cluster);
    if (!type.ok) return type.result;
    const t = type.value;
    const prefix = a.cluster ? `/k8s/${a.cluster}` : "";
    const gv = t.group ? `apis/${t.group}/${t.version}` : `api/${t.version}`;
    const res = await kube(
      c,
      { method: "GET", path: `${prefix}/openapi/v3/${gv}`, headers: { accept: "application/json" } },
      16 * 1024 * 1024,
    );
    if (!ok(res)) return failed(c, res);
    const doc = json(res) as { components?: { schemas?: Record<string, Schema> } } | undefined;
    const schemas = doc?.components?.schemas ?? {};
    const resolve = (s: Schema | undefined): Schema | undefined => {
      let cur = s;
      for (let i = 0; i < 10 && cur; i++) {
        const ref = cur.$ref ?? cur.allOf?.[0]?.$ref;
        if (!ref) return cur;
        cur = {
          ...schemas[ref.replace("#/components/schemas/", "")],
          description: cur.description ?? schemas[ref.replace("#/components/schemas/", "")]?.description,
        };
      }
      return cur;
    };
    const root = Object.values(schemas).find((s) =>
      s["x-kubernetes-group-version-kind"]?.some(
        (g) => (g.group ?? "") === t.group && g.version === t.version && g.kind === t.kind,
      ),
    );
    if (!root) return toolError(`the cluster's OpenAPI has no schema for ${t.kind} (${gv})`);
    let node: Schema | undefined = resolve(root);
    const path = (a.field ?? "").split(".").filter(Boolean);
    for (const [i, step] of path.entries()) {
      const here: Schema | undefined = node?.type === "array" ? resolve(node.items) : node;
      node = resolve(here?.properties?.[step]);
      if (!node) return toolError(`field "${path.slice(0, i + 1).join(".")}" does not exist in ${t.kind}`);
    }
    const shown = node?.type === "array" ? resolve(node.items) : node;
    const typeName = (s: Schema | undefined) =>
      s?.type === "array" ? `[]${resolve(s.items)?.type ?? "Object"}` : (s?.type ?? "Object");
    const fields = Object.entries(shown?.properties ?? {}).map(([name, s]) => {
      const r = resolve(s);
      return { name, type: typeName(r), description: firstSentence(r?.description) };
    });
    const out = [
      `KIND:     ${t.kind}`,
      `VERSION:  ${t.group ? `${t.group}/` : ""}${t.version}`,
      ...(path.length ? [`FIELD:    ${path.at(-1)} <${typeName(node)}>`] : []),
      "",
      "DESCRIPTION:",
      `    ${(node?.description ?? "<empty>").replace(/\s+/g, " ")}`,
    ];
    if (fields.length) {
      out.push("", "FIELDS:");
      for (const f of fields)
        out.push(`  ${f.name}\t<${f.type}>`, `    ${f.description || "<no description>"}`);
    }
    const capped = capText(out.join("\n"), "a deeper field path");
    return text(untrusted(`OpenAPI of ${t.kind}`, capped.text), {
      kind: t.kind,
      version: t.version,
      field: path.join("."),
      type: typeName(node),
      description: node?.description ?? "",
      fields,
    });
  },
});

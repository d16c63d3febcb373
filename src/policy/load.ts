// Loading policy sets: files and directories of multi-document YAML → one validated, compiled set, or every error.
//
// Failure stance: all or nothing. One bad document fails the whole load, and each error names the file, the document
// (position and, when readable, kind and name) and the field, so an operator fixes everything in one pass. The
// caller (the watcher) keeps the last good set when a load fails. Directories contribute their *.yaml / *.yml files
// (not recursively, hidden and editor backup files skipped), in name order.
import { readdir, readFile, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { parseAllDocuments } from "yaml";
import type { z } from "zod";
import { compilePolicy, type FieldError } from "./compile.ts";
import { foreignDocument, policyDocument } from "./schema.ts";
import type { CompiledPolicy, DocumentSource, LoadedSet, RawDocument } from "./types.ts";

export interface SourceText {
  file: string;
  text: string;
  managed: boolean;
}

export type LoadResult = { ok: true; set: LoadedSet } | { ok: false; errors: string[] };

export function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((acc, part) => {
    if (typeof part === "number") return `${acc}[${part}]`;
    return acc ? `${acc}.${String(part)}` : String(part);
  }, "");
}

function zodErrors(error: z.ZodError): FieldError[] {
  return error.issues.map((issue) => ({
    path: issue.path as (string | number)[],
    message: issue.message,
  }));
}

function describeDoc(index: number, raw: unknown): string {
  const r = raw as { kind?: unknown; metadata?: { name?: unknown } } | null;
  const kind = typeof r?.kind === "string" ? r.kind : "";
  const name = typeof r?.metadata?.name === "string" ? r.metadata.name : "";
  if (kind && name) return `document ${index} (${kind} "${name}")`;
  if (kind) return `document ${index} (${kind})`;
  return `document ${index}`;
}

/** Parses, validates and compiles the given texts as one set. Pure (no IO), so the admin API and CLI share it. */
export function compileSources(sources: readonly SourceText[], now = Date.now()): LoadResult {
  const errors: string[] = [];
  const policies: CompiledPolicy[] = [];
  const maskingProfiles: RawDocument[] = [];
  const seen = new Map<string, string>();
  let order = 0;
  for (const src of sources) {
    const docs = parseAllDocuments(src.text, { uniqueKeys: true, prettyErrors: true });
    const list = Array.isArray(docs) ? docs : [docs];
    for (const [i, doc] of list.entries()) {
      const index = i + 1;
      if (doc.errors.length) {
        for (const e of doc.errors) {
          const at = e.linePos?.[0] ? `line ${e.linePos[0].line}, column ${e.linePos[0].col}: ` : "";
          const message = (e.message.split("\n")[0] ?? "").replace(/ at line \d+, column \d+:?$/, "");
          errors.push(`${src.file}: document ${index}: ${at}${message}`);
        }
        continue;
      }
      const raw: unknown = doc.toJS();
      if (raw === null || raw === undefined) continue; // an empty document (a trailing ---)
      const where = `${src.file}: ${describeDoc(index, raw)}`;
      const report = (errs: FieldError[]) => {
        for (const e of errs) errors.push(`${where}: ${formatPath(e.path) || "(document)"}: ${e.message}`);
      };
      const source: DocumentSource = { file: src.file, index, managed: src.managed };
      const kind = (raw as { kind?: unknown }).kind;
      if (kind === "MaskingProfile") {
        const parsed = foreignDocument.safeParse(raw);
        if (!parsed.success) {
          report(zodErrors(parsed.error));
          continue;
        }
        const key = `MaskingProfile/${parsed.data.metadata.name}`;
        const previous = seen.get(key);
        if (previous) {
          report([{ path: ["metadata", "name"], message: `already defined in ${previous}` }]);
          continue;
        }
        seen.set(key, `${src.file} document ${index}`);
        maskingProfiles.push({ ...(raw as Omit<RawDocument, "source">), source });
        continue;
      }
      if (kind !== "Policy") {
        report([
          {
            path: ["kind"],
            message: `unknown kind ${JSON.stringify(kind)}; expected Policy or MaskingProfile`,
          },
        ]);
        continue;
      }
      const parsed = policyDocument.safeParse(raw);
      if (!parsed.success) {
        report(zodErrors(parsed.error));
        continue;
      }
      const key = `Policy/${parsed.data.metadata.name}`;
      const previous = seen.get(key);
      if (previous) {
        report([{ path: ["metadata", "name"], message: `policy already defined in ${previous}` }]);
        continue;
      }
      seen.set(key, `${src.file} document ${index}`);
      const compiled = compilePolicy(parsed.data, source, policies.length, order);
      if (!compiled.ok) {
        report(compiled.errors);
        continue;
      }
      order += compiled.policy.rules.length;
      policies.push(compiled.policy);
    }
  }
  if (errors.length) return { ok: false, errors };
  return {
    ok: true,
    set: {
      policies,
      maskingProfiles,
      files: [...new Set(sources.map((s) => s.file))],
      loadedAt: new Date(now).toISOString(),
    },
  };
}

const POLICY_FILE = /^[^.~#][^/]*\.ya?ml$/;

/** The policy files a path stands for: the file itself, or a directory's *.yaml files in name order. */
export async function listPolicyFiles(path: string): Promise<string[]> {
  const info = await stat(path);
  if (!info.isDirectory()) return [resolve(path)];
  const names = (await readdir(path)).filter((n) => POLICY_FILE.test(n) && !n.endsWith("~")).sort();
  const files: string[] = [];
  for (const n of names) {
    const full = resolve(join(path, n));
    if ((await stat(full)).isFile()) files.push(full);
  }
  return files;
}

export interface LoadOptions {
  /** Files or directories from the configuration. */
  paths: readonly string[];
  /** The directory the admin API writes to; loaded after `paths`, empty when missing. */
  managedDir?: string;
}

/** Reads every configured source; unreadable paths are errors like any other. */
export async function readSources(opts: LoadOptions): Promise<{ sources: SourceText[]; errors: string[] }> {
  const sources: SourceText[] = [];
  const errors: string[] = [];
  const add = async (path: string, managed: boolean) => {
    let files: string[];
    try {
      files = await listPolicyFiles(path);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (managed && code === "ENOENT") return;
      errors.push(`${path}: cannot read (${code ?? (err as Error).message})`);
      return;
    }
    for (const file of files) {
      try {
        sources.push({ file, text: await readFile(file, "utf8"), managed });
      } catch (err) {
        errors.push(
          `${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
        );
      }
    }
  };
  for (const p of opts.paths) await add(p, false);
  if (opts.managedDir) await add(opts.managedDir, true);
  return { sources, errors };
}

export async function loadPolicies(opts: LoadOptions, now = Date.now()): Promise<LoadResult> {
  const { sources, errors } = await readSources(opts);
  if (errors.length) return { ok: false, errors };
  return compileSources(sources, now);
}

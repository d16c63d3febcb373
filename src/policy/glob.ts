// Name patterns in policies: `*` matches any run of characters (including none); everything else is literal.
// Compiled once at load; matching is a string compare for literals and for the bare `*`. Pure.

export interface Glob {
  readonly source: string;
  test(value: string): boolean;
}

export function compileGlob(source: string): Glob {
  if (source === "*") return { source, test: () => true };
  if (!source.includes("*")) return { source, test: (v) => v === source };
  const escaped = source
    .split("*")
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
    .join(".*");
  const re = new RegExp(`^${escaped}$`, "s");
  return { source, test: (v) => re.test(v) };
}

/** True when any pattern matches; used for lists where one match suffices. */
export function anyGlob(globs: readonly Glob[], value: string): boolean {
  for (const g of globs) if (g.test(value)) return true;
  return false;
}

/** A list of patterns as one matcher: literals in a Set, the rest tried in turn (rules list many literals). */
export function compileGlobList(sources: readonly string[]): Glob {
  const literals = new Set(sources.filter((s) => !s.includes("*")));
  const globs = sources.filter((s) => s.includes("*")).map(compileGlob);
  if (globs.some((g) => g.source === "*")) return { source: sources.join(","), test: () => true };
  return { source: sources.join(","), test: (v) => literals.has(v) || anyGlob(globs, v) };
}

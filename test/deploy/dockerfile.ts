// A small reader for the repository's Dockerfile: its stages and their instructions, as Docker reads them (comments
// dropped, `\` continuations joined, `--flag=value` options split off). Only what test/deploy/packaging.test.ts needs
// to perform a stage's steps outside a container builder; an instruction it does not know is kept, so the test can
// refuse it rather than skip it.

export interface Instruction {
  /** Upper-case keyword: FROM, RUN, COPY, ENV, WORKDIR, USER, ENTRYPOINT, CMD, … */
  op: string;
  /** `--name=value` options (`--from=build`, `--mount=…`, `--chown=…`). */
  flags: Record<string, string>;
  /** The rest of the line, options removed, as written. */
  rest: string;
  line: number;
}

export interface Stage {
  image: string;
  name: string;
  instructions: Instruction[];
}

export function parseDockerfile(text: string): Stage[] {
  const stages: Stage[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const start = i + 1;
    let line = lines[i] ?? "";
    if (/^\s*(#|$)/.test(line)) continue;
    while (/\\\s*$/.test(line) && i + 1 < lines.length) {
      i++;
      const next = lines[i] ?? "";
      if (/^\s*#/.test(next)) continue;
      line = `${line.replace(/\\\s*$/, "")} ${next.trim()}`;
    }
    const m = /^\s*([A-Za-z]+)\s+(.*)$/.exec(line);
    if (!m) throw new Error(`Dockerfile line ${start}: cannot read "${line}"`);
    const op = (m[1] ?? "").toUpperCase();
    let rest = (m[2] ?? "").trim();
    const flags: Record<string, string> = {};
    for (let f = /^--([a-z-]+)=(\S+)\s+/.exec(rest); f; f = /^--([a-z-]+)=(\S+)\s+/.exec(rest)) {
      flags[f[1] ?? ""] = f[2] ?? "";
      rest = rest.slice(f[0].length);
    }
    if (op === "FROM") {
      const from = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(rest);
      if (!from) throw new Error(`Dockerfile line ${start}: cannot read FROM "${rest}"`);
      stages.push({ image: from[1] ?? "", name: from[2] ?? String(stages.length), instructions: [] });
      continue;
    }
    const stage = stages.at(-1);
    if (!stage) throw new Error(`Dockerfile line ${start}: ${op} before any FROM`);
    stage.instructions.push({ op, flags, rest, line: start });
  }
  return stages;
}

/** The exec form (`["node", "bin/airlock.ts"]`) of ENTRYPOINT or CMD; the shell form is refused (signals). */
export function execForm(ins: Instruction): string[] {
  const parsed: unknown = JSON.parse(ins.rest);
  if (!Array.isArray(parsed) || !parsed.every((p) => typeof p === "string")) {
    throw new Error(`Dockerfile line ${ins.line}: ${ins.op} must use the exec form ["…", "…"]`);
  }
  return parsed;
}

/** `ENV A=1 B=2` (or the legacy `ENV A 1`) as a map. */
export function envOf(ins: Instruction): Record<string, string> {
  const legacy = /^([A-Za-z_][A-Za-z0-9_]*)\s+([^=]*)$/.exec(ins.rest);
  if (legacy) return { [legacy[1] ?? ""]: (legacy[2] ?? "").trim() };
  const out: Record<string, string> = {};
  for (const m of ins.rest.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("([^"]*)"|\S*)/g)) {
    out[m[1] ?? ""] = m[3] ?? m[2] ?? "";
  }
  return out;
}

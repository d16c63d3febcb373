// Which programs an exec argv runs, and whether that can be known at all. Pure.
//
// `analyzeCommand(argv)` answers two lists: `programs`, every program the argv runs by basename — argv[0], and
// recursively the commands inside `sh -c` scripts, wrappers (sudo, env, timeout, xargs, busybox…), `find -exec` and
// `watch` — and `unresolved`, one reason for every place where what runs cannot be known statically: an expansion or
// substitution in command position (`$X f`, `$(echo rm)`, `a=r;b=m;$a$b`), `eval`, `source`, a glob or brace in a
// command word, a function or alias defined in the script, a shell reading a script file or piped commands, an
// interpreter given code (`python3 -c`, `perl -e`, awk with `system(`, sed's `e`/`w`), tar's command-running options,
// `git -c`, `find -delete`, and programs named by a path outside the system directories (`./rm`, `/tmp/ls`).
//
// Security stance (docs/policy.md "commandMatches"): the reader over-reports rather than under-reports. A word that
// contains an expansion is never trusted to be one word (IFS games: `rm${IFS}f`), `$(…)`/backticks/process
// substitutions are read as commands wherever they appear (also inside double quotes and `${…}`), and anything this
// reader does not understand is unresolved. Policy turns unresolved into "matches" for deny and review rules and
// "does not match" for allow rules (fail closed). What an interactive shell is later told on stdin is outside the
// argv; `exec.stdin: inspect` checks those lines one by one (src/gateway/stdin-inspect.ts).

export interface CommandAnalysis {
  /** Programs by basename, in order of appearance, without duplicates. */
  programs: string[];
  /** Why what runs cannot be known statically (empty when everything is resolved), without duplicates. */
  unresolved: string[];
  /** The argv's program is a shell that reads its commands from stdin (`sh`, `bash -s`, `sudo -s`, `su`). */
  stdinCommands: boolean;
}

const MAX_DEPTH = 8;
const MAX_SCRIPT = 64 * 1024;

const SHELLS = new Set([
  "sh",
  "bash",
  "dash",
  "zsh",
  "ash",
  "ksh",
  "mksh",
  "yash",
  "fish",
  "csh",
  "tcsh",
  "rbash",
]);
const SU_LIKE = new Set(["su", "runuser"]);
/** Interpreters: any code they are given (inline, file or stdin) is unresolved, only version/help is not. */
const INTERPRETER =
  /^(python[0-9.]*|pypy[0-9.]*|perl[0-9.]*|ruby[0-9.]*|irb|node|nodejs|deno|bun|php[0-9.]*|lua[0-9.]*|luajit|Rscript|R|tclsh[0-9.]*|wish|expect|julia|jshell|guile|racket|ocaml|groovy|scala|pwsh|powershell|osascript|gdb)$/;
const AWK = new Set(["awk", "gawk", "mawk", "nawk"]);
const SED = new Set(["sed", "gsed"]);
const EDITORS = new Set(["vi", "vim", "nvim", "view", "ex", "ed", "emacs", "less", "more", "man", "nano"]);
const KEYWORDS = new Set([
  "if",
  "then",
  "else",
  "elif",
  "fi",
  "do",
  "done",
  "while",
  "until",
  "!",
  "{",
  "}",
  "coproc",
]);
const SKIP_COMMAND = new Set(["for", "select", "case", "esac", "((", "function"]);
const SOURCING = new Set([
  "source",
  ".",
  "eval",
  "alias",
  "enable",
  "hash",
  "trap",
  "bind",
  "complete",
  "fc",
  "parallel",
]);
/** Variables whose value changes which program a later command runs, or makes a shell run code. */
const DANGEROUS_VARS = new Set([
  "PATH",
  "IFS",
  "LD_PRELOAD",
  "LD_LIBRARY_PATH",
  "LD_AUDIT",
  "BASH_ENV",
  "ENV",
  "PROMPT_COMMAND",
  "PS0",
  "PS1",
  "PS4",
  "SHELLOPTS",
  "BASHOPTS",
  "PAGER",
  "EDITOR",
  "VISUAL",
  "PYTHONSTARTUP",
  "PYTHONPATH",
  "PERL5OPT",
  "PERL5LIB",
  "NODE_OPTIONS",
  "RUBYOPT",
  "BASH_FUNC",
  "CDPATH",
]);
const SYSTEM_DIRS = new Set(["/bin", "/usr/bin", "/sbin", "/usr/sbin", "/usr/local/bin", "/usr/local/sbin"]);

/** How a wrapper's options are read: which take a value, whether the first operand is not the command. */
interface WrapperSpec {
  values?: string[];
  /** Operands before the command (timeout DURATION, chroot DIR, gosu USER…). */
  operands?: number;
  /** Options after which there is no command at all (`taskset -p`, `ionice -p`, `command -v`). */
  noCommand?: string[];
  /** Options that make the wrapper run a shell script given as their value. */
  script?: string[];
}
const WRAPPERS: Record<string, WrapperSpec> = {
  sudo: {
    values: [
      "-u",
      "-g",
      "-C",
      "-D",
      "-h",
      "-p",
      "-r",
      "-t",
      "-U",
      "-T",
      "-R",
      "--user",
      "--group",
      "--chdir",
      "--chroot",
      "--prompt",
      "--role",
      "--type",
      "--other-user",
      "--close-from",
      "--host",
      "--command-timeout",
    ],
  },
  doas: { values: ["-u", "-C"] },
  env: { values: ["-u", "-C", "--unset", "--chdir", "-a", "--argv0"] },
  nice: { values: ["-n", "--adjustment"] },
  nohup: {},
  timeout: { values: ["-s", "-k", "--signal", "--kill-after"], operands: 1 },
  time: { values: ["-f", "-o", "--format", "--output"] },
  exec: { values: ["-a"] },
  command: { noCommand: ["-v", "-V"] },
  builtin: {},
  busybox: {},
  stdbuf: { values: ["-i", "-o", "-e", "--input", "--output", "--error"] },
  ionice: {
    values: ["-c", "-n", "--class", "--classdata"],
    noCommand: ["-p", "-P", "-u", "--pid", "--pgid", "--uid"],
  },
  setsid: {},
  chroot: { values: ["--userspec", "--groups"], operands: 1 },
  strace: { values: ["-e", "-o", "-p", "-s", "-u", "-E", "-a", "-I", "-O", "-S", "-X", "-P", "-b"] },
  ltrace: { values: ["-e", "-o", "-p", "-s", "-u", "-a", "-n", "-A", "-D", "-F", "-l", "-L", "-x"] },
  unbuffer: {},
  flock: {
    values: ["-w", "-E", "--timeout", "--conflict-exit-code"],
    operands: 1,
    script: ["-c", "--command"],
  },
  chrt: {
    values: ["-T", "-P", "-D", "--sched-runtime", "--sched-period", "--sched-deadline"],
    operands: 1,
    noCommand: ["-p", "--pid"],
  },
  taskset: { operands: 1, noCommand: ["-p", "--pid"] },
  gosu: { operands: 1 },
  "su-exec": { operands: 1 },
  chpst: { values: ["-u", "-U", "-b", "-e", "-/", "-n", "-l", "-L", "-m", "-d", "-o", "-p", "-f", "-c"] },
  setpriv: {
    values: [
      "--reuid",
      "--regid",
      "--ruid",
      "--rgid",
      "--euid",
      "--egid",
      "--groups",
      "--inh-caps",
      "--ambient-caps",
      "--bounding-set",
      "--securebits",
      "--pdeathsig",
      "--selinux-label",
      "--apparmor-profile",
      "--landlock-access",
      "--landlock-rule",
    ],
  },
  unshare: {
    values: [
      "-S",
      "-G",
      "-R",
      "-w",
      "--setuid",
      "--setgid",
      "--root",
      "--wd",
      "--map-user",
      "--map-group",
      "--map-users",
      "--map-groups",
      "--propagation",
      "--setgroups",
    ],
  },
  nsenter: { values: ["-t", "-S", "-G", "--target", "--setuid", "--setgid"] },
  tini: { values: ["-p", "-e"] },
  "dumb-init": { values: ["-r", "--rewrite"] },
  catatonit: {},
  xargs: {
    values: [
      "-I",
      "-n",
      "-P",
      "-d",
      "-E",
      "-L",
      "-s",
      "-a",
      "--arg-file",
      "--delimiter",
      "--max-args",
      "--max-procs",
      "--max-lines",
      "--max-chars",
      "--eof",
      "--process-slot-var",
    ],
  },
  watch: { values: ["-n", "--interval", "-q", "--equexit"] },
  script: {
    operands: 1, // script [FILE]: the typescript file, not a command
    values: [
      "-T",
      "-I",
      "-O",
      "-B",
      "-E",
      "-o",
      "--log-timing",
      "--log-in",
      "--log-out",
      "--log-io",
      "--echo",
      "--output-limit",
      "-m",
      "--logging-format",
    ],
    script: ["-c", "--command"],
  },
};

/** The result of one analysis, built up while walking. */
class Collector {
  readonly programs: string[] = [];
  readonly unresolved: string[] = [];
  stdinCommands = false;
  program(name: string): undefined {
    if (!this.programs.includes(name)) this.programs.push(name);
  }
  unknown(reason: string): undefined {
    if (!this.unresolved.includes(reason)) this.unresolved.push(reason);
  }
  result(): CommandAnalysis {
    return { programs: this.programs, unresolved: this.unresolved, stdinCommands: this.stdinCommands };
  }
}

/** One shell word: its value after quote removal, and why it is not static (undefined: it is). */
interface Word {
  text: string;
  /** Shown in messages: the word as written. */
  raw: string;
  dynamic?: string;
}

interface Walk {
  depth: number;
  /** The command runs inside a script (nested): a shell reading stdin there reads piped text, not the agent's typing. */
  nested: boolean;
  /** xargs appends words read from stdin to this command: a wrapper missing its command gets it from stdin. */
  argsAppended?: boolean;
}

function basename(word: string): string {
  const i = word.lastIndexOf("/");
  return i >= 0 ? word.slice(i + 1) : word;
}

function quoteForMessage(text: string): string {
  const short = text.length > 60 ? `${text.slice(0, 57)}...` : text;
  return `\`${short.replace(/[\u0000-\u001f\u007f-\u009f]/g, "?")}\``;
}

const ASSIGNMENT = /^([A-Za-z_][A-Za-z0-9_]*)(\[[^\]]*\])?\+?=/;

function staticWord(text: string): Word {
  return { text, raw: text };
}

/** The programs an exec argv would run, and what about it cannot be known. */
export function analyzeCommand(argv: readonly string[]): CommandAnalysis {
  const out = new Collector();
  walkCommand(argv.map(staticWord), out, { depth: 0, nested: false });
  return out.result();
}

/** A shell command line (a stdin line under `exec.stdin: inspect`, a `sh -c` script) analysed as a script. */
export function analyzeScript(script: string): CommandAnalysis {
  const out = new Collector();
  walkScript(script, out, { depth: 0, nested: false });
  return out.result();
}

/**
 * Whether shell text is not yet a complete command: a trailing backslash continuation, an open quote or
 * substitution, or a here-document whose end line has not come (a shell would wait for more lines).
 */
export function scriptIncomplete(text: string): boolean {
  if (/(^|[^\\])(\\\\)*\\\n$/.test(text)) return true;
  return analyzeScript(text).unresolved.some(
    (r) => r.startsWith("script cannot be read") || r === "here-document without a body",
  );
}

/** The programs an exec argv would run, by basename (see analyzeCommand for what could not be known). */
export function programsOf(argv: readonly string[]): string[] {
  return analyzeCommand(argv).programs;
}

function walkScript(script: string, out: Collector, walk: Walk): undefined {
  if (walk.depth > MAX_DEPTH) return out.unknown("commands nested too deeply to follow");
  if (script.length > MAX_SCRIPT) return out.unknown(`script longer than ${MAX_SCRIPT} bytes`);
  const parsed = parseScript(script, out, walk);
  for (const command of parsed) {
    walkCommand(command.words, out, walk, command);
  }
}

function checkAssignment(word: Word, out: Collector): undefined {
  const m = ASSIGNMENT.exec(word.raw);
  const name = m?.[1];
  if (name && (DANGEROUS_VARS.has(name) || name.startsWith("BASH_FUNC") || name.startsWith("GIT_"))) {
    out.unknown(`sets ${name}, which changes what later commands run`);
  }
}

/** The command position's word: a program, or the reason it cannot be known. */
function commandWord(word: Word, out: Collector): string | undefined {
  if (word.dynamic) {
    out.unknown(`${word.dynamic} in command position ${quoteForMessage(word.raw)}`);
    return undefined;
  }
  const text = word.text;
  if (text.includes("/")) {
    const dir = text.slice(0, text.lastIndexOf("/")) || "/";
    const normal = dir.replace(/\/+/g, "/").replace(/\/$/, "") || "/";
    if (!SYSTEM_DIRS.has(normal)) {
      out.unknown(`program given by a path outside the system directories ${quoteForMessage(text)}`);
    }
  }
  const name = basename(text);
  if (name === "") {
    out.unknown(`no program name in ${quoteForMessage(text)}`);
    return undefined;
  }
  return name;
}

interface CommandContext {
  heredocs: string[];
}

function walkCommand(words: readonly Word[], out: Collector, walk: Walk, ctx?: CommandContext): undefined {
  if (walk.depth > MAX_DEPTH) return out.unknown("commands nested too deeply to follow");
  let i = 0;
  for (;;) {
    const w = words[i];
    if (w === undefined) break;
    if (!w.dynamic && ASSIGNMENT.test(w.raw)) {
      checkAssignment(w, out);
      i++;
    } else if (w.dynamic && ASSIGNMENT.test(w.raw)) {
      checkAssignment(w, out);
      i++;
    } else if (!w.dynamic && KEYWORDS.has(w.text)) i++;
    else break;
  }
  const first = words[i];
  if (first === undefined) {
    if (walk.argsAppended) out.unknown("xargs supplies the command from its input");
    return;
  }
  if (!first.dynamic && SKIP_COMMAND.has(first.text)) {
    if (first.text === "function") out.unknown("function defined in the script");
    return; // for/select/case words are data; their bodies are commands of their own
  }
  const prog = commandWord(first, out);
  if (prog === undefined) return;
  out.program(prog);
  const rest = words.slice(i + 1);
  const deeper: Walk = { depth: walk.depth + 1, nested: true };

  if (SHELLS.has(prog)) return walkShell(prog, rest, out, walk, deeper, ctx);
  if (SU_LIKE.has(prog)) return walkSu(prog, rest, out, walk, deeper, ctx);
  if (SOURCING.has(prog)) {
    if (prog === "trap") return walkTrap(rest, out, deeper);
    if (prog === "hash" && !rest.some((w) => w.text === "-p")) return;
    return out.unknown(`\`${prog}\` runs code the gateway cannot see`);
  }
  if (["let", "[[", "mapfile", "readarray"].includes(prog)) {
    for (const w of rest) {
      if (/\[/.test(w.text) && /[$`]/.test(w.text))
        out.unknown(`arithmetic that can run commands ${quoteForMessage(w.raw)}`);
      if (prog !== "let" && prog !== "[[" && w.text === "-C") out.unknown(`\`${prog} -C\` runs a callback`);
    }
    return;
  }
  if (["export", "declare", "typeset", "local", "readonly"].includes(prog)) {
    for (const w of rest) {
      if (w.dynamic) out.unknown(`${w.dynamic} in \`${prog}\` ${quoteForMessage(w.raw)}`);
      else checkAssignment(w, out);
      if (!w.dynamic && /^-[A-Za-z]*f/.test(w.text)) out.unknown(`\`${prog} -f\` defines functions`);
    }
    return;
  }
  if (INTERPRETER.test(prog)) return walkInterpreter(prog, rest, out);
  if (AWK.has(prog)) return walkAwk(prog, rest, out);
  if (SED.has(prog)) return walkSed(prog, rest, out);
  if (prog === "newgrp" || prog === "sg") {
    if (prog === "sg" && rest.length > 1) return out.unknown("`sg` runs its command through a shell");
    return readsCommandsFromStdin(prog, out, walk, deeper, ctx);
  }
  // Programs whose commands (read from stdin or arguments) include running shell commands (`!rm x`).
  if (prog === "ex" || prog === "ed" || prog === "red" || prog === "dc" || prog === "ftp")
    return out.unknown(`\`${prog}\` reads commands that can run programs`);
  if (EDITORS.has(prog) && rest.some((w) => /^-[a-zA-Z]*[eEs]/.test(w.text)))
    return out.unknown(`\`${prog}\` in ex/script mode reads commands that can run programs`);
  if (EDITORS.has(prog)) {
    if (
      rest.some(
        (w) => /^(-c|-S|--cmd|--eval|-x|-ex|\+.*|--script.*|-l|-f)$/.test(w.text) || w.text.startsWith("+"),
      )
    )
      out.unknown(`\`${prog}\` given commands to run`);
    return;
  }
  if (prog === "find") return walkFind(rest, out, deeper);
  if (prog === "tar" || prog === "bsdtar" || prog === "gtar") return walkTar(prog, rest, out);
  if (prog === "git") return walkGit(rest, out);
  const deleting = compressorDeletes(prog, rest);
  if (deleting) return out.unknown(deleting);
  if (prog === "rsync" && rest.some((w) => /^--remove-(source|sent)-files/.test(w.text)))
    out.unknown("`rsync --remove-source-files` deletes files (counted as unresolved)");
  if (prog === "ssh" || prog === "scp" || prog === "sftp" || prog === "rsync") {
    if (rest.some((w) => w.dynamic || /command|-e$|--rsh|--rsync-path|^-F/i.test(w.text)))
      out.unknown(`\`${prog}\` options that run a local command`);
    return;
  }
  if (prog === "watch") return walkWatch(rest, out, deeper);
  const spec = WRAPPERS[prog];
  if (spec) return walkWrapper(prog, spec, rest, out, walk, deeper);
}

/** Options of a shell: `-c SCRIPT`, `-s`, a script file, or nothing (reads stdin). */
function walkShell(
  prog: string,
  rest: readonly Word[],
  out: Collector,
  walk: Walk,
  deeper: Walk,
  ctx?: CommandContext,
): undefined {
  let sawC = false;
  let readsStdin = false;
  for (let j = 0; j < rest.length; j++) {
    const w = rest[j] as Word;
    if (w.dynamic && sawC) return scriptWord(prog, w, out, deeper);
    if (w.dynamic) return out.unknown(`${w.dynamic} in the options of \`${prog}\` ${quoteForMessage(w.raw)}`);
    const t = w.text;
    if (t === "--" || t === "-") {
      j++;
      const next = rest[j];
      if (sawC) return scriptWord(prog, next, out, deeper);
      if (next === undefined) break;
      return out.unknown(`\`${prog}\` runs a script file ${quoteForMessage(next.raw)}`);
    }
    if (t === "--command" || t === "-command") return scriptWord(prog, rest[j + 1], out, deeper);
    if (
      t === "--rcfile" ||
      t === "--init-file" ||
      t === "--login" ||
      t === "-l" ||
      t === "-i" ||
      t === "--interactive"
    )
      return out.unknown(`\`${prog} ${t}\` reads startup files`);
    if (/^[-+][A-Za-z]+$/.test(t)) {
      if (t.startsWith("-") && t.includes("c")) sawC = true;
      if (t.startsWith("-") && t.includes("s")) readsStdin = true;
      if (t.startsWith("-") && (t.includes("i") || t.includes("l")))
        return out.unknown(`\`${prog} ${t}\` reads startup files`);
      if (/[oO]$/.test(t)) j++; // set -o OPTION / shopt -O OPTION take a value
      continue;
    }
    if (t.startsWith("--")) continue; // --norc, --posix, --noprofile…
    if (sawC) return scriptWord(prog, w, out, deeper);
    if (readsStdin) break;
    return out.unknown(`\`${prog}\` runs a script file ${quoteForMessage(w.raw)}`);
  }
  if (sawC) return out.unknown(`\`${prog} -c\` without a script in the argv`);
  readsCommandsFromStdin(prog, out, walk, deeper, ctx);
}

/** A shell that reads commands from stdin: at the top of an exec that is the agent's typing (exec.stdin: inspect);
 * inside a script it is piped text, unless a here-document gives it. */
function readsCommandsFromStdin(
  prog: string,
  out: Collector,
  walk: Walk,
  deeper: Walk,
  ctx?: CommandContext,
): undefined {
  if (ctx?.heredocs.length) {
    for (const body of ctx.heredocs) walkScript(body, out, deeper);
    return;
  }
  if (!walk.nested) {
    out.stdinCommands = true;
    return;
  }
  out.unknown(`\`${prog}\` reads commands from its input`);
}

function scriptWord(prog: string, word: Word | undefined, out: Collector, deeper: Walk): undefined {
  if (word === undefined) return out.unknown(`\`${prog} -c\` without a script in the argv`);
  if (word.dynamic)
    return out.unknown(`${word.dynamic} in the script of \`${prog} -c\` ${quoteForMessage(word.raw)}`);
  walkScript(word.text, out, deeper);
}

function walkSu(
  prog: string,
  rest: readonly Word[],
  out: Collector,
  walk: Walk,
  deeper: Walk,
  ctx?: CommandContext,
): undefined {
  for (let j = 0; j < rest.length; j++) {
    const w = rest[j] as Word;
    if (w.dynamic) return out.unknown(`${w.dynamic} in the options of \`${prog}\` ${quoteForMessage(w.raw)}`);
    const t = w.text;
    if (t === "-c" || t === "--command" || t === "--session-command")
      return scriptWord(prog, rest[j + 1], out, deeper);
    if (t.startsWith("--command=") || t.startsWith("--session-command="))
      return walkScript(t.slice(t.indexOf("=") + 1), out, deeper);
    if (prog === "runuser" && (t === "-u" || t === "--user")) {
      // runuser -u USER [--] COMMAND…: argv, not a script.
      let k = j + 2;
      if (rest[k]?.text === "--") k++;
      return walkCommand(rest.slice(k), out, deeper);
    }
    if (
      t === "-s" ||
      t === "--shell" ||
      t === "-g" ||
      t === "-G" ||
      t === "--group" ||
      t === "--supp-group" ||
      t === "-w" ||
      t === "--whitelist-environment"
    ) {
      j++;
    }
  }
  readsCommandsFromStdin(prog, out, walk, deeper, ctx);
}

function walkTrap(rest: readonly Word[], out: Collector, deeper: Walk): undefined {
  const action = rest[0];
  if (action === undefined || /^-[lp]$/.test(action.text)) return;
  if (action.dynamic) return out.unknown(`${action.dynamic} in a trap action ${quoteForMessage(action.raw)}`);
  walkScript(action.text, out, deeper);
}

function walkInterpreter(prog: string, rest: readonly Word[], out: Collector): undefined {
  if (rest.length > 0 && rest.every((w) => /^(-V|--version|-v|-h|--help|-version)$/.test(w.text))) return;
  const inline = rest.find((w) => /^(-c|-e|-E|-p|-r|--eval|--print|-x|-ex|-m)$/.test(w.text));
  out.unknown(
    inline
      ? `interpreter given inline code (\`${prog} ${inline.text}\`)`
      : `interpreter \`${prog}\` runs code the gateway cannot read`,
  );
}

/** awk: the program text is unresolved when it can run commands (system(), pipes, getline from a command). */
function walkAwk(prog: string, rest: readonly Word[], out: Collector): undefined {
  for (let j = 0; j < rest.length; j++) {
    const w = rest[j] as Word;
    const t = w.text;
    if (w.dynamic) return out.unknown(`${w.dynamic} in the program of \`${prog}\``);
    if (
      t === "-f" ||
      t.startsWith("--file") ||
      t.startsWith("-f") ||
      t === "-E" ||
      t === "--exec" ||
      t === "-i" ||
      t === "--include" ||
      t === "-l" ||
      t === "--load"
    )
      return out.unknown(`\`${prog}\` reads its program from a file`);
    if (t === "-v" || t === "-F" || t === "--assign" || t === "--field-separator") {
      j++;
      continue;
    }
    if (t === "--") continue;
    if (t.startsWith("-") && t.length > 1) continue;
    if (/system|\||getline|@load|@include|ENVIRON|PROCINFO/.test(t))
      return out.unknown(`\`${prog}\` program that can run commands (${quoteForMessage(t)})`);
    return;
  }
}

/** sed: a script with the `e` command, the `e` or `w` flag of `s`, or `w`/`W` (write a file) is unresolved. */
function walkSed(prog: string, rest: readonly Word[], out: Collector): undefined {
  const scripts: string[] = [];
  let sawE = false;
  for (let j = 0; j < rest.length; j++) {
    const w = rest[j] as Word;
    const t = w.text;
    if (w.dynamic) return out.unknown(`${w.dynamic} in the script of \`${prog}\``);
    if (t === "-e" || t === "--expression") {
      sawE = true;
      const v = rest[j + 1];
      if (v?.dynamic) return out.unknown(`${v.dynamic} in the script of \`${prog}\``);
      scripts.push(v?.text ?? "");
      j++;
    } else if (t.startsWith("--expression=")) {
      sawE = true;
      scripts.push(t.slice(13));
    } else if (/^-[a-zA-Z]*e.+/.test(t) && !t.startsWith("--")) {
      sawE = true;
      scripts.push(t.slice(t.indexOf("e") + 1));
    } else if (t === "-f" || t.startsWith("--file") || /^-[a-zA-Z]*f/.test(t)) {
      return out.unknown(`\`${prog}\` reads its script from a file`);
    } else if (t === "-l" || t === "--line-length") j++;
    else if (t.startsWith("-")) continue;
    else if (!sawE) {
      scripts.push(t);
      sawE = true; // the first operand is the script; the rest are files
    }
  }
  for (const s of scripts) {
    const reason = sedDanger(s);
    if (reason) return out.unknown(`\`${prog}\` script ${reason} (${quoteForMessage(s)})`);
  }
}

/** Reads a sed script command by command; returns why it can run or write something, if it can. */
export function sedDanger(script: string): string | undefined {
  let i = 0;
  const n = script.length;
  const skipSpace = () => {
    while (i < n && /[\s;{}!]/.test(script[i] ?? "")) i++;
  };
  const readDelimited = (delim: string): boolean => {
    while (i < n) {
      const c = script[i] ?? "";
      if (c === "\\") {
        i += 2;
        continue;
      }
      if (c === "\n" && delim !== "\n") return false;
      i++;
      if (c === delim) return true;
    }
    return false;
  };
  for (let guard = 0; i < n && guard < 10_000; guard++) {
    skipSpace();
    if (i >= n) break;
    // Addresses: numbers, $, /re/, \cREc, with , ~ + and ! between.
    for (;;) {
      const c = script[i] ?? "";
      if (/[0-9$,~+]/.test(c)) i++;
      else if (c === "/") {
        i++;
        if (!readDelimited("/")) return "cannot be read";
        while (/[IM]/.test(script[i] ?? "")) i++;
      } else if (c === "\\") {
        const d = script[i + 1] ?? "";
        i += 2;
        if (!readDelimited(d)) return "cannot be read";
      } else if (c === " " || c === "!") i++;
      else break;
    }
    const cmd = script[i] ?? "";
    i++;
    if (cmd === "s" || cmd === "y") {
      const d = script[i] ?? "";
      i++;
      if (!d || d === "\n" || d === "\\") return "cannot be read";
      if (!readDelimited(d) || !readDelimited(d)) return "cannot be read";
      if (cmd === "s") {
        const flagsStart = i;
        while (i < n && !/[;\n}]/.test(script[i] ?? "")) {
          if (script[i] === "w") return "writes a file (s///w)";
          i++;
        }
        if (script.slice(flagsStart, i).includes("e")) return "runs a command (s///e)";
      }
    } else if (cmd === "e") return "runs a command (e)";
    else if (cmd === "w" || cmd === "W") return "writes a file (w)";
    else if ("aic".includes(cmd) && cmd !== "") {
      // a\ / i\ / c\ text: up to the end of the line, continued by lines ending in a backslash.
      for (;;) {
        while (i < n && script[i] !== "\n") i += script[i] === "\\" ? 2 : 1;
        if (i >= n || script[i - 1] !== "\\") break;
        i++;
      }
      if (script[i - 1] === "\\") i++;
    } else if ("rRbtTv:#".includes(cmd) && cmd !== "") {
      while (i < n && script[i] !== "\n" && !(";}".includes(script[i] ?? "") && "btTv:".includes(cmd))) i++;
    } else if ("pPdDnNgGhHxlqQz=F}{".includes(cmd)) {
      // single-letter commands (q/Q/l may take a number, read as an address next round)
    } else if (/\s/.test(cmd)) {
      // spacing
    } else return `has a command the gateway does not know (${cmd})`;
  }
  return undefined;
}

function walkFind(rest: readonly Word[], out: Collector, deeper: Walk): undefined {
  for (let j = 0; j < rest.length; j++) {
    const t = rest[j]?.text ?? "";
    if (rest[j]?.dynamic && /^-/.test(rest[j]?.raw ?? "-"))
      out.unknown(`${rest[j]?.dynamic} in the expression of \`find\``);
    if (t === "-delete") out.unknown("`find -delete` deletes files (counted as unresolved)");
    if (t === "-fprint" || t === "-fprint0" || t === "-fprintf" || t === "-fls")
      out.unknown(`\`find ${t}\` writes a file`);
    if (["-exec", "-execdir", "-ok", "-okdir"].includes(t)) {
      const end = rest.findIndex((w, k) => k > j && (w.text === ";" || w.text === "+"));
      const command = rest
        .slice(j + 1, end < 0 ? undefined : end)
        .map((w) =>
          w.text.includes("{}") && !w.dynamic ? { ...w, dynamic: "a name find substitutes ({})" } : w,
        );
      walkCommand(command, out, deeper);
      if (end > 0) j = end;
    }
  }
}

/** tar options that run a program: unresolved. GNU tar accepts unique prefixes of long options (`--to-com`). */
const TAR_RUNNING = [
  "checkpoint-action",
  "to-command",
  "use-compress-program",
  "info-script",
  "new-volume-script",
  "rsh-command",
  "rmt-command",
  "index-file",
];
const TAR_HARMLESS = new Set(["checkpoint", "to-stdout"]);

export function tarRunsCommand(args: readonly string[]): string | undefined {
  for (let j = 0; j < args.length; j++) {
    const t = args[j] ?? "";
    if (t === "--") break;
    if (t.startsWith("--")) {
      const name = t.slice(2).split("=")[0] ?? "";
      if (name.length >= 2 && TAR_RUNNING.some((o) => o.startsWith(name)) && !TAR_HARMLESS.has(name))
        return `tar option that runs a command (${quoteForMessage(t)})`;
      continue;
    }
    // Short options: -I PROG / -F SCRIPT, bundled (`-xIf`), or the old style first word without a dash (`xIf`).
    const bundle = t.startsWith("-") ? t.slice(1) : j === 0 ? t : "";
    if (/^[A-Za-z]+$/.test(bundle) && /[IF]/.test(bundle))
      return `tar option that runs a command (${quoteForMessage(t)})`;
    if (t.startsWith("-") && /^-[A-Za-z]*[IF]/.test(t))
      return `tar option that runs a command (${quoteForMessage(t)})`;
  }
  return undefined;
}

function walkTar(prog: string, rest: readonly Word[], out: Collector): undefined {
  if (rest.some((w) => w.dynamic)) {
    const w = rest.find((x) => x.dynamic) as Word;
    if (w.raw.startsWith("-") || w.text === "") out.unknown(`${w.dynamic} in the options of \`${prog}\``);
  }
  const reason = tarRunsCommand(rest.map((w) => w.text));
  if (reason) out.unknown(reason);
  const deleting = tarDeletes(rest.map((w) => w.text));
  if (deleting) out.unknown(deleting);
}

/** tar options that delete files or directories, as `find -delete` does: unresolved (prefixes as GNU tar takes). */
const TAR_DELETING = ["remove-files", "recursive-unlink"];

function tarDeletes(args: readonly string[]): string | undefined {
  for (const t of args) {
    if (t === "--") break;
    if (!t.startsWith("--")) continue;
    const name = t.slice(2).split("=")[0] ?? "";
    if (name.length >= 3 && TAR_DELETING.some((o) => o.startsWith(name)))
      return `tar option that deletes files (${quoteForMessage(t)}, counted as unresolved)`;
  }
  return undefined;
}

/** Compressors that replace each FILE with FILE.gz (the original is deleted) unless told to keep it or write stdout. */
const REPLACING_COMPRESSORS = new Set([
  "gzip",
  "gunzip",
  "bzip2",
  "bunzip2",
  "xz",
  "unxz",
  "lzma",
  "unlzma",
  "lzip",
  "compress",
  "uncompress",
  "pigz",
  "unpigz",
]);
const KEEPING_LONG = /^--(keep|stdout|to-stdout|test|list|help|version)$/;

/**
 * Why this compressor or archiver deletes files, as `find -delete` and `tar --remove-files` do (counted as
 * unresolved), or undefined: `gzip FILE` (no -k/-c/-t/-l), `zstd --rm`, `lz4 --rm`, `zip -m`/`--move`. A computed
 * word among the options counts, since it may be any of them.
 */
function compressorDeletes(prog: string, rest: readonly Word[]): string | undefined {
  const says = (why: string) => `\`${prog}\` ${why} (counted as unresolved)`;
  if (prog === "zstd" || prog === "unzstd" || prog === "lz4") {
    const rm = rest.find((w) => w.text === "--rm" || w.dynamic);
    return rm
      ? says(rm.dynamic ? `with ${rm.dynamic} among its options may delete files` : "--rm deletes files")
      : undefined;
  }
  if (prog === "zip") {
    const move = rest.find((w) => w.dynamic || w.text === "--move" || /^-[A-Za-z0-9]*m/.test(w.text));
    return move
      ? says(
          move.dynamic
            ? `with ${move.dynamic} among its options may delete files`
            : "-m deletes the files it adds",
        )
      : undefined;
  }
  if (!REPLACING_COMPRESSORS.has(prog)) return undefined;
  let keeps = false;
  let files = 0;
  let options = true;
  for (const w of rest) {
    const t = w.text;
    if (w.dynamic) return says(`with ${w.dynamic} in its arguments may replace (delete) a file`);
    if (options && t === "--") {
      options = false;
      continue;
    }
    if (options && t.startsWith("--")) keeps ||= KEEPING_LONG.test(t);
    else if (options && t.startsWith("-") && t !== "-") keeps ||= /[kctlhV]/.test(t.slice(1));
    else if (t !== "-") files++;
  }
  return files > 0 && !keeps ? says("replaces each file it is given (the original is deleted)") : undefined;
}

function walkGit(rest: readonly Word[], out: Collector): undefined {
  for (const w of rest) {
    const t = w.text;
    if (
      /^(-c|--config-env|--exec-path|--upload-pack|--receive-pack|-u|--config|--template|--ext)$/.test(t) ||
      /^--(config-env|exec-path|upload-pack|receive-pack)=/.test(t) ||
      /^-c./.test(t)
    )
      return out.unknown(`\`git ${t}\` can make git run a command`);
  }
  const sub = rest.find((w) => !w.text.startsWith("-"));
  if (
    sub &&
    /^(submodule|filter-branch|bisect|rebase|difftool|mergetool|daemon|instaweb|send-email|am|config)$/.test(
      sub.text,
    )
  )
    out.unknown(`\`git ${sub.text}\` can run commands`);
}

function walkWatch(rest: readonly Word[], out: Collector, deeper: Walk): undefined {
  let j = 0;
  let execMode = false;
  const spec = WRAPPERS.watch as WrapperSpec;
  while (j < rest.length) {
    const t = rest[j]?.text ?? "";
    if (t === "--") {
      j++;
      break;
    }
    if (spec.values?.includes(t)) j += 2;
    else if (t === "-x" || t === "--exec") {
      execMode = true;
      j++;
    } else if (t.startsWith("-")) j++;
    else break;
  }
  const command = rest.slice(j);
  if (execMode) return walkCommand(command, out, deeper);
  // watch runs its words joined with spaces through `sh -c`.
  const dyn = command.find((w) => w.dynamic);
  if (dyn) return out.unknown(`${dyn.dynamic} in the command of \`watch\``);
  walkScript(command.map((w) => w.text).join(" "), out, deeper);
}

function walkWrapper(
  prog: string,
  spec: WrapperSpec,
  rest: readonly Word[],
  out: Collector,
  walk: Walk,
  deeper: Walk,
): undefined {
  let j = 0;
  let operands = spec.operands ?? 0;
  let replace: string | undefined;
  let shellMode = false;
  while (j < rest.length) {
    const w = rest[j] as Word;
    const t = w.text;
    if (w.dynamic)
      return out.unknown(`${w.dynamic} in the arguments of \`${prog}\` ${quoteForMessage(w.raw)}`);
    if (t === "--") {
      j++;
      break;
    }
    if (spec.noCommand?.includes(t)) return;
    if (spec.script?.includes(t)) return scriptWord(prog, rest[j + 1], out, deeper);
    const long = t.startsWith("--") ? t.split("=")[0] : undefined;
    if (prog === "env" && t === "-") {
      j++;
      continue;
    }
    if (prog === "env" && (t === "-S" || t.startsWith("-S") || t.startsWith("--split-string")))
      return out.unknown("`env -S` splits a string into a command");
    if (prog === "xargs") {
      if (t === "-I" || t === "--replace") replace = rest[j + 1]?.text ?? "{}";
      else if (t.startsWith("-I")) replace = t.slice(2);
      else if (t.startsWith("--replace=")) replace = t.slice(10);
      else if (t === "-i") replace = "{}";
      else if (/^-i./.test(t)) replace = t.slice(2);
    }
    if ((prog === "sudo" || prog === "doas") && /^-[A-Za-z]*[si]/.test(t) && !t.startsWith("--"))
      shellMode = true;
    if (prog === "sudo" && (t === "--shell" || t === "--login")) shellMode = true;
    if (prog === "sudo" && (t === "-e" || t === "--edit")) return out.unknown("`sudo -e` runs an editor");
    if (spec.values?.includes(t) && !(long && t.includes("="))) j += 2;
    else if (t.startsWith("-") && t.length > 1) j++;
    else if (
      ASSIGNMENT.test(t) &&
      (prog === "env" || prog === "sudo" || prog === "doas" || prog === "exec")
    ) {
      checkAssignment(w, out);
      j++;
    } else if (operands > 0) {
      operands--;
      j++;
    } else break;
  }
  let command = rest.slice(j);
  if (replace) {
    const r = replace;
    command = command.map((w) =>
      w.text.includes(r) && !w.dynamic ? { ...w, dynamic: `a word xargs substitutes (${r})` } : w,
    );
  }
  if (command.length === 0) {
    if (operands > 0 && !["chroot", "script"].includes(prog)) return; // `timeout` alone: an error, nothing runs
    if (prog === "xargs") return out.program("echo");
    // These start a shell when given no command (`script` runs $SHELL, `nsenter`/`unshare` run $SHELL too).
    if (shellMode || ["chroot", "script", "nsenter", "unshare"].includes(prog))
      return readsCommandsFromStdin(prog, out, walk, deeper);
    if (walk.argsAppended) out.unknown(`xargs supplies the command of \`${prog}\` from its input`);
    return;
  }
  // The wrapped command shares the wrapper's stdin (so `sudo sh` at the top is as interactive as `sh`); xargs's does
  // not, and xargs appends words from its input to it (`xargs sh -c` takes its script from there).
  const inner: Walk = {
    depth: deeper.depth,
    nested: prog === "xargs" ? true : walk.nested,
    ...(prog === "xargs" || walk.argsAppended ? { argsAppended: true } : {}),
  };
  if (prog === "busybox" && command[0]?.text.startsWith("-")) return;
  walkCommand(command, out, inner);
}

// ---------------------------------------------------------------------------------------------------------------
// The script reader: shell text → simple commands of words, with substitutions read as commands of their own.

interface Parsed {
  words: Word[];
  heredocs: string[];
}

interface PendingHeredoc {
  delimiter: string;
  /** A quoted delimiter (`'EOF'`, `"EOF"`, `\EOF`) keeps the body literal; unquoted, the shell expands it. */
  quoted: boolean;
  stripTabs: boolean;
  target: Parsed;
}

/**
 * Splits a script into simple commands. Commands inside `$(…)`, backticks, `<(…)`, `>(…)` and `${…}` are parsed
 * (recursively) into `out`'s walk as they are met; the word that holds them is marked dynamic.
 */
function parseScript(script: string, out: Collector, walk: Walk): Parsed[] {
  const commands: Parsed[] = [];
  const deeper: Walk = { depth: walk.depth + 1, nested: true };
  let current: Parsed = { words: [], heredocs: [] };
  let text = "";
  let raw = "";
  let inWord = false;
  let dynamic: string | undefined;
  let pending: PendingHeredoc[] = [];
  let redirect = false; // the next word is a redirection target
  let heredocNext: { stripTabs: boolean } | undefined;
  const n = script.length;
  let i = 0;

  const markDynamic = (reason: string) => {
    dynamic ??= reason;
    inWord = true;
  };
  const endWord = () => {
    if (inWord) {
      if (heredocNext) {
        pending.push({
          delimiter: text,
          quoted: /['"\\]/.test(raw),
          stripTabs: heredocNext.stripTabs,
          target: current,
        });
        heredocNext = undefined;
      } else if (redirect) {
        redirect = false;
      } else {
        current.words.push({ text, raw, ...(dynamic ? { dynamic } : {}) });
      }
    }
    text = "";
    raw = "";
    inWord = false;
    dynamic = undefined;
  };
  const endCommand = () => {
    endWord();
    if (current.words.length) commands.push(current);
    current = { words: [], heredocs: [] };
  };
  /** Reads up to the `)` closing a `$(`/`<(`; returns the inner text (quotes and nesting respected). */
  const readParen = (): string | undefined => {
    const start = i;
    let depthParen = 1;
    let q = "";
    for (; i < n; i++) {
      const c = script[i] ?? "";
      if (q === "'") {
        if (c === "'") q = "";
        continue;
      }
      if (c === "\\") {
        i++;
        continue;
      }
      if (q === '"') {
        if (c === '"') q = "";
        continue;
      }
      if (c === "'" || c === '"') q = c;
      else if (c === "(") depthParen++;
      else if (c === ")") {
        depthParen--;
        if (depthParen === 0) {
          const inner = script.slice(start, i);
          return inner;
        }
      }
    }
    return undefined;
  };
  const readBacktick = (): string | undefined => {
    let inner = "";
    for (; i < n; i++) {
      const c = script[i] ?? "";
      if (c === "\\" && i + 1 < n) {
        const d = script[i + 1] ?? "";
        inner += "$`\\".includes(d) ? d : c + d;
        i++;
        continue;
      }
      if (c === "`") return inner;
      inner += c;
    }
    return undefined;
  };
  /** At a backtick: walks the command it substitutes and appends its raw text; false when it never closes. */
  const readBacktickSubstitution = (): boolean => {
    i++;
    const inner = readBacktick();
    if (inner === undefined) return false;
    walkScript(inner, out, deeper);
    markDynamic("command substitution");
    raw += `\`${inner}\``;
    return true;
  };
  /** At `$`: reads an expansion and its nested commands; appends its raw text. */
  const readDollar = (inDouble: boolean) => {
    const next = script[i + 1] ?? "";
    if (next === "(" && script[i + 2] === "(") {
      const start = i;
      i += 3;
      const inner = readParen();
      if (inner === undefined) return unreadable("unterminated $((");
      i++; // second )
      if (/[`$[]/.test(inner)) {
        // $(( a[$(cmd)] )): array subscripts and substitutions inside arithmetic run commands.
        out.unknown(
          `arithmetic expansion that can run commands ${quoteForMessage(script.slice(start, i + 1))}`,
        );
      }
      raw += script.slice(start, i + 1);
      markDynamic("arithmetic expansion");
      return;
    }
    if (next === "(") {
      const start = i;
      i += 2;
      const inner = readParen();
      if (inner === undefined) return unreadable("unterminated $(");
      raw += script.slice(start, i + 1);
      walkScript(inner, out, deeper);
      markDynamic("command substitution");
      return;
    }
    if (next === "{") {
      const start = i;
      i += 2;
      let depthBrace = 1;
      let q = "";
      for (; i < n; i++) {
        const c = script[i] ?? "";
        if (q === "'") {
          if (c === "'") q = "";
          continue;
        }
        if (c === "\\") {
          i++;
          continue;
        }
        if (c === "'" && !inDouble) q = c;
        else if (c === "$" && script[i + 1] === "(") {
          out.unknown(
            `command substitution inside a parameter expansion ${quoteForMessage(script.slice(start, i + 2))}`,
          );
        } else if (c === "`") out.unknown("command substitution inside a parameter expansion");
        else if (c === "{") depthBrace++;
        else if (c === "}") {
          depthBrace--;
          if (depthBrace === 0) break;
        }
      }
      if (i >= n) return unreadable("unterminated ${");
      raw += script.slice(start, i + 1);
      markDynamic("parameter expansion");
      return;
    }
    if (next === "'" && !inDouble) {
      // $'…' ANSI-C quoting: decoded, so `$'\x72m'` is `rm`.
      i += 2;
      const start = i - 2;
      let decoded = "";
      for (; i < n && script[i] !== "'"; i++) {
        const c = script[i] ?? "";
        if (c !== "\\") {
          decoded += c;
          continue;
        }
        const d = script[i + 1] ?? "";
        const simple: Record<string, string> = {
          n: "\n",
          t: "\t",
          r: "\r",
          a: "\u0007",
          b: "\b",
          e: "\u001b",
          E: "\u001b",
          f: "\f",
          v: "\v",
          "\\": "\\",
          "'": "'",
          '"': '"',
          "?": "?",
        };
        if (simple[d] !== undefined) {
          decoded += simple[d];
          i++;
        } else if (d === "x") {
          const m = /^[0-9A-Fa-f]{1,2}/.exec(script.slice(i + 2));
          decoded += m ? String.fromCharCode(Number.parseInt(m[0], 16)) : "\\x";
          i += 1 + (m?.[0].length ?? 0);
        } else if (/[0-7]/.test(d)) {
          const m = /^[0-7]{1,3}/.exec(script.slice(i + 1)) as RegExpExecArray;
          decoded += String.fromCharCode(Number.parseInt(m[0], 8) & 0xff);
          i += m[0].length;
        } else if (d === "u" || d === "U") {
          const m = new RegExp(`^[0-9A-Fa-f]{1,${d === "u" ? 4 : 8}}`).exec(script.slice(i + 2));
          decoded += m ? String.fromCodePoint(Math.min(Number.parseInt(m[0], 16), 0x10ffff)) : `\\${d}`;
          i += 1 + (m?.[0].length ?? 0);
        } else {
          // \cX control characters and anything else: not worth guessing.
          markDynamic("an escape the gateway does not decode");
          decoded += d;
          i++;
        }
      }
      if (i >= n) return unreadable("unterminated $'");
      text += decoded;
      raw += script.slice(start, i + 1);
      inWord = true;
      return;
    }
    if (next === '"' && !inDouble) {
      // $"…" is a locale-translated double-quoted string: read as "…" (the loop reads the quote next).
      raw += "$";
      return;
    }
    const m = /^([A-Za-z_][A-Za-z0-9_]*|[0-9]|[@*#?$!-])/.exec(script.slice(i + 1));
    if (m) {
      raw += `$${m[0]}`;
      i += m[0].length;
      markDynamic("parameter expansion");
      return;
    }
    text += "$";
    raw += "$";
    inWord = true;
  };
  let failed = false;
  const unreadable = (why: string) => {
    out.unknown(`script cannot be read (${why})`);
    failed = true;
    i = n;
  };

  for (; i < n && !failed; i++) {
    const c = script[i] ?? "";
    // Here-document bodies start after the newline that ends the line holding their `<<`.
    if (c === "\n" && (pending.length || heredocNext)) endWord();
    if (c === "\n" && pending.length) {
      endCommand();
      for (const h of pending) {
        let body = "";
        let closed = false;
        i++;
        for (;;) {
          if (i >= n) break;
          const eol = script.indexOf("\n", i);
          const lineEnd = eol < 0 ? n : eol;
          let line = script.slice(i, lineEnd);
          if (h.stripTabs) line = line.replace(/^\t+/, "");
          i = lineEnd + 1;
          if (line === h.delimiter) {
            closed = true;
            break;
          }
          body += `${line}\n`;
        }
        if (!closed) out.unknown("here-document without a body");
        // Unquoted, the shell runs $(…) and `…` inside the body whatever the command does with its input.
        if (!h.quoted && /\$\(|`/.test(body))
          out.unknown("command substitution inside a here-document (unquoted delimiter)");
        h.target.heredocs.push(body);
      }
      pending = [];
      i--; // the loop's i++ lands on the first character after the last body
      continue;
    }
    if (c === "\\") {
      if (script[i + 1] === "\n") {
        i++;
        continue;
      }
      if (i + 1 < n) {
        text += script[i + 1];
        raw += c + script[i + 1];
        inWord = true;
        i++;
      }
      continue;
    }
    if (c === "'") {
      const end = script.indexOf("'", i + 1);
      if (end < 0) return unreadableAndReturn();
      text += script.slice(i + 1, end);
      raw += script.slice(i, end + 1);
      inWord = true;
      i = end;
      continue;
    }
    if (c === '"') {
      const start = i;
      inWord = true;
      raw += '"';
      for (i++; i < n; i++) {
        const d = script[i] ?? "";
        if (d === '"') break;
        if (d === "\\" && i + 1 < n) {
          const e = script[i + 1] ?? "";
          if ('$`"\\\n'.includes(e)) {
            if (e !== "\n") text += e;
          } else text += d + e;
          raw += d + e;
          i++;
          continue;
        }
        if (d === "$") {
          readDollar(true);
          continue;
        }
        if (d === "`") {
          if (!readBacktickSubstitution()) return unreadableAndReturn();
          continue;
        }
        text += d;
        raw += d;
      }
      if (i >= n) {
        out.unknown(`script cannot be read (unterminated quote at ${start})`);
        return commands;
      }
      raw += '"';
      continue;
    }
    if (c === "$") {
      readDollar(false);
      continue;
    }
    if (c === "`") {
      if (!readBacktickSubstitution()) return unreadableAndReturn();
      continue;
    }
    if ((c === "<" || c === ">") && script[i + 1] === "(") {
      // Process substitution: the command inside runs.
      i += 2;
      const inner = readParen();
      if (inner === undefined) return unreadableAndReturn();
      walkScript(inner, out, deeper);
      markDynamic("process substitution");
      raw += `${c}(${inner})`;
      continue;
    }
    if (c === "#" && !inWord) {
      while (i + 1 < n && script[i + 1] !== "\n") i++;
      continue;
    }
    if (c === " " || c === "\t") {
      endWord();
      continue;
    }
    if (c === "\n" || c === ";" || c === "&" || c === "|") {
      endCommand();
      continue;
    }
    if (c === "(") {
      // `name ()` defines a function; otherwise a subshell or `((` arithmetic.
      const wordsSoFar = current.words.length + (inWord ? 1 : 0);
      if (wordsSoFar === 1 && /^\s*\)/.test(script.slice(i + 1))) {
        out.unknown("function defined in the script");
        endCommand();
        i = script.indexOf(")", i);
        continue;
      }
      if (script[i + 1] === "(" && wordsSoFar === 0) {
        // (( arithmetic )): its text is data, but substitutions in it run.
        i += 2;
        const inner = readParen();
        if (inner === undefined) return unreadableAndReturn();
        i++;
        if (/[`$[]/.test(inner)) out.unknown("arithmetic command that can run commands");
        continue;
      }
      endCommand();
      continue;
    }
    if (c === ")") {
      endCommand();
      continue;
    }
    if (c === "<" || c === ">") {
      // Redirections: `<<`/`<<-` start a here-document, `<<<` a here-string, others name a file or descriptor.
      const wasWord = inWord && /^[0-9]+$|^\{[A-Za-z_][A-Za-z0-9_]*\}$/.test(text) && !dynamic;
      if (wasWord) {
        text = "";
        raw = "";
        inWord = false;
      } else endWord();
      if (c === "<" && script[i + 1] === "<" && script[i + 2] !== "<") {
        i++;
        const strip = script[i + 1] === "-";
        if (strip) i++;
        heredocNext = { stripTabs: strip };
        continue;
      }
      while (i + 1 < n && /[<>&|]/.test(script[i + 1] ?? "")) i++;
      if (script[i] === "&" && /[0-9-]/.test(script[i + 1] ?? "")) {
        while (i + 1 < n && /[0-9-]/.test(script[i + 1] ?? "")) i++;
        continue;
      }
      redirect = true;
      continue;
    }
    if (!inWord || dynamic === undefined) {
      // Globs and braces in a word make it a pattern: unquoted only (quoted text was consumed above).
      if (c === "*" || c === "?" || (c === "[" && /^\[[^\s\]]+\]/.test(script.slice(i)))) markDynamic("glob");
      else if (c === "{" && /^\{[^\s}]*(,|\.\.)[^\s]*\}/.test(script.slice(i)))
        markDynamic("brace expansion");
      else if (c === "~" && !inWord) markDynamic("tilde expansion");
    }
    text += c;
    raw += c;
    inWord = true;
  }
  if (heredocNext || pending.length) {
    // A here-document without its body (or its delimiter line) cannot be read.
    if (pending.some((p) => p.target.heredocs.length === 0) || heredocNext)
      out.unknown("here-document without a body");
  }
  endCommand();
  return commands;

  function unreadableAndReturn(): Parsed[] {
    out.unknown("script cannot be read (unterminated quote or substitution)");
    return commands;
  }
}

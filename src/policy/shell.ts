// Which programs an exec argv runs: argv[0], and — because `sh -c "rm -rf /"` must be as catchable as `rm -rf /` —
// the commands inside shell scripts given with -c, eval, wrappers such as sudo/env/timeout/xargs/busybox, and
// `find -exec`. Pure.
//
// Security stance: this is a best-effort reading of shell syntax meant to over-report rather than under-report:
// separators (; & | && || newlines, parentheses, `$(`, backticks) start a new command even inside double quotes, and
// names are compared by basename (`/bin/rm` is `rm`). It cannot see what an interactive shell is later told on stdin:
// policies that must rule that out deny `exec: { stdin: true }` (docs/policy.md).

const SHELLS = new Set(["sh", "bash", "dash", "zsh", "ash", "ksh", "mksh", "yash", "fish", "su"]);
const WRAPPERS = new Set([
  "sudo",
  "doas",
  "env",
  "nice",
  "nohup",
  "timeout",
  "time",
  "xargs",
  "exec",
  "command",
  "builtin",
  "busybox",
  "stdbuf",
  "ionice",
  "setsid",
  "chroot",
  "watch",
  "strace",
  "unbuffer",
  "flock",
  "chrt",
  "taskset",
]);
/** Wrapper options that take a value (`sudo -u root rm`), and wrappers whose first operand is not the command. */
const VALUE_OPTIONS: Record<string, Set<string>> = {
  sudo: new Set(["-u", "-g", "-C", "-D", "-h", "-p", "-r", "-t", "-U", "-T", "-R"]),
  doas: new Set(["-u", "-C"]),
  env: new Set(["-u", "-C", "-S", "--unset", "--chdir"]),
  timeout: new Set(["-s", "-k", "--signal", "--kill-after"]),
  nice: new Set(["-n", "--adjustment"]),
  ionice: new Set(["-c", "-n", "-p", "-P", "-u"]),
  xargs: new Set(["-I", "-n", "-P", "-d", "-E", "-L", "-s", "-a", "-i", "-l"]),
  stdbuf: new Set(["-i", "-o", "-e"]),
  watch: new Set(["-n", "-d"]),
  strace: new Set(["-e", "-o", "-p", "-s", "-u"]),
  flock: new Set(["-w", "-E", "-c"]),
};
const FIRST_OPERAND_SKIPPED = new Set(["chroot", "flock", "taskset", "chrt"]);
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
  "for",
  "!",
  "{",
  "}",
]);
const MAX_DEPTH = 5;

function basename(word: string): string {
  const i = word.lastIndexOf("/");
  return i >= 0 ? word.slice(i + 1) : word;
}

const ASSIGNMENT = /^[A-Za-z_][A-Za-z0-9_]*=/;
const NUMERIC = /^[0-9.]+[smhd]?$/;

/** The programs an exec argv would run, by basename, in order of appearance (duplicates kept out). */
export function programsOf(argv: readonly string[]): string[] {
  const out: string[] = [];
  walkCommand(argv, out, 0);
  return [...new Set(out)];
}

function walkCommand(words: readonly string[], out: string[], depth: number): void {
  if (depth > MAX_DEPTH) return;
  let i = 0;
  while (i < words.length && (ASSIGNMENT.test(words[i] ?? "") || KEYWORDS.has(words[i] ?? ""))) i++;
  const first = words[i];
  if (first === undefined || first === "") return;
  const prog = basename(first);
  out.push(prog);
  const rest = words.slice(i + 1);
  if (SHELLS.has(prog)) {
    const script = shellScriptArgument(rest);
    if (script !== undefined) out.push(...programsOfScript(script, depth + 1));
    return;
  }
  if (prog === "eval") {
    out.push(...programsOfScript(rest.join(" "), depth + 1));
    return;
  }
  if (WRAPPERS.has(prog)) {
    // The wrapped command starts at the first word that is not an option, assignment or number (timeout 5, nice -n 10).
    const valued = VALUE_OPTIONS[prog];
    let j = 0;
    let skipOperand = FIRST_OPERAND_SKIPPED.has(prog);
    while (j < rest.length) {
      const w = rest[j] ?? "";
      if (w === "--") {
        j++;
        break;
      }
      if (valued?.has(w)) j += 2;
      else if (w.startsWith("-") || ASSIGNMENT.test(w) || NUMERIC.test(w)) j++;
      else if (skipOperand) {
        skipOperand = false;
        j++;
      } else break;
    }
    walkCommand(rest.slice(j), out, depth + 1);
    return;
  }
  if (prog === "find") {
    for (let j = 0; j < rest.length; j++) {
      if (["-exec", "-execdir", "-ok", "-okdir"].includes(rest[j] ?? ""))
        walkCommand(rest.slice(j + 1), out, depth + 1);
    }
  }
}

/** The script of `sh -c SCRIPT` / `bash -ec SCRIPT` / `su -c SCRIPT`; undefined when the shell reads a file or stdin. */
function shellScriptArgument(args: readonly string[]): string | undefined {
  let sawC = false;
  for (let j = 0; j < args.length; j++) {
    const w = args[j] ?? "";
    if (w === "--") return sawC ? args[j + 1] : undefined;
    if (w === "--command") return args[j + 1];
    if (/^-[A-Za-z]+$/.test(w)) {
      if (w.includes("c")) sawC = true;
      if (w === "-o" || w === "-O") j++; // set -o option takes a value
      continue;
    }
    if (w.startsWith("--")) continue;
    return sawC ? w : undefined;
  }
  return undefined;
}

/** Splits a shell script into simple commands (best effort, see the header) and collects their programs. */
export function programsOfScript(script: string, depth = 0): string[] {
  const out: string[] = [];
  if (depth > MAX_DEPTH) return out;
  for (const command of splitScript(script)) walkCommand(command, out, depth);
  return out;
}

function splitScript(script: string): string[][] {
  const commands: string[][] = [];
  let words: string[] = [];
  let word = "";
  let inWord = false;
  let quote: "'" | '"' | "" = "";
  const endWord = () => {
    if (inWord) words.push(word);
    word = "";
    inWord = false;
  };
  const endCommand = () => {
    endWord();
    if (words.length) commands.push(words);
    words = [];
  };
  for (let i = 0; i < script.length; i++) {
    const c = script[i] ?? "";
    if (quote === "'") {
      if (c === "'") quote = "";
      else word += c;
      continue;
    }
    if (c === "\\" && i + 1 < script.length) {
      word += script[i + 1];
      inWord = true;
      i++;
      continue;
    }
    if (c === "$" && script[i + 1] === "(") {
      // A command substitution runs even inside double quotes: read it as unquoted.
      endCommand();
      quote = "";
      i++;
      continue;
    }
    if (c === "`") {
      endCommand();
      quote = "";
      continue;
    }
    if (
      c === "`" ||
      c === "(" ||
      c === ")" ||
      c === "\n" ||
      (!quote && (c === ";" || c === "&" || c === "|"))
    ) {
      endCommand();
      continue;
    }
    if (quote === '"') {
      if (c === '"') quote = "";
      else word += c;
      continue;
    }
    if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
      continue;
    }
    if (c === " " || c === "\t") {
      endWord();
      continue;
    }
    if (c === "<" || c === ">") {
      // Redirections: the target is not a program; drop `>file` / `2>&1` style words.
      endWord();
      while (i + 1 < script.length && /[<>&0-9]/.test(script[i + 1] ?? "")) i++;
      while (i + 1 < script.length && script[i + 1] === " ") i++;
      while (i + 1 < script.length && !/[\s;&|()]/.test(script[i + 1] ?? "")) i++;
      continue;
    }
    word += c;
    inWord = true;
  }
  endCommand();
  return commands;
}

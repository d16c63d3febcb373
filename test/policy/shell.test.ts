// The exec command analysis (src/policy/shell.ts) as a class: every way a hostile agent hides a program from a
// `commandMatches` rule is either resolved to the program or reported unresolved — and policy turns unresolved into
// "matches" for deny rules and "does not match" for allow rules.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  analyzeCommand,
  analyzeScript,
  programsOf,
  sedDanger,
  tarRunsCommand,
} from "../../src/policy/shell.ts";
import { decide, engineOf, policy, type Req } from "./support.ts";

type Expect = { programs: string[] } | { unresolved: RegExp; programs?: string[] };

const sh = (script: string) => ["sh", "-c", script];

/** [what, argv, expected]: resolved programs exactly, or unresolved with a reason matching the pattern. */
const CLASS: [string, string[], Expect][] = [
  // resolved: the program is known whatever the spelling
  ["plain", ["ls", "-l"], { programs: ["ls"] }],
  ["gzip -c writes stdout and keeps the file", ["gzip", "-c", "f"], { programs: ["gzip"] }],
  ["gzip -k keeps the file", ["gzip", "-9k", "f"], { programs: ["gzip"] }],
  ["gzip on stdin", sh("cat f | gzip > f.gz"), { programs: ["sh", "cat", "gzip"] }],
  ["gunzip --stdout", ["gunzip", "--stdout", "x.gz"], { programs: ["gunzip"] }],
  ["zip without -m", ["zip", "-r", "a.zip", "/srv"], { programs: ["zip"] }],
  ["zstd keeps by default", ["zstd", "f"], { programs: ["zstd"] }],
  ["absolute path, by basename", ["/bin/rm", "-rf", "/"], { programs: ["rm"] }],
  ["system path with doubled slashes", ["//usr//bin//rm", "x"], { programs: ["rm"] }],
  ["sh -c", sh("rm -rf /"), { programs: ["sh", "rm"] }],
  ["bash -ec with &&", ["bash", "-ec", "cd /tmp && rm -rf x"], { programs: ["bash", "cd", "rm"] }],
  ["quoted text is not a program", sh("echo 'rm -rf /'"), { programs: ["sh", "echo"] }],
  ["split quoting 'r''m'", sh("'r''m' x"), { programs: ["sh", "rm"] }],
  ["double-quoted name", sh('"rm" x'), { programs: ["sh", "rm"] }],
  ["backslash inside r\\m", sh("r\\m x"), { programs: ["sh", "rm"] }],
  ["leading backslash \\rm", sh("\\rm x"), { programs: ["sh", "rm"] }],
  ["ANSI-C quoting $'\\x72m'", sh("$'\\x72m' x"), { programs: ["sh", "rm"] }],
  ["ANSI-C octal $'\\162\\155'", sh("$'\\162\\155' x"), { programs: ["sh", "rm"] }],
  ["line continuation r\\<newline>m", sh("r\\\nm x"), { programs: ["sh", "rm"] }],
  ["$(…) inside double quotes runs", sh('echo "$(rm -rf /)"'), { programs: ["sh", "rm", "echo"] }],
  ["backticks run", sh("echo `rm x`"), { programs: ["sh", "rm", "echo"] }],
  ["process substitution runs", sh("diff <(rm x) >(ls)"), { programs: ["sh", "rm", "ls", "diff"] }],
  ["pipeline into xargs", sh("ls | xargs rm"), { programs: ["sh", "ls", "xargs", "rm"] }],
  ["assignment prefix and sudo -u", sh("FOO=1 sudo -u root rm x"), { programs: ["sh", "sudo", "rm"] }],
  [
    "env, timeout, dd",
    ["env", "A=b", "timeout", "5", "dd", "if=/dev/zero"],
    { programs: ["env", "timeout", "dd"] },
  ],
  [
    "nested shells at any depth",
    ["bash", "-c", `bash -c "sh -c 'bash -c \\"rm x\\"'"`],
    { programs: ["bash", "sh", "rm"] },
  ],
  ["keywords", sh("if true; then mkfs.ext4 /dev/sda; fi"), { programs: ["sh", "true", "mkfs.ext4"] }],
  ["loop body", sh("for f in a b; do rm $f; done"), { programs: ["sh", "rm"] }],
  ["subshell and group", sh("(ls); { rm x; }"), { programs: ["sh", "ls", "rm"] }],
  ["find -exec static", ["find", "/", "-name", "x", "-exec", "rm", "{}", ";"], { programs: ["find", "rm"] }],
  [
    "redirect target is not a program",
    sh("echo hi > /tmp/rm; cat </tmp/rm 2>&1"),
    { programs: ["sh", "echo", "cat"] },
  ],
  ["busybox applet", ["busybox", "rm", "x"], { programs: ["busybox", "rm"] }],
  [
    "wrappers: nice, nohup, setsid, stdbuf, chroot",
    ["nice", "-n", "5", "nohup", "setsid", "stdbuf", "-oL", "chroot", "/", "shred", "x"],
    { programs: ["nice", "nohup", "setsid", "stdbuf", "chroot", "shred"] },
  ],
  [
    "command/builtin/exec",
    sh("command rm a; builtin exec rm b"),
    { programs: ["sh", "command", "rm", "builtin", "exec"] },
  ],
  ["su -c", ["su", "-c", "rm x", "root"], { programs: ["su", "rm"] }],
  ["sudo -i with a command", ["sudo", "-i", "rm", "x"], { programs: ["sudo", "rm"] }],
  [
    "watch runs its words through sh -c",
    ["watch", "-n", "1", "rm x; ls"],
    { programs: ["watch", "rm", "ls"] },
  ],
  [
    "timeout with options",
    ["timeout", "-s", "KILL", "5s", "unlink", "x"],
    { programs: ["timeout", "unlink"] },
  ],
  ["xargs runs echo by default", sh("ls | xargs"), { programs: ["sh", "ls", "xargs", "echo"] }],
  ["here-document fed to a shell is read", sh("sh <<EOF\nrm x\nEOF\n"), { programs: ["sh", "rm"] }],
  ["here-document to cat is data", sh("cat <<'EOF'\nrm x\nEOF\nls"), { programs: ["sh", "cat", "ls"] }],
  ["a quoted here-document keeps $(…) as data", sh("cat <<'EOF'\n$(rm x)\nEOF"), { programs: ["sh", "cat"] }],
  ["trap action is a script", sh("trap 'rm x' EXIT; ls"), { programs: ["sh", "trap", "rm", "ls"] }],
  ["arithmetic is data", sh("echo $((1+2))"), { programs: ["sh", "echo"] }],
  ["an interactive shell (stdin is exec.stdin: inspect's)", ["sh"], { programs: ["sh"] }],
  ["sudo sh at the top is interactive too", ["sudo", "sh"], { programs: ["sudo", "sh"] }],
  ["interpreter version", ["python3", "--version"], { programs: ["python3"] }],
  ["kubectl cp download", ["tar", "cf", "-", "/tmp/x"], { programs: ["tar"] }],
  ["kubectl cp upload", ["tar", "-xmf", "-", "-C", "/tmp"], { programs: ["tar"] }],
  ["sed without e/w", ["sed", "-n", "s/a/b/gp;1d"], { programs: ["sed"] }],
  ["awk without commands", ["awk", "-F:", "{print $1}"], { programs: ["awk"] }],
  ["case patterns are not programs", sh("case $x in rm) ls;; esac"), { programs: ["sh", "ls"] }],
  ["[ test ]", sh("if [ -f x ]; then ls; fi"), { programs: ["sh", "[", "ls"] }],
  ["globs in arguments are fine", sh("ls *.txt"), { programs: ["sh", "ls"] }],
  ["assignment with substitution before a command", sh("x=$(date) ls"), { programs: ["sh", "date", "ls"] }],

  // unresolved: what runs cannot be known statically
  [
    "parameter expansion in command position",
    sh("X=rm; $X f"),
    { unresolved: /parameter expansion in command position `\$X`/ },
  ],
  // biome-ignore lint/suspicious/noTemplateCurlyInString: shell text, not a template
  ["${X}", sh("${X} f"), { unresolved: /parameter expansion in command position/ }],
  ["quoted expansion", sh('"$X" f'), { unresolved: /parameter expansion in command position/ }],
  [
    "command substitution in command position",
    sh("$(echo rm) f"),
    { unresolved: /command substitution in command position `\$\(echo rm\)`/ },
  ],
  [
    "backticks in command position",
    sh("`echo rm` f"),
    { unresolved: /command substitution in command position/ },
  ],
  [
    "pieces glued together",
    sh("a=r;b=m;$a$b f"),
    { unresolved: /parameter expansion in command position `\$a\$b`/ },
  ],
  [
    "IFS: a word with an expansion is not one word",
    // biome-ignore lint/suspicious/noTemplateCurlyInString: shell text, not a template
    ["bash", "-c", "rm${IFS}f"],
    { unresolved: /parameter expansion in command position `rm\$\{IFS\}f`/ },
  ],
  [
    "positional parameter",
    ["sh", "-c", '"$0" x', "rm"],
    { unresolved: /parameter expansion in command position/ },
  ],
  ["eval", sh("eval rm x"), { unresolved: /`eval`/ }],
  ["eval at the top", ["eval", "rm x"], { unresolved: /`eval`/ }],
  ["source", sh("source /tmp/x"), { unresolved: /`source`/ }],
  ["dot", sh(". /tmp/x"), { unresolved: /`\.`/ }],
  ["exec of a computed program", sh("exec $X"), { unresolved: /exec/ }],
  ["glob in command position", sh("/bin/r? x"), { unresolved: /glob in command position `\/bin\/r\?`/ }],
  ["bracket glob", sh("/bin/[r]m x"), { unresolved: /glob in command position/ }],
  [
    "brace expansion in command position",
    sh("/bin/{rm,ls} x"),
    { unresolved: /brace expansion in command position/ },
  ],
  ["tilde path", sh("~/rm x"), { unresolved: /tilde expansion in command position/ }],
  ["function defined", sh("f() { rm x; }; f"), { unresolved: /function defined/ }],
  ["function keyword", sh("function f { ls; }; f"), { unresolved: /function defined/ }],
  ["alias defined", sh("alias l=rm; l x"), { unresolved: /`alias`/ }],
  ["PATH changed", sh("PATH=/tmp ls"), { unresolved: /sets PATH/ }],
  ["IFS changed", sh("IFS=/; x=a/rm; $x"), { unresolved: /sets IFS/ }],
  ["LD_PRELOAD", ["env", "LD_PRELOAD=/tmp/x.so", "ls"], { unresolved: /sets LD_PRELOAD/ }],
  ["BASH_ENV", sh("export BASH_ENV=/tmp/x; bash -c ls"), { unresolved: /sets BASH_ENV/ }],
  [
    "relative program path",
    sh("./rm x"),
    { unresolved: /path outside the system directories `\.\/rm`/, programs: ["sh", "rm"] },
  ],
  ["program in /tmp", ["/tmp/ls"], { unresolved: /path outside the system directories/ }],
  ["dot-dot out of a system dir", ["/bin/../tmp/ls"], { unresolved: /path outside the system directories/ }],
  [
    "shell reading piped commands",
    sh("echo rm x | sh"),
    { unresolved: /`sh` reads commands from its input/ },
  ],
  ["sh -s inside a script", sh("sh -s"), { unresolved: /reads commands from its input/ }],
  ["shell running a script file", ["sh", "/tmp/script.sh"], { unresolved: /runs a script file/ }],
  ["shell -c with a computed script", sh('bash -c "$CMD"'), { unresolved: /in the script of `bash -c`/ }],
  ["shell -c without a script", ["sh", "-c"], { unresolved: /without a script/ }],
  ["shell startup files", ["bash", "-lc", "ls"], { unresolved: /startup files/ }],
  ["here-string to a shell", sh('bash <<< "rm x"'), { unresolved: /reads commands from its input/ }],
  [
    "python -c",
    ["python3", "-c", "import os; os.unlink('x')"],
    { unresolved: /interpreter given inline code \(`python3 -c`\)/ },
  ],
  ["python script", ["python3", "/tmp/x.py"], { unresolved: /interpreter `python3`/ }],
  ["perl -e", ["perl", "-e", "unlink 'x'"], { unresolved: /`perl -e`/ }],
  ["perl -E", ["perl", "-E", "unlink 'x'"], { unresolved: /`perl -E`/ }],
  ["node -e", ["node", "-e", "require('fs').rmSync('x')"], { unresolved: /`node -e`/ }],
  ["node -p", ["node", "-p", "1"], { unresolved: /`node -p`/ }],
  ["ruby -e", ["ruby", "-e", "File.delete('x')"], { unresolved: /`ruby -e`/ }],
  ["php -r", ["php", "-r", "unlink('x');"], { unresolved: /`php -r`/ }],
  ["lua -e", ["lua", "-e", "os.remove('x')"], { unresolved: /`lua -e`/ }],
  ["python inside sh -c", sh("python3 -c 'import os'"), { unresolved: /python3 -c/ }],
  ["awk system()", ["awk", 'BEGIN{system("rm x")}'], { unresolved: /awk` program that can run commands/ }],
  ["awk pipe", ["awk", '{print | "sh"}'], { unresolved: /can run commands/ }],
  ["awk getline from a command", ["awk", 'BEGIN{"rm x" | getline}'], { unresolved: /can run commands/ }],
  ["awk program file", ["awk", "-f", "/tmp/p.awk"], { unresolved: /from a file/ }],
  ["sed e command", ["sed", "e rm x"], { unresolved: /runs a command \(e\)/ }],
  ["sed s///e", ["sed", "s/.*/rm x/e"], { unresolved: /s\/\/\/e/ }],
  ["sed w", ["sed", "-n", "w /etc/passwd"], { unresolved: /writes a file/ }],
  ["sed -e with e", ["sed", "-e", "1e rm x"], { unresolved: /runs a command/ }],
  ["find -delete", ["find", ".", "-delete"], { unresolved: /find -delete/ }],
  [
    "$(…) in an unquoted here-document body runs",
    sh("cat <<EOF\n$(rm -rf /tmp/x)\nEOF"),
    { unresolved: /inside a here-document/ },
  ],
  [
    "backticks in an unquoted here-document body run",
    sh("cat <<EOF\n`rm x`\nEOF"),
    { unresolved: /here-document/ },
  ],
  [
    "find -exec {} in command position",
    ["find", ".", "-exec", "{}", ";"],
    { unresolved: /find substitutes/ },
  ],
  [
    "find -exec sh -c '{}'",
    ["find", ".", "-exec", "sh", "-c", "{}", ";"],
    { unresolved: /find substitutes/ },
  ],
  ["xargs supplies the command", sh("echo rm x | xargs env"), { unresolved: /xargs supplies the command/ }],
  ["xargs -I{} in command position", sh("ls | xargs -I{} {} x"), { unresolved: /xargs substitutes/ }],
  ["xargs sh -c '{}'", sh("ls | xargs -I{} sh -c '{}'"), { unresolved: /xargs substitutes/ }],
  [
    "xargs sh -c takes its script from input",
    sh("echo 'rm x' | xargs sh -c"),
    { unresolved: /without a script/ },
  ],
  ["xargs sh", sh("echo x | xargs sh"), { unresolved: /reads commands from its input/ }],
  ["sudo with a computed command", sh("sudo $CMD"), { unresolved: /arguments of `sudo`/ }],
  ["env -S", ["env", "-S", "rm x"], { unresolved: /env -S/ }],
  ["su reading piped commands", sh("echo rm x | su root"), { unresolved: /reads commands from its input/ }],
  ["busybox with a computed applet", sh("busybox $A x"), { unresolved: /busybox/ }],
  [
    "tar --checkpoint-action",
    ["tar", "cf", "-", "/dev/null", "--checkpoint=1", "--checkpoint-action=exec=sh 1>&2"],
    { unresolved: /tar option that runs a command/ },
  ],
  ["tar --to-command", ["tar", "xf", "-", "--to-command=sh"], { unresolved: /tar option/ }],
  ["tar abbreviated --to-com", ["tar", "xf", "-", "--to-com", "sh"], { unresolved: /tar option/ }],
  [
    "tar --use-compress-program",
    ["tar", "--use-compress-program=sh", "-xf", "-"],
    { unresolved: /tar option/ },
  ],
  ["tar -I", ["tar", "-I", "sh", "-xf", "-"], { unresolved: /tar option/ }],
  ["tar bundled -xIf", ["tar", "-xIf", "sh", "-"], { unresolved: /tar option/ }],
  ["tar old-style xIf", ["tar", "xIf", "sh", "-"], { unresolved: /tar option/ }],
  ["tar -F info script", ["tar", "-cM", "-F", "sh", "-f", "x"], { unresolved: /tar option/ }],
  [
    "tar --remove-files (deletes what it archives)",
    ["tar", "--remove-files", "-cf", "/dev/null", "/tmp/d"],
    { unresolved: /tar option that deletes files/ },
  ],
  [
    "tar abbreviated --remove",
    ["tar", "-cf", "/dev/null", "--remove", "/tmp/d"],
    { unresolved: /deletes files/ },
  ],
  ["tar --recursive-unlink", ["tar", "-xf", "x.tar", "--recursive-unlink"], { unresolved: /deletes files/ }],
  [
    "tar --remove-files inside sh -c",
    sh("cd /tmp && tar --remove-files -cf /dev/null d"),
    { unresolved: /deletes files/ },
  ],
  ["gzip FILE replaces the file", ["gzip", "/data/db.sqlite"], { unresolved: /replaces each file/ }],
  ["gunzip -f FILE", ["gunzip", "-f", "x.gz"], { unresolved: /replaces each file/ }],
  ["xz after --", ["xz", "--", "-k"], { unresolved: /replaces each file/ }],
  ["bzip2 with a computed argument", sh("bzip2 $F"), { unresolved: /may replace/ }],
  ["gzip inside sh -c", sh("cd /tmp && gzip -9 d/x"), { unresolved: /replaces each file/ }],
  ["gzip of a glob", sh("gzip d/*"), { unresolved: /gzip. with glob .* may replace/ }],
  ["zip -m moves files into the archive", ["zip", "-rm", "/tmp/a.zip", "/srv"], { unresolved: /-m deletes/ }],
  ["zip --move", ["zip", "--move", "a.zip", "f"], { unresolved: /-m deletes/ }],
  ["zstd --rm", ["zstd", "--rm", "f"], { unresolved: /--rm deletes/ }],
  ["rsync --remove-source-files", ["rsync", "--remove-source-files", "a", "b"], { unresolved: /rsync/ }],
  ["git -c core.sshCommand", ["git", "-c", "core.sshCommand=rm x", "fetch"], { unresolved: /git -c/ }],
  ["git --upload-pack", ["git", "fetch", "--upload-pack=rm x", "o"], { unresolved: /git --upload-pack/ }],
  ["GIT_SSH_COMMAND", sh("GIT_SSH_COMMAND='rm x' git fetch"), { unresolved: /sets GIT_SSH_COMMAND/ }],
  ["ssh ProxyCommand", ["ssh", "-o", "ProxyCommand=rm x", "h"], { unresolved: /ssh/ }],
  ["vim -c", ["vim", "-c", "!rm x"], { unresolved: /given commands to run/ }],
  ["ex reads commands", ["ex"], { unresolved: /reads commands that can run programs/ }],
  ["vim -es", ["vim", "-es"], { unresolved: /ex\/script mode/ }],
  ["dc", ["dc"], { unresolved: /reads commands/ }],
  [
    "script without -c starts a shell on piped input",
    sh("echo rm x | script -q /dev/null"),
    { unresolved: /`script` reads commands from its input/ },
  ],
  ["unshare without a command", sh("echo rm x | unshare"), { unresolved: /reads commands from its input/ }],
  // biome-ignore lint/suspicious/noTemplateCurlyInString: shell text, not a template
  ["${…} hiding a substitution", sh("echo ${X:-$(rm x)}"), { unresolved: /inside a parameter expansion/ }],
  ["arithmetic subscript runs commands", sh("(( a[$(rm x)] ))"), { unresolved: /arithmetic/ }],
  ["let subscript", sh("let 'a[$(rm x)]'"), { unresolved: /arithmetic/ }],
  ["unterminated quote", sh("echo 'rm x"), { unresolved: /cannot be read/ }],
  ["unterminated substitution", sh("echo $(rm x"), { unresolved: /cannot be read/ }],
  ["here-document without a body", sh("sh <<EOF"), { unresolved: /here-document/ }],
  ["nesting too deep", nest(12), { unresolved: /nested too deeply/ }],
  ["a huge script", sh(`ls;${" ".repeat(70_000)}`), { unresolved: /longer than/ }],
];

function nest(depth: number): string[] {
  let script = "rm x";
  for (let i = 0; i < depth; i++) script = `sh -c ${JSON.stringify(script).replace(/\$/g, "\\$")}`;
  return ["sh", "-c", script];
}

test("the command analysis resolves every spelling of a program and reports every construct it cannot know", () => {
  for (const [what, argv, expect] of CLASS) {
    const a = analyzeCommand(argv);
    if ("unresolved" in expect) {
      assert.ok(
        a.unresolved.some((r) => expect.unresolved.test(r)),
        `${what}: expected unresolved ${expect.unresolved}, got ${JSON.stringify(a)}`,
      );
      if (expect.programs) assert.deepEqual(a.programs, expect.programs, what);
    } else {
      assert.deepEqual(
        a,
        { programs: expect.programs, unresolved: [], stdinCommands: a.stdinCommands },
        what,
      );
    }
  }
  assert.deepEqual(programsOf(["sh", "-c", "ls; rm x"]), ["sh", "ls", "rm"]);
  assert.equal(analyzeCommand(["sh"]).stdinCommands, true);
  assert.equal(analyzeCommand(["bash", "-s"]).stdinCommands, true);
  assert.equal(analyzeCommand(["sh", "-c", "ls"]).stdinCommands, false);
  assert.equal(analyzeCommand(["tar", "xf", "-"]).stdinCommands, false);
  assert.equal(
    analyzeCommand(["script", "-q", "/dev/null"]).stdinCommands,
    true,
    "script starts a shell on stdin",
  );
  assert.equal(analyzeCommand(["env", "sh"]).stdinCommands, true);
  assert.deepEqual(analyzeScript("ls | grep x && cat y").programs, ["ls", "grep", "cat"]);
});

test("sed and tar readers: what runs a command and what does not", () => {
  for (const s of ["p", "1d", "s/a/b/g", "/x/!d", "y/ab/cd/", "$a\\\nend", "{p;p}", "s|a|b|2", ":a;N;ba"])
    assert.equal(sedDanger(s), undefined, s);
  for (const s of ["e", "1e ls", "s/a/b/e", "s/a/b/w /x", "w x", "/a/W x", "s/a/b/ge"])
    assert.ok(sedDanger(s), s);
  for (const a of [
    ["cf", "-", "x"],
    ["-cf", "-", "--checkpoint=10", "x"],
    ["--to-stdout", "-xf", "x"],
  ])
    assert.equal(tarRunsCommand(a), undefined, a.join(" "));
  for (const a of [
    ["--checkpoint-a=exec=sh"],
    ["--use-comp=sh"],
    ["--info-script=x"],
    ["--new-volume-script", "x"],
    ["--rsh-command=x"],
    ["--to", "sh"],
  ])
    assert.ok(tarRunsCommand(a), a.join(" "));
});

// ---- policy semantics: deny rules fail closed, allow rules are allow-lists ----

const DENY_POLICY = policy(
  "p",
  "[{ identity: '*' }]",
  `    - name: exec
      verbs: [exec]
      effect: allow
    - name: no-destructive
      verbs: [exec]
      exec: { commandMatches: [rm, unlink, shred] }
      effect: deny
      message: destructive commands are blocked`,
);
const exec = (command: string[], extra: Partial<NonNullable<Req["exec"]>> = {}): Req => ({
  verb: "exec",
  resource: "pods",
  namespace: "d",
  name: "w",
  exec: { command, ...extra },
});

test("a deny rule's commandMatches matches every command it cannot resolve, and says why", () => {
  const engine = engineOf(DENY_POLICY);
  // (the 70 kB script is refused earlier, by the request-target limit)
  for (const [what, argv, expect] of CLASS.filter(([, argv]) => argv.join(" ").length < 8000)) {
    const d = decide(engine, exec(argv));
    if ("unresolved" in expect) {
      assert.equal(d.effect, "deny", what);
      assert.equal(d.rule, "no-destructive", what);
      const message = "message" in d ? d.message : "";
      assert.ok(
        /could not be resolved statically: /.test(message) || /it runs `(rm|unlink|shred)`/.test(message),
        `${what}: ${message}`,
      );
    } else {
      const listed = expect.programs.some((p) => ["rm", "unlink", "shred"].includes(p));
      assert.equal(d.effect, listed ? "deny" : "allow", what);
    }
  }
  const d = decide(engine, exec(["sh", "-c", "X=rm; $X f"]));
  assert.equal(
    "message" in d ? d.message : "",
    "destructive commands are blocked (the command could not be resolved statically: parameter expansion in command position `$X`)",
  );
  const named = decide(engine, exec(["/bin/rm", "x"]));
  assert.equal("message" in named ? named.message : "", "destructive commands are blocked (it runs `rm`)");
});

test("a deny rule with unresolved: allow matches only the programs it can name", () => {
  const engine = engineOf(
    DENY_POLICY.replace(
      "commandMatches: [rm, unlink, shred] }",
      "commandMatches: [rm, unlink, shred], unresolved: allow }",
    ),
  );
  assert.equal(decide(engine, exec(["sh", "-c", "X=rm; $X f"])).effect, "allow");
  assert.equal(decide(engine, exec(["sh", "-c", "ls; rm x"])).effect, "deny");
});

test("a review rule's commandMatches fails closed like a deny rule", () => {
  const engine = engineOf(
    policy(
      "p",
      "[{ identity: '*' }]",
      `    - name: exec
      verbs: [exec]
      effect: allow
    - name: ask
      verbs: [exec]
      exec: { commandMatches: [rm] }
      effect: review
      review: { approvers: { groups: [sre] } }`,
    ),
  );
  assert.equal(decide(engine, exec(["sh", "-c", "$(echo rm) x"])).effect, "review");
  assert.equal(decide(engine, exec(["ls"])).effect, "allow");
});

const ALLOW_LIST = policy(
  "p",
  "[{ identity: '*' }]",
  `    - name: agent-exec
      verbs: [exec]
      exec: { commandMatches: [ls, cat, echo, grep, sh, env, head] }
      effect: allow`,
);

test("an allow rule's commandMatches matches only when every program is resolved and listed", () => {
  const engine = engineOf(ALLOW_LIST);
  const allowed: string[][] = [
    ["ls", "-l"],
    ["env"],
    ["sh", "-c", "ls | grep x && cat y; echo done"],
    ["sh", "-c", "(ls) || { cat x; }"],
    ["sh", "-c", "cat <<EOF\nrm x\nEOF"],
    ["sh", "-c", "echo $(ls)"],
    ["sh", "-c", "diff <(ls) <(ls)".replace("diff", "cat")],
  ];
  for (const argv of allowed) assert.equal(decide(engine, exec(argv)).effect, "allow", argv.join(" "));
  const refused: [string[], RegExp][] = [
    [["sh", "-c", "ls; rm x"], /it runs `rm`, which the rule does not list/],
    [["sh", "-c", "ls | xargs rm"], /`xargs`, `rm`/],
    [["sh", "-c", "ls && (rm x)"], /`rm`/],
    [["sh", "-c", "echo $(rm x)"], /`rm`/],
    [["sh", "-c", "cat <(rm x)"], /`rm`/],
    [["sh", "-c", "sh <<EOF\nrm x\nEOF"], /`rm`/],
    [["sh", "-c", "X=ls; $X"], /could not be resolved statically: parameter expansion/],
    [["sh", "-c", "./ls"], /path outside the system directories/],
    [["sh", "-c", "echo ls | sh"], /reads commands from its input/],
    [["find", "."], /`find`/],
    [["cat", "x"].concat(), /^$|./],
  ];
  for (const [argv, why] of refused.slice(0, -1)) {
    const d = decide(engine, exec(argv));
    assert.equal(d.effect, "deny", argv.join(" "));
    assert.equal(d.rule, "default-deny", argv.join(" "));
    const message = "message" in d ? d.message : "";
    assert.match(message, /rule p\/agent-exec allows only listed programs, and /, argv.join(" "));
    assert.match(message, why, argv.join(" "));
  }
});

test("exec.stdin: inspect makes a tty session unresolved for the rule; without a tty the argv decides", () => {
  const engine = engineOf(
    DENY_POLICY.replace(
      "commandMatches: [rm, unlink, shred] }",
      "commandMatches: [rm, unlink, shred], stdin: inspect }",
    ),
  );
  const tty = decide(engine, exec(["sh"], { tty: true, stdin: true }));
  assert.equal(tty.effect, "deny");
  assert.match("message" in tty ? tty.message : "", /interactive terminal \(tty\)/);
  assert.equal(decide(engine, exec(["sh"], { stdin: true })).effect, "allow");
  assert.equal(decide(engine, exec(["rm", "x"])).effect, "deny");
  const plain = engineOf(DENY_POLICY);
  assert.equal(decide(plain, exec(["sh"], { tty: true, stdin: true })).effect, "allow");
});

import assert from "node:assert/strict";
import { test } from "node:test";
import { programsOf } from "../../src/policy/shell.ts";

test("programsOf finds every program an argv runs, inside shells and wrappers", () => {
  const cases: [string[], string[]][] = [
    [["ls", "-l"], ["ls"]],
    [["/bin/rm", "-rf", "/"], ["rm"]],
    [
      ["sh", "-c", "rm -rf /"],
      ["sh", "rm"],
    ],
    [
      ["bash", "-ec", "cd /tmp && rm -rf x"],
      ["bash", "cd", "rm"],
    ],
    [
      ["sh", "-c", "echo 'rm -rf /'"],
      ["sh", "echo"],
    ],
    [
      ["sh", "-c", 'echo "$(rm -rf /)"'],
      ["sh", "echo", "rm"],
    ],
    [
      ["sh", "-c", "ls | xargs rm"],
      ["sh", "ls", "xargs", "rm"],
    ],
    [
      ["sh", "-c", "FOO=1 sudo -u root rm x"],
      ["sh", "sudo", "rm"],
    ],
    [
      ["env", "A=b", "timeout", "5", "dd", "if=/dev/zero"],
      ["env", "timeout", "dd"],
    ],
    [
      ["sh", "-c", "bash -c 'shutdown -h now'"],
      ["sh", "bash", "shutdown"],
    ],
    [
      ["sh", "-c", "if true; then mkfs.ext4 /dev/sda; fi"],
      ["sh", "true", "mkfs.ext4"],
    ],
    [
      ["find", "/", "-name", "x", "-exec", "rm", "{}", ";"],
      ["find", "rm"],
    ],
    [
      ["sh", "-c", "echo hi > /tmp/rm"],
      ["sh", "echo"],
    ],
    [
      ["busybox", "rm", "x"],
      ["busybox", "rm"],
    ],
    [["sh"], ["sh"]],
    [["sh", "script.sh"], ["sh"]],
    [
      ["eval", "rm x"],
      ["eval", "rm"],
    ],
    [[], []],
  ];
  for (const [argv, expected] of cases) assert.deepEqual(programsOf(argv), expected, argv.join(" "));
});

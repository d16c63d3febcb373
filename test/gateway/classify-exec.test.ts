import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { actionOf, parseExecQuery, resolveRequestInfo } from "../../src/kube/classify/index.ts";

function exec(q: string) {
  return parseExecQuery(new URLSearchParams(q));
}

describe("parseExecQuery", () => {
  test("command repeats once per argv element, in order", () => {
    const got = exec("command=sh&container=c&command=-c&stdout=true&command=rm+-rf+%2F");
    assert.ok(got.ok);
    if (got.ok) assert.deepEqual(got.value.command, ["sh", "-c", "rm -rf /"]);
  });

  test("kubectl exec's query reads as kubectl meant it", () => {
    const got = exec("command=ls&container=c&stderr=true&stdout=true");
    assert.deepEqual(got, {
      ok: true,
      value: { command: ["ls"], container: "c", stdin: false, stdout: true, stderr: true, tty: false },
    });
  });

  test("absent flags are false and an absent container is empty", () => {
    assert.deepEqual(exec(""), {
      ok: true,
      value: { command: [], container: "", stdin: false, stdout: false, stderr: false, tty: false },
    });
  });

  for (const v of ["1", "t", "T", "TRUE", "true", "True"]) {
    test(`tty=${v} is true`, () => {
      const got = exec(`tty=${v}`);
      assert.ok(got.ok && got.value.tty === true);
    });
  }
  for (const v of ["0", "FALSE", "false", "False"]) {
    test(`stdin=${v} is false`, () => {
      const got = exec(`stdin=${v}&stdout=true`);
      assert.ok(got.ok && got.value.stdin === false && got.value.stdout === true);
    });
  }
  for (const v of ["f", "F"]) {
    test(`stdin=${v} is refused: ParseBool says false but kube-apiserver reads true`, () => {
      const got = exec(`stdin=${v}`);
      assert.equal(got.ok, false);
      if (!got.ok) {
        assert.equal(got.status.code, 400);
        assert.match(got.status.message ?? "", /reads it as true/);
      }
    });
  }
  for (const v of ["", "yes", "no", "on", "tRUE", "fALSE", "2", " true", "true "]) {
    test(`tty=${JSON.stringify(v)} is refused with 400`, () => {
      const got = exec(`tty=${encodeURIComponent(v)}`);
      assert.equal(got.ok, false);
      if (!got.ok) {
        assert.equal(got.status.code, 400);
        assert.match(got.status.message ?? "", /invalid value for exec parameter "tty"/);
      }
    });
  }
  for (const key of ["container", "stdin", "stdout", "stderr", "tty"]) {
    test(`a repeated ${key} is refused (the apiserver reads only the first)`, () => {
      const got = exec(`${key}=true&${key}=true`);
      assert.equal(got.ok, false);
    });
  }
});

describe("actionOf", () => {
  const table: [string, string, string][] = [
    ["GET", "/api/v1/namespaces/d/pods/x/exec?command=sh", "exec"],
    ["POST", "/api/v1/namespaces/d/pods/x/exec?command=sh", "exec"],
    ["GET", "/api/v1/namespaces/d/pods/x/attach", "attach"],
    ["POST", "/api/v1/namespaces/d/pods/x/portforward", "portforward"],
    ["GET", "/api/v1/namespaces/d/pods/x/proxy/a/b", "proxy"],
    ["GET", "/api/v1/namespaces/d/services/web:80/proxy/", "proxy"],
    ["GET", "/api/v1/proxy/namespaces/d/pods/x/exec", "proxy"],
    ["GET", "/api/v1/namespaces/d/pods/x/log", "get"],
    ["GET", "/api/v1/namespaces/d/pods", "list"],
    ["DELETE", "/api/v1/namespaces/d/pods", "deletecollection"],
    ["GET", "/api/v1/namespaces/d/pods?watch=1", "watch"],
    ["POST", "/healthz", "post"],
    ["GET", "/version", "get"],
  ];
  for (const [method, url, action] of table) {
    test(`${method} ${url} is action ${action}`, () => {
      const [p, q] = url.split("?");
      const info = resolveRequestInfo(method, p!, new URLSearchParams(q ?? ""));
      assert.ok(info.ok);
      if (info.ok) assert.equal(actionOf(info.value), action);
    });
  }
});

// The simulator's own metav1.Status (packages/sim/src/status.ts): each reason goes out with the code kube-apiserver
// pairs with it (apimachinery pkg/api/errors), in the body shape kubectl reads.
import assert from "node:assert/strict";
import { test } from "node:test";
import { failure, StatusError } from "@airlock/sim/status.ts";

test("each reason carries kube-apiserver's HTTP code", () => {
  const expected = {
    BadRequest: 400,
    Unauthorized: 401,
    Forbidden: 403,
    NotFound: 404,
    MethodNotAllowed: 405,
    NotAcceptable: 406,
    AlreadyExists: 409,
    Conflict: 409,
    Gone: 410,
    Expired: 410,
    RequestEntityTooLarge: 413,
    UnsupportedMediaType: 415,
    Invalid: 422,
    TooManyRequests: 429,
    InternalError: 500,
    ServiceUnavailable: 503,
    Timeout: 504,
  } as const;
  for (const [reason, code] of Object.entries(expected)) {
    assert.equal(failure(reason as keyof typeof expected, "m").code, code, reason);
  }
});

test("a failure is a complete v1 Status; details only when given; an explicit code wins", () => {
  assert.deepEqual(failure("NotFound", 'pods "x" not found', { name: "x", kind: "pods" }), {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message: 'pods "x" not found',
    reason: "NotFound",
    details: { name: "x", kind: "pods" },
    code: 404,
  });
  assert.equal("details" in failure("BadRequest", "m"), false);
  assert.equal(failure("InternalError", "m", undefined, 502).code, 502);
});

test("StatusError carries its Status and its message", () => {
  const err = StatusError.of("Conflict", "Operation cannot be fulfilled", {
    causes: [{ reason: "FieldManagerConflict" }],
  });
  assert.ok(err instanceof Error);
  assert.equal(err.message, "Operation cannot be fulfilled");
  assert.equal(err.status.code, 409);
  assert.equal(err.status.reason, "Conflict");
  assert.deepEqual(err.status.details?.causes, [{ reason: "FieldManagerConflict" }]);
});

// Property-based tests (fast-check) of the parsers an agent can reach: whatever bytes or strings it sends, no
// exception escapes them (each answers with a result or a refusal), and no planted secret passes the masker at any
// chunk boundary. Seeds are fixed so a failure replays; fast-check prints the shrunk counterexample.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { planResponse } from "../../src/gateway/transform/index.ts";
import { readRequestBody } from "../../src/kube/classify/body.ts";
import { classifyRequest } from "../../src/kube/classify/index.ts";
import type { KubeRequest } from "../../src/kube/request.ts";
import { BUILTIN_PROFILES, createPlaceholders } from "../../src/mask/index.ts";
import { analyzeCommand, analyzeScript } from "../../src/policy/shell.ts";
import { WsFrameReader } from "../../src/recording/ws-frames.ts";
import { SpdyFrameReader } from "../../src/shared/spdy/frames.ts";

const RUNS = { numRuns: 300, seed: 16 };

/** Strings with the characters path and shell games are made of. */
const tricky = fc.string({
  unit: fc.constantFrom(
    ..."/%.\\;&|$`'\"(){}<>*?! \t\n\0aZ09-_=+~#:@,",
    "%2f",
    "%2e",
    "%00",
    "..",
    "é",
    "\u202e",
  ),
  maxLength: 60,
});

describe("request classification", () => {
  test("any method and path: a result or a refusal, never an exception", () => {
    fc.assert(
      fc.property(
        fc.constantFrom("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "BREW"),
        fc.oneof(tricky, fc.string()),
        tricky,
        (method, path, query) => {
          const r = classifyRequest(method, `/${path}?${query}`, "sim");
          assert.equal(typeof r.ok, "boolean");
        },
      ),
      RUNS,
    );
  });

  test("a path with an encoded slash, dot segment, NUL or empty segment is refused, wherever it sits", () => {
    fc.assert(
      fc.property(
        fc.array(fc.stringMatching(/^[a-z0-9-]{1,8}$/), { minLength: 1, maxLength: 6 }),
        fc.nat(),
        fc.constantFrom("%2f", "%2F", "..", ".", "%2e%2e", "%00", ""),
        (segments, at, bad) => {
          const parts = ["api", "v1", ...segments];
          // Before one of the segments (a trailing "/" is a different question: kube-apiserver accepts it).
          parts.splice(2 + (at % segments.length), 0, bad);
          const r = classifyRequest("GET", `/${parts.join("/")}`, "sim");
          assert.equal(r.ok, false, `/${parts.join("/")} must be refused`);
        },
      ),
      RUNS,
    );
  });
});

describe("request bodies (JSON and YAML)", () => {
  const kube = classifyRequest("POST", "/api/v1/namespaces/default/configmaps", "sim");
  assert.ok(kube.ok);
  test("any bytes under any declared content type: a reading or a 4xx Status, never an exception", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(
          "application/json",
          "application/yaml",
          "application/merge-patch+json",
          "application/apply-patch+yaml",
          "text/plain",
          "application/json; charset=utf-16",
          undefined,
        ),
        fc.oneof(
          fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
          fc.json().map((j) => Buffer.from(j)),
          fc.string().map((s) => Buffer.from(`a: &x [*x, *x]\n${s}`)),
          fc.nat({ max: 400 }).map((d) => Buffer.from(`${"[".repeat(d)}${"]".repeat(d)}`)),
        ),
        (contentType, body) => {
          const r = readRequestBody("POST", kube.value, { contentType, contentEncoding: undefined }, body);
          if (!r.ok) assert.ok(r.status.code >= 400 && r.status.code < 500, `status ${r.status.code}`);
        },
      ),
      RUNS,
    );
  });
});

describe("exec command analysis (the shell parser of exec rules)", () => {
  test("any script or argv: an analysis, never an exception", () => {
    fc.assert(
      fc.property(tricky, fc.array(tricky, { maxLength: 6 }), (script, argv) => {
        analyzeScript(script);
        analyzeCommand(["sh", "-c", script]);
        analyzeCommand(argv);
      }),
      RUNS,
    );
  });
});

describe("frame readers (SPDY inside port-forward, WebSocket accounting)", () => {
  test("any bytes cut anywhere: frames or a lasting error, never an exception", () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 12 }), (chunks) => {
        const spdy = new SpdyFrameReader();
        const ws = new WsFrameReader();
        for (const c of chunks) {
          spdy.push(Buffer.from(c));
          ws.push(Buffer.from(c));
        }
      }),
      RUNS,
    );
  });
});

describe("the JSON stream masker at every chunk boundary", () => {
  const profile = BUILTIN_PROFILES.get("default");
  assert.ok(profile);
  const placeholders = createPlaceholders(Buffer.alloc(32, 7));

  /** Runs bytes cut into the given chunks through the masker the gateway would pick; resolves with the output. */
  async function mask(resource: string, verb: string, chunks: Buffer[]): Promise<string> {
    const kube = {
      info: { verb, resource, subresource: "" },
      query: new URLSearchParams(verb === "watch" ? "watch=1" : ""),
    } as unknown as KubeRequest;
    const plan = planResponse({ profile: profile!, placeholders, counts: new Map() }, kube, {
      "content-type": "application/json",
    });
    assert.ok(plan.ok);
    const t = plan.transform;
    const out: Buffer[] = [];
    t.on("data", (c: Buffer) => out.push(c));
    const done = new Promise<void>((resolve, reject) => {
      t.on("end", resolve);
      t.on("error", reject);
    });
    for (const c of chunks) t.write(c);
    t.end();
    await t.head.catch(() => {});
    await done.catch(() => {});
    return Buffer.concat(out).toString("utf8");
  }

  const secretValue = fc.stringMatching(/^[A-Za-z0-9]{16,40}$/);
  const secret = (value: string) => ({
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: "db", namespace: "prod" },
    type: "Opaque",
    data: { password: Buffer.from(value).toString("base64") },
    stringData: { token: value },
  });

  function cut(bytes: Buffer, points: number[]): Buffer[] {
    const at = [...new Set(points.map((p) => p % (bytes.length + 1)))].sort((a, b) => a - b);
    const chunks: Buffer[] = [];
    let prev = 0;
    for (const p of at) {
      chunks.push(bytes.subarray(prev, p));
      prev = p;
    }
    chunks.push(bytes.subarray(prev));
    return chunks;
  }

  test("a Secret cut in two at every byte: the value never passes", async () => {
    const value = "s3cretPlantedValue0123456789";
    const bytes = Buffer.from(JSON.stringify(secret(value)));
    for (let i = 0; i <= bytes.length; i++) {
      const out = await mask("secrets", "get", [bytes.subarray(0, i), bytes.subarray(i)]);
      assert.ok(!out.includes(value), `cut at ${i}: the planted value passed`);
      assert.ok(!out.includes(Buffer.from(value).toString("base64")), `cut at ${i}: its base64 passed`);
    }
  });

  test("lists and watch streams cut at random points: no planted value passes, no exception", async () => {
    await fc.assert(
      fc.asyncProperty(
        secretValue,
        fc.array(fc.nat(), { maxLength: 30 }),
        fc.boolean(),
        async (value, points, watch) => {
          const bytes = watch
            ? Buffer.from(
                ["ADDED", "MODIFIED"]
                  .map((type) => `${JSON.stringify({ type, object: secret(value) })}\n`)
                  .join(""),
              )
            : Buffer.from(JSON.stringify({ apiVersion: "v1", kind: "SecretList", items: [secret(value)] }));
          const out = await mask("secrets", watch ? "watch" : "list", cut(bytes, points));
          assert.ok(!out.includes(value), "the planted value passed");
          assert.ok(!out.includes(Buffer.from(value).toString("base64")), "its base64 passed");
        },
      ),
      { numRuns: 150, seed: 16 },
    );
  });

  test("garbage JSON cut anywhere ends in output or a masking failure, never an escaped exception", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.json(), fc.string()),
        fc.array(fc.nat(), { maxLength: 10 }),
        async (text, points) => {
          await mask("secrets", "get", cut(Buffer.from(text), points));
        },
      ),
      { numRuns: 150, seed: 16 },
    );
  });
});

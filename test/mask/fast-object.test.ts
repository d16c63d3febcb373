// The byte-level fast path for list items against the slow path (JSON.parse → maskObject → JSON.stringify): the
// same masked values and counts for every kind of item and profile, a secret planted in every string position still
// masked (plain, behind \u and \/ escapes), and the cases where it must decline (late or duplicate kind) still safe.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { maskEventAt, maskItemAt, maskRowAt } from "../../src/mask/fast-object.ts";
import {
  BUILTIN_PROFILES,
  compileProfiles,
  createPlaceholders,
  JsonDocumentMasker,
  type MaskContext,
  type MaskingProfile,
  maskObject,
  maskWatchEvent,
} from "../../src/mask/index.ts";
import { maskTableRow } from "../../src/mask/object.ts";

const ph = createPlaceholders(Buffer.alloc(32, 9));
const compiled = compileProfiles([
  {
    apiVersion: "airlock.dev/v1alpha1",
    kind: "MaskingProfile",
    metadata: { name: "strict" },
    spec: {
      secretNames: true,
      secretReferences: true,
      patterns: [{ name: "ticket", regex: "TICKET-[0-9]{6}" }],
    },
  },
]);
assert.ok(compiled.ok);
// "lax" turns every rule off but one detector, so the branches that skip a rule are compared too.
const lax = compileProfiles([
  {
    apiVersion: "airlock.dev/v1alpha1",
    kind: "MaskingProfile",
    metadata: { name: "lax" },
    spec: {
      secretData: false,
      env: { namePattern: "" },
      configMaps: { keyPattern: "" },
      lastAppliedConfiguration: false,
      managedFields: false,
      secretSoundingKeys: false,
      detectors: ["jwt"],
    },
  },
]);
assert.ok(lax.ok);
const PROFILES: MaskingProfile[] = [
  BUILTIN_PROFILES.get("default")!,
  compiled.profiles.get("strict")!,
  lax.profiles.get("lax")!,
];

const JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlX3g";
const b64 = (s: string) => Buffer.from(s).toString("base64");
const LAST = "kubectl.kubernetes.io/last-applied-configuration";

const ITEMS: Record<string, unknown>[] = [
  {
    kind: "Secret",
    apiVersion: "v1",
    metadata: { name: "db", namespace: "prod", labels: { app: "db" } },
    type: "Opaque",
    data: { password: b64("hunter2"), "tls.key": b64("k".repeat(300)) },
    stringData: { token: "plain-token-value" },
  },
  {
    kind: "ConfigMap",
    apiVersion: "v1",
    metadata: { name: "cfg", annotations: { note: `password=Tr0ub4dor&3 and ${JWT}`, short: "x" } },
    data: {
      API_KEY: "k-1",
      "app.properties": "db.url=postgres://app:s3cr3t-pw@db:5432/app\nlevel=info\n",
      LOG_LEVEL: "info",
      ticket: "see TICKET-123456",
      unicode: "пароль ✓ password: Ünïcödé-Secret-1",
    },
  },
  {
    kind: "Deployment",
    apiVersion: "apps/v1",
    metadata: {
      name: "web",
      annotations: { [LAST]: JSON.stringify({ kind: "Secret", data: { a: b64("applied-secret") } }) },
      managedFields: [
        {
          manager: "kubectl",
          fieldsV1: { "f:spec": { 'v:"--password=hunter2hunter2"': {}, "f:n": { ".": {} } } },
        },
        {
          manager: `Bearer ${JWT}`,
          fieldsV1: { 'v:"token=aB3dE5fG7hJ9kL1mNpQ"': { x: "password: s3cr3t" }, a: [JWT] },
        },
        "not-an-entry-but-token=aB3dE5fG7hJ9kL1mNpQ",
      ],
    },
    spec: {
      replicas: 3,
      paused: false,
      template: {
        spec: {
          imagePullSecrets: [{ name: "regcred" }],
          containers: [
            {
              name: "web",
              image: "nginx:1.25",
              args: ["--token", JWT, "--mode=fast"],
              env: [
                { value: "value-before-name-secret", name: "DB_PASSWORD" },
                { name: "MODE", value: "fast" },
                { name: "REF", valueFrom: { secretKeyRef: { name: "db", key: "password" } } },
              ],
            },
          ],
          volumes: [{ name: "s", secret: { secretName: "db" } }],
        },
      },
    },
  },
  {
    kind: "Widget",
    apiVersion: "example.com/v1",
    metadata: { name: "w", generateName: "Bearer abcdefgh12345678" },
    spec: {
      adminPassword: "open-sesame",
      apiToken: "short",
      nested: [[{ clientSecret: "s3cr3t-value" }]],
      n: -1.5e3,
    },
    status: { url: "https://user:pa55word@example.com/x", conditions: [], ok: true, none: null },
  },
];

function slow(item: unknown, profile: MaskingProfile, kindHint?: string) {
  const ctx: MaskContext = { profile, ph, counts: new Map() };
  return { value: maskObject(structuredClone(item), ctx, kindHint), counts: ctx.counts };
}

function fast(bytes: Buffer, profile: MaskingProfile, kindHint?: string) {
  const ctx: MaskContext = { profile, ph, counts: new Map() };
  const item = maskItemAt(bytes, 0, ctx, kindHint);
  return item && { value: JSON.parse(Buffer.concat(item.parts).toString()) as unknown, counts: ctx.counts };
}

/** Every string leaf of a JSON value, by path. */
function stringPaths(value: unknown, path: (string | number)[] = []): (string | number)[][] {
  if (typeof value === "string") return [path];
  if (Array.isArray(value)) return value.flatMap((v, i) => stringPaths(v, [...path, i]));
  if (value && typeof value === "object") {
    return Object.entries(value).flatMap(([k, v]) => stringPaths(v, [...path, k]));
  }
  return [];
}

function setAt(root: unknown, path: (string | number)[], v: string): void {
  let at = root as Record<string | number, unknown>;
  for (const p of path.slice(0, -1)) at = at[p] as Record<string | number, unknown>;
  at[path.at(-1) as string | number] = v;
}

describe("the fast path masks list items exactly as the slow path does", () => {
  for (const profile of PROFILES) {
    for (const item of ITEMS) {
      test(`${item.kind} under profile ${profile.name}, compact and pretty-printed`, () => {
        for (const bytes of [Buffer.from(JSON.stringify(item)), Buffer.from(JSON.stringify(item, null, 2))]) {
          const got = fast(bytes, profile);
          assert.ok(got, "the fast path took the item");
          const want = slow(item, profile);
          assert.deepEqual(got.value, want.value);
          assert.deepEqual(got.counts, want.counts);
        }
      });
    }
  }

  test("a single object (a GET's body) through JsonDocumentMasker equals maskObject", () => {
    for (const item of ITEMS) {
      const m = new JsonDocumentMasker({ profile: PROFILES[0]!, ph, counts: new Map() }, undefined);
      const out = Buffer.concat([...m.push(Buffer.from(JSON.stringify(item))), ...m.end()]).toString();
      assert.deepEqual(JSON.parse(out), slow(item, PROFILES[0]!).value, String(item.kind));
    }
  });

  test("watch events: the fast path equals maskWatchEvent", () => {
    for (const profile of PROFILES) {
      for (const [i, item] of ITEMS.entries()) {
        const event = { type: i ? "MODIFIED" : "ADDED", object: item, note: `Bearer ${JWT}` };
        const bytes = Buffer.from(JSON.stringify(event));
        const ctx: MaskContext = { profile, ph, counts: new Map() };
        const got = maskEventAt(bytes, 0, ctx, undefined);
        assert.ok(got, "the fast path took the event");
        const want: MaskContext = { profile, ph, counts: new Map() };
        const expected = maskWatchEvent(structuredClone(event), want, undefined);
        assert.deepEqual(JSON.parse(Buffer.concat(got.parts).toString()), expected);
        assert.deepEqual(ctx.counts, want.counts);
      }
    }
  });

  test("Table rows: the fast path equals maskTableRow (Name cell of Secrets, cells, embedded object)", () => {
    for (const profile of PROFILES) {
      for (const kindHint of ["Secret", undefined]) {
        for (const item of ITEMS) {
          const row = {
            cells: ["db", `Bearer ${JWT}`, 3, { note: `password=${JWT}` }],
            object: item,
            extra: JWT,
          };
          const ctx: MaskContext = { profile, ph, counts: new Map() };
          const got = maskRowAt(Buffer.from(JSON.stringify(row)), 0, ctx, kindHint, 0);
          assert.ok(got, "the fast path took the row");
          const want: MaskContext = { profile, ph, counts: new Map() };
          const expected = maskTableRow(structuredClone(row), want, kindHint, 0);
          assert.deepEqual(JSON.parse(Buffer.concat(got.parts).toString()), expected);
          assert.deepEqual(ctx.counts, want.counts);
        }
      }
    }
  });

  test("a typed list's items (no kind) follow the list's kind", () => {
    const { kind: _, ...item } = ITEMS[0] as Record<string, unknown>;
    const got = fast(Buffer.from(JSON.stringify(item)), PROFILES[0]!, "Secret");
    assert.deepEqual(got?.value, slow(item, PROFILES[0]!, "Secret").value);
  });
});

describe("a secret planted in every string position is masked", () => {
  const planted = `token: ${JWT}`;
  const plantedAws = "creds AKIAIOSFODNN7EXAMPLE in use";
  // Escaped forms the client decodes to the same text: \u0065 is "e" (eyJ…), \/ is "/" (://).
  const escapes: [string, (json: string) => string][] = [
    ["plain", (j) => j],
    [
      "\\u-escaped",
      (j) => j.replaceAll("eyJhbGci", "\\u0065yJhbGci").replaceAll("AKIAIOSF", "\\u0041KIAIOSF"),
    ],
  ];
  for (const item of ITEMS) {
    test(`every string of the ${item.kind}`, () => {
      for (const path of stringPaths(item)) {
        for (const secret of [planted, plantedAws]) {
          const copy = structuredClone(item);
          setAt(copy, path, secret);
          for (const [how, encode] of escapes) {
            const bytes = Buffer.from(encode(JSON.stringify(copy)));
            for (const profile of PROFILES) {
              const got = fast(bytes, profile);
              const want = slow(copy, profile);
              const where = `${path.join(".")} (${how}, ${profile.name})`;
              if (got) assert.deepEqual(got.value, want.value, where);
              if (profile.name === "lax") continue; // rules off by design: equivalence is what counts there
              const out = got ? JSON.stringify(got.value) : JSON.stringify(want.value);
              assert.ok(!out.includes(JWT.split(".")[1] as string), `${where}: JWT leaked`);
              assert.ok(!out.includes("AKIAIOSFODNN7EXAMPLE"), `${where}: AWS key leaked`);
            }
          }
        }
      }
    });
  }

  test("a URL password behind \\/ escapes", () => {
    const bytes = Buffer.from(
      '{"kind":"ConfigMap","data":{"url":"postgres:\\/\\/app:s3cr3t-pw@db:5432\\/app"}}',
    );
    const got = fast(bytes, PROFILES[0]!);
    assert.ok(got && !JSON.stringify(got.value).includes("s3cr3t-pw"));
    const url = (got.value as { data: { url: string } }).data.url;
    assert.match(
      url,
      /^postgres:\/\/app:‹masked:[0-9a-f]{8}›@db:5432\/app$/,
      "the password became its marker",
    );
  });
});

describe("the fast path declines what it cannot prove, and the list stays masked", () => {
  const list = (items: string) => Buffer.from(`{"kind":"List","apiVersion":"v1","items":[${items}]}`);
  const run = (bytes: Buffer) => {
    const m = new JsonDocumentMasker({ profile: PROFILES[0]!, ph, counts: new Map() }, undefined);
    return Buffer.concat([...m.push(bytes), ...m.end()]).toString();
  };

  test("a kind after the data (or a second kind) is masked as the kind the client decodes", () => {
    for (const item of [
      '{"data":{"x":"aHVudGVyMg=="},"kind":"Secret"}',
      '{"kind":"ConfigMap","data":{"x":"aHVudGVyMg=="},"kind":"Secret"}',
    ]) {
      assert.equal(
        maskItemAt(Buffer.from(item), 0, { profile: PROFILES[0]!, ph, counts: new Map() }, undefined),
        undefined,
      );
      const out = JSON.parse(run(list(item))) as { items: { data: { x: string } }[] };
      assert.notEqual(out.items[0]?.data.x, "aHVudGVyMg==");
    }
  });

  test("items split across chunks at every byte are masked the same", () => {
    const bytes = list(ITEMS.map((i) => JSON.stringify(i)).join(","));
    const whole = run(bytes);
    for (const size of [1, 7, 64, 333, 4096]) {
      const m = new JsonDocumentMasker({ profile: PROFILES[0]!, ph, counts: new Map() }, undefined);
      const out: Buffer[] = [];
      for (let i = 0; i < bytes.length; i += size) out.push(...m.push(bytes.subarray(i, i + size)));
      out.push(...m.end());
      assert.deepEqual(JSON.parse(Buffer.concat(out).toString()), JSON.parse(whole), `chunks of ${size}`);
    }
  });

  test("bad JSON inside an item is refused, not passed through", () => {
    for (const item of [
      '{"kind":"ConfigMap","data":{"a":"\\q"}}',
      '{"a":01}',
      '{"a":"x\u0001y"}',
      '{"a" "b"}',
      '{"a":tru}',
    ]) {
      assert.throws(() => run(list(item)), /not valid JSON|JSON/, item);
    }
  });
});

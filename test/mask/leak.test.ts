// The leak test: a corpus of secret shapes — one per detector, inside JSON strings, as base64 Secret data, in env
// values, in the last-applied annotation, in a Table, in watch events, in logs and in exec frames, each stream split
// at every chunk size from 1 byte up — goes through every transform, and no planted value may appear in the output.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  BUILTIN_PROFILES,
  ChannelFrameMasker,
  createPlaceholders,
  JsonDocumentMasker,
  type MaskContext,
  TextStreamMasker,
  WatchStreamMasker,
} from "../../src/mask/index.ts";

const profile = BUILTIN_PROFILES.get("default")!;
const ph = createPlaceholders(Buffer.alloc(32, 7));
const ctx = (): MaskContext => ({ profile, ph, counts: new Map() });

const PEM_BODY =
  "MIIEowIBAAKCAQEA7Xq1Vb3yq0Z9fQ2mL8kR4t6uP1sN0wJ5hC3dE7gH2iK9lM4nO6pQ8rS1tU3vW5xY7zA0bC2dE4fG6hI8jK0lM2n";
/** Planted value → text that carries it. Every value is checked for absence after masking. */
const CORPUS: { secret: string; text: string }[] = [
  { secret: "AKIAIOSFODNN7EXAMPLE", text: "aws_access_key_id = AKIAIOSFODNN7EXAMPLE" },
  { secret: "ASIAY34FZKBOKMUTVV7A", text: "creds ASIAY34FZKBOKMUTVV7A in use" },
  {
    secret: PEM_BODY,
    text: `key:\n-----BEGIN RSA PRIVATE KEY-----\n${PEM_BODY}\n-----END RSA PRIVATE KEY-----\nafter`,
  },
  {
    secret: "eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ",
    text: "jwt eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c done",
  },
  {
    secret: "sk_live_4eC39HqLyjWDarjtT1zdp7dc",
    text: "Authorization: Bearer sk_live_4eC39HqLyjWDarjtT1zdp7dc",
  },
  { secret: "hunter2-Pa55w0rd", text: "connecting to postgres://app:hunter2-Pa55w0rd@db.prod:5432/app" },
  { secret: "Tr0ub4dor&3xyz", text: "Server=db;User Id=app;Password=Tr0ub4dor&3xyz;" },
  {
    secret: "c3VwZXI6c2VjcmV0LXB3ZA==",
    text: '{"auths":{"registry.io":{"auth":"c3VwZXI6c2VjcmV0LXB3ZA=="}}}',
  },
  {
    secret: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    text: "aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
  },
  { secret: "correct-horse-battery", text: 'DB_PASSWORD="correct-horse-battery"' },
  { secret: "dXNlcjpwYXNzd29yZDEyMw==", text: "Authorization: Basic dXNlcjpwYXNzd29yZDEyMw==" },
];

function assertClean(out: string, where: string): void {
  for (const { secret } of CORPUS) {
    assert.ok(!out.includes(secret), `${where}: leaked ${secret}`);
    assert.ok(!out.includes(Buffer.from(secret).toString("base64")), `${where}: leaked base64 of ${secret}`);
  }
}

/** Feeds bytes in chunks of `size` through push/end and returns everything emitted. */
function run(
  masker: { push(b: Buffer): Buffer | Buffer[]; end(): Buffer | Buffer[] },
  bytes: Buffer,
  size: number,
): string {
  const out: Buffer[] = [];
  const add = (b: Buffer | Buffer[]) => out.push(...(Array.isArray(b) ? b : [b]));
  for (let i = 0; i < bytes.length; i += size) add(masker.push(bytes.subarray(i, i + size)));
  add(masker.end());
  return Buffer.concat(out).toString("utf8");
}

const SIZES = [1, 2, 3, 5, 7, 13, 64, 1000, 1 << 20];
const freeText = `${CORPUS.map((c) => c.text).join("\n")}\nпароль: ok — ünïcode around ✓\n`;

function secretObject(name: string) {
  const data = Object.fromEntries(CORPUS.map((c, i) => [`k${i}`, Buffer.from(c.secret).toString("base64")]));
  const applied = { apiVersion: "v1", kind: "Secret", metadata: { name }, data };
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: {
      name,
      annotations: {
        "kubectl.kubernetes.io/last-applied-configuration": JSON.stringify(applied),
        note: CORPUS[0]?.text,
      },
    },
    data,
    stringData: { plain: CORPUS[9]?.secret },
  };
}

function deployment() {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "web" },
    spec: {
      template: {
        spec: {
          containers: [
            {
              name: "web",
              args: CORPUS.map((c) => c.text),
              env: CORPUS.map((c, i) => ({
                name: i % 2 ? `API_TOKEN_${i}` : `VAR_${i}`,
                value: i % 2 ? c.secret : c.text,
              })),
            },
          ],
        },
      },
    },
  };
}

describe("no planted secret survives any transform", () => {
  test("text streams (logs) at every chunk size, across UTF-8 boundaries", () => {
    const bytes = Buffer.from(freeText);
    for (const size of SIZES) {
      const out = run(new TextStreamMasker(profile.detectors, ph, new Map()), bytes, size);
      assertClean(out, `text/${size}`);
      assert.match(out, /пароль: ok — ünïcode around ✓/, "text around the secrets passes byte for byte");
    }
  });

  test("a list of Secrets and Deployments streamed at every chunk size", () => {
    const list = {
      kind: "List",
      apiVersion: "v1",
      metadata: {},
      items: [secretObject("a"), deployment(), secretObject("b")],
    };
    const secretList = {
      kind: "SecretList",
      apiVersion: "v1",
      metadata: { resourceVersion: "9" },
      items: [secretObject("c")],
    };
    for (const doc of [list, secretList]) {
      const bytes = Buffer.from(JSON.stringify(doc, null, 1));
      for (const size of SIZES) {
        const out = run(new JsonDocumentMasker(ctx(), undefined), bytes, size);
        assertClean(out, `list/${size}`);
        assert.equal((JSON.parse(out) as { items: unknown[] }).items.length, doc.items.length);
      }
    }
  });

  test("typed list items without a kind are masked as the list's kind (SecretList → Secret)", () => {
    const item = secretObject("x") as Record<string, unknown>;
    delete item.kind;
    delete item.apiVersion;
    const out = run(
      new JsonDocumentMasker(ctx(), "Secret"),
      Buffer.from(JSON.stringify({ kind: "SecretList", items: [item] })),
      3,
    );
    assertClean(out, "typed list");
  });

  test("a Table with cells and embedded objects", () => {
    const table = {
      kind: "Table",
      apiVersion: "meta.k8s.io/v1",
      columnDefinitions: [{ name: "Name" }, { name: "Data" }],
      rows: [{ cells: ["a", CORPUS[4]?.text], object: secretObject("a") }],
    };
    for (const size of SIZES)
      assertClean(
        run(new JsonDocumentMasker(ctx(), "Secret"), Buffer.from(JSON.stringify(table)), size),
        `table/${size}`,
      );
  });

  test("watch events, one by one, at every chunk size", () => {
    const events = [secretObject("w1"), deployment(), { kind: "Status", message: CORPUS[5]?.text }]
      .map((object, i) => JSON.stringify({ type: i ? "MODIFIED" : "ADDED", object }))
      .join("\n");
    for (const size of SIZES) {
      const out = run(new WatchStreamMasker(ctx(), undefined), Buffer.from(`${events}\n`), size);
      assertClean(out, `watch/${size}`);
      assert.equal(out.trim().split("\n").length, 3);
    }
  });

  test("exec stdout and stderr frames, each split at every size", () => {
    const bytes = Buffer.from(freeText);
    for (const size of SIZES.slice(0, -1)) {
      const masker = new ChannelFrameMasker(profile, ph, new Map(), "v5.channel.k8s.io");
      const out: Record<number, Buffer[]> = { 1: [], 2: [] };
      const take = (frames: { data: Buffer | string }[]) => {
        for (const f of frames) {
          const b = f.data as Buffer;
          out[b[0] as number]?.push(b.subarray(1));
        }
      };
      for (let i = 0; i < bytes.length; i += size) {
        const piece = bytes.subarray(i, i + size);
        take(masker.transform(Buffer.concat([Buffer.from([1]), piece]), true));
        take(masker.transform(Buffer.concat([Buffer.from([2]), piece]), true));
      }
      take(masker.transform(Buffer.from([3, ...Buffer.from('{"metadata":{},"status":"Success"}')]), true));
      for (const ch of [1, 2]) assertClean(Buffer.concat(out[ch] ?? []).toString(), `exec ch${ch}/${size}`);
    }
  });
});

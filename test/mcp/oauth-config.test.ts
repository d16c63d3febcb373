// The `mcp.oauth` section of airlock.yaml (src/identity/oauth-config.ts): the example in docs/configuration.md
// validates as written, and the settings that would open the OAuth server wider than meant are refused.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { parse } from "yaml";
import { mcpConfigSchema } from "../../src/identity/oauth-config.ts";

const issues = (oauth: unknown): string[] => {
  const r = mcpConfigSchema.safeParse({ oauth });
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
};

test("docs/configuration.md's mcp section validates; defaults are closed", () => {
  const md = readFileSync(new URL("../../docs/configuration.md", import.meta.url), "utf8");
  const start = md.indexOf("\nmcp:\n") + 1;
  const block = md.slice(start, md.indexOf("```", start));
  const parsed = mcpConfigSchema.safeParse(parse(block).mcp);
  assert.ok(parsed.success, JSON.stringify(!parsed.success && parsed.error.issues));
  const defaults = mcpConfigSchema.parse({});
  assert.equal(defaults.oauth.clientMetadataDocuments, false);
  assert.deepEqual(defaults.oauth.clients, []);
  assert.equal(defaults.oauth.accessTokenTtl, "10m");
});

test("private keys in a client's JWKS, open redirects, path issuers and long token lifetimes are refused", () => {
  const key = { kty: "EC", crv: "P-256", x: "a", y: "b" };
  assert.match(
    issues({ clients: [{ clientId: "c", identity: "i", jwks: { keys: [{ ...key, d: "secret" }] } }] }).join(),
    /public keys only/,
  );
  assert.match(
    issues({ clients: [{ clientId: "c", redirectUris: ["http://evil.example/cb"] }] }).join(),
    /loopback/,
  );
  assert.match(
    issues({ clients: [{ clientId: "c", redirectUris: ["https://a.example/cb#x"] }] }).join(),
    /fragment/,
  );
  assert.match(issues({ clients: [{ clientId: "c", identity: "i" }] }).join(), /both `identity` and `jwks`/);
  assert.match(issues({ issuer: "https://a.example/path" }).join(), /without path/);
  assert.match(issues({ issuer: "http://a.example" }).join(), /https/);
  assert.match(issues({ accessTokenTtl: "2h" }).join(), /at most 60 minutes/);
  assert.match(
    issues({
      clients: [
        { clientId: "c", redirectUris: ["https://a/cb"] },
        { clientId: "c", redirectUris: ["https://b/cb"] },
      ],
    }).join(),
    /duplicate clientId/,
  );
  assert.match(
    issues({ allowLoopbackMetadata: true }).join(),
    /Unrecognized key/,
    "the test hooks are not config keys",
  );
  assert.deepEqual(issues({ clients: [{ clientId: "c", redirectUris: ["http://127.0.0.1:9/cb"] }] }), []);
});

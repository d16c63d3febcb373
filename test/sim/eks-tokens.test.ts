// The simulator's own EKS token check (packages/sim/src/auth/eks-verify.ts): aws-iam-authenticator's steps 1–9, each
// refusal named by its step; every token the gateway's offline check refuses, the simulator refuses too (a
// differential property over mutated tokens); and through the running simulator, a token authenticates the user
// eks-auth.json names only while it passes.
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { after, before, describe, test } from "node:test";
import { EKS_TOKEN_PREFIX, isStsHost, verifyEksToken } from "@airlock/sim/auth/eks-verify.ts";
import fc from "fast-check";
import { checkEksToken } from "../../src/identity/workload/eks-token.ts";
import { type Simulator, startTestSimulator } from "../helpers/sim.ts";
import { type SimClient, simClient } from "../helpers/simclient.ts";

const encode = (url: string) => EKS_TOKEN_PREFIX + Buffer.from(url, "latin1").toString("base64url");
const amz = (ms: number) =>
  new Date(ms)
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d{3}/, "");
const NOW = Date.parse("2026-01-10T12:00:00Z");
const presigned = (host: string, date: string) =>
  `https://${host}/?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Algorithm=AWS4-HMAC-SHA256` +
  "&X-Amz-Credential=AKIA%2F20260110%2Fus-east-1%2Fsts%2Faws4_request" +
  `&X-Amz-Date=${date}&X-Amz-Expires=60&X-Amz-SignedHeaders=host%3Bx-k8s-aws-id&X-Amz-Signature=abcd`;
const BASE = presigned("sts.us-east-1.amazonaws.com", "20260110T115500Z");
const RULES = { regions: ["us-east-1", "eu-west-1"] };

describe("the simulator's EKS token check, step by step", () => {
  const cases: [string, string, number | "ok"][] = [
    ["a well-formed token passes", encode(BASE), "ok"],
    ["a session token is one more allowed parameter", encode(`${BASE}&X-Amz-Security-Token=FwoG%2Bx`), "ok"],
    ["no prefix", Buffer.from(BASE).toString("base64url"), 1],
    ["over 4096 bytes", encode(`${BASE}&X-Amz-Security-Token=${"a".repeat(4096)}`), 1],
    ["padded or standard base64", `${EKS_TOKEN_PREFIX}aGVsbG8=+/`, 1],
    ["a base64 length no encoder produces", `${EKS_TOKEN_PREFIX}aGVsb`, 1],
    ["a fragment", encode(`${BASE}#x`), 1],
    ["a space in the URL", encode(BASE.replace("Version=", "Version= ")), 1],
    ["a backslash before the path", encode(BASE.replace(".com/?", ".com\\/?")), 1],
    ["not a URL", encode("sts.us-east-1.amazonaws.com/?Action=GetCallerIdentity"), 1],
    ["http", encode(BASE.replace("https:", "http:")), 2],
    [
      "user info before the host",
      encode(BASE.replace("https://", "https://sts.us-east-1.amazonaws.com@")),
      2,
    ],
    ["a foreign host", encode(BASE.replace("sts.us-east-1.amazonaws.com", "sts.evil.example")), 3],
    ["an STS look-alike", encode(BASE.replace("amazonaws.com/", "amazonaws.com.evil.io/")), 3],
    ["a region outside the list", encode(BASE.replace("sts.us-east-1.", "sts.ap-south-1.")), 3],
    [
      "an explicit port (Go compares host:port)",
      encode(BASE.replace("amazonaws.com/", "amazonaws.com:443/")),
      3,
    ],
    ["a trailing dot on the host", encode(BASE.replace("amazonaws.com/", "amazonaws.com./")), 3],
    ["a path other than /", encode(BASE.replace(".com/?", ".com/x?")), 4],
    ["an encoded slash as the path", encode(BASE.replace(".com/?", ".com/%2F?")), 4],
    ["an unknown parameter", encode(`${BASE}&Foo=bar`), 5],
    ["a parameter repeated in another case", encode(`${BASE}&action=GetCallerIdentity`), 5],
    ["a ';' separator (Go's ParseQuery refuses it)", encode(BASE.replace("&Version", ";Version")), 5],
    ["a malformed escape", encode(`${BASE}&X-Amz-Security-Token=%zz`), 5],
    ["another action", encode(BASE.replace("GetCallerIdentity", "AssumeRole")), 6],
    ["x-k8s-aws-id not signed", encode(BASE.replace("host%3Bx-k8s-aws-id", "host")), 7],
    ["expires above 900", encode(BASE.replace("X-Amz-Expires=60", "X-Amz-Expires=901")), 8],
    ["expires not a number", encode(BASE.replace("X-Amz-Expires=60", "X-Amz-Expires=-1")), 8],
    ["dated more than 15 minutes ago", encode(BASE.replace("20260110T115500Z", "20260110T114459Z")), 9],
    ["dated ahead of the clock", encode(BASE.replace("20260110T115500Z", "20260110T121001Z")), 9],
    ["a date in another format", encode(BASE.replace("20260110T115500Z", "2026-01-10")), 9],
    [
      "month 13 (Go's time.Parse refuses it)",
      encode(BASE.replace("20260110T115500Z", "20261310T115500Z")),
      9,
    ],
    ["February 30", encode(BASE.replace("20260110T115500Z", "20260230T115500Z")), 9],
  ];
  for (const [name, token, want] of cases) {
    test(`${want === "ok" ? "accepted" : `refused at step ${want}`}: ${name}`, () => {
      const verdict = verifyEksToken(token, RULES, NOW);
      if (want === "ok") assert.equal(verdict.ok, true, JSON.stringify(verdict));
      else assert.deepEqual(verdict.ok ? "accepted" : verdict.step, want, JSON.stringify(verdict));
    });
  }

  test("STS hosts follow the partition: FIPS, dual-stack, the global host only in aws, extra hosts exactly", () => {
    assert.equal(isStsHost("sts-fips.us-east-1.amazonaws.com", {}), true);
    assert.equal(isStsHost("sts.eu-west-1.api.aws", {}), true);
    assert.equal(isStsHost("sts.amazonaws.com", {}), true);
    assert.equal(isStsHost("sts.amazonaws.com", { partition: "aws-cn" }), false);
    assert.equal(isStsHost("sts.cn-north-1.amazonaws.com.cn", { partition: "aws-cn" }), true);
    assert.equal(isStsHost("sts-fips.cn-north-1.amazonaws.com.cn", { partition: "aws-cn" }), false);
    assert.equal(isStsHost("sts.cn-north-1.amazonaws.com.cn", {}), false);
    assert.equal(isStsHost("sts.us-gov-west-1.amazonaws.com", { partition: "aws-us-gov" }), true);
    assert.equal(isStsHost("sts.us-east-1.amazonaws.com", { partition: "aws-eu" }), false);
    assert.equal(isStsHost("127.0.0.1:4443", { extraHosts: ["127.0.0.1:4443"] }), true);
    assert.equal(isStsHost("127.0.0.1:4444", { extraHosts: ["127.0.0.1:4443"] }), false);
  });

  test("the token never appears in a refusal", () => {
    const token = encode(BASE.replace("https:", "http:"));
    const verdict = verifyEksToken(token, RULES, NOW);
    assert.equal(verdict.ok, false);
    assert.ok(!JSON.stringify(verdict).includes(token.slice(EKS_TOKEN_PREFIX.length, 40)));
  });
});

// Pieces a forger splices into a valid presigned URL: separators, escapes, look-alike hosts, case games, dates.
const SPLICES = [
  "&",
  ";",
  "#",
  "?",
  "/",
  "\\",
  "@",
  ":",
  ":443",
  " ",
  "%",
  "%2F",
  "%3B",
  "%00",
  "+",
  "=",
  ".",
  "..",
  "sts.amazonaws.com",
  "sts.us-east-1.amazonaws.com.",
  "STS.US-EAST-1.AMAZONAWS.COM",
  "evil.io",
  "127.0.0.1:1",
  "&Action=GetCallerIdentity",
  "&X-Amz-Date=20260110T115500Z",
  "&x-amz-expires=0",
  "X-Amz-Expires=901",
  "20261310T115500Z",
  "20260110T235959Z",
  "http://",
  "HTTPS://",
  "x-k8s-aws-id",
  "%3Bx-k8s-aws-id",
  "\u00e9",
];

describe("the simulator refuses every token the gateway's offline check refuses", () => {
  test("mutated presigned URLs: gateway refuses => simulator refuses", () => {
    const mutated = fc
      .tuple(
        fc.integer({ min: 0, max: BASE.length }),
        fc.integer({ min: 0, max: 12 }),
        fc.constantFrom(...SPLICES),
      )
      .map(([at, cut, splice]) => BASE.slice(0, at) + splice + BASE.slice(Math.min(BASE.length, at + cut)));
    fc.assert(
      fc.property(mutated, (url) => {
        const token = encode(url);
        const gateway = checkEksToken(token, RULES, NOW);
        const sim = verifyEksToken(token, RULES, NOW);
        if (!gateway.ok)
          assert.equal(sim.ok, false, `gateway refused (step ${gateway.step}), simulator took ${url}`);
      }),
      { numRuns: 3000, seed: 1707 },
    );
  });

  test("both accept what an STS presigner writes, for each region and partition form", () => {
    const hosts = [
      "sts.us-east-1.amazonaws.com",
      "sts-fips.eu-west-1.amazonaws.com",
      "sts.eu-west-1.api.aws",
    ];
    for (const host of hosts) {
      const token = encode(presigned(host, amz(NOW - 60_000)));
      assert.equal(checkEksToken(token, RULES, NOW).ok, true, host);
      assert.equal(verifyEksToken(token, RULES, NOW).ok, true, host);
    }
  });
});

describe("EKS tokens against the running simulator", () => {
  let sim: Simulator;
  let api: SimClient;
  const hostWord = "sts.us-east-1.amazonaws.com";
  const whoami = async (token: string) => {
    const reply = await api.req("POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews", {
      token,
      body: { apiVersion: "authentication.k8s.io/v1", kind: "SelfSubjectReview" },
    });
    return reply.code === 201 ? reply.body.status.userInfo.username : reply.code;
  };

  before(async () => {
    sim = await startTestSimulator();
    api = simClient(sim);
  });
  after(async () => {
    api?.close();
    await sim?.close();
  });

  test("without eks-auth.json an EKS token authenticates nobody", async () => {
    assert.equal(await whoami(encode(presigned(hostWord, amz(Date.now())))), 401);
  });

  test("with eks-auth.json a passing token is the configured user; a refused one is 401", async () => {
    await writeFile(
      join(dirname(sim.kubeconfigPath), "eks-auth.json"),
      JSON.stringify({
        regions: ["us-east-1"],
        arn: "arn:aws:iam::111122223333:role/airlock-upstream",
        username: "eks:airlock-upstream",
      }),
    );
    assert.equal(await whoami(encode(presigned(hostWord, amz(Date.now())))), "eks:airlock-upstream");
    assert.equal(await whoami(encode(presigned(hostWord, amz(Date.now() - 16 * 60_000)))), 401);
    assert.equal(await whoami(encode(presigned("sts.eu-west-1.amazonaws.com", amz(Date.now())))), 401);
    assert.equal(await whoami(encode(`${presigned(hostWord, amz(Date.now()))}&Foo=1`)), 401);
  });
});

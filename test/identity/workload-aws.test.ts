import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { createAwsVerifier } from "../../src/identity/workload/aws-verifier.ts";
import {
  canonicalizeArn,
  checkEksToken,
  EKS_TOKEN_PREFIX,
  stsHostAllowed,
} from "../../src/identity/workload/eks-token.ts";
import { presignEksToken } from "../../src/upstream/eks-token.ts";
import { ROLE_X, startTestSts, type TestSts } from "../helpers/test-sts.ts";

const decode = (token: string) =>
  Buffer.from(token.slice(EKS_TOKEN_PREFIX.length), "base64url").toString("utf8");
const encode = (url: string) => EKS_TOKEN_PREFIX + Buffer.from(url).toString("base64url");

describe("EKS token checks (aws-iam-authenticator steps 1–9)", () => {
  const now = Date.parse("2026-01-10T12:00:00Z");
  const base =
    "https://sts.us-east-1.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Algorithm=AWS4-HMAC-SHA256" +
    "&X-Amz-Credential=AKIA%2F20260110%2Fus-east-1%2Fsts%2Faws4_request&X-Amz-Date=20260110T115500Z&X-Amz-Expires=60" +
    "&X-Amz-SignedHeaders=host%3Bx-k8s-aws-id&X-Amz-Signature=abcd";
  const cases: [string, string, number | "ok"][] = [
    ["a well-formed token passes the offline checks", encode(base), "ok"],
    ["a token without the prefix is refused", Buffer.from(base).toString("base64url"), 1],
    [
      "a token longer than 4096 bytes is refused",
      encode(`${base}&X-Amz-Security-Token=${"a".repeat(4096)}`),
      1,
    ],
    ["a token that is not base64url is refused", `${EKS_TOKEN_PREFIX}aGVsbG8=+/`, 1],
    ["http is refused", encode(base.replace("https:", "http:")), 2],
    // Written in a way WHATWG URL forgives but Go's url.Parse reads differently: the gateway and STS must agree.
    ["a leading space is refused", encode(` ${base}`), 2],
    ["a backslash after the scheme is refused", encode(base.replace("https://", "https:\\\\")), 2],
    ["an explicit :443 is refused", encode(base.replace(".com/?", ".com:443/?")), 2],
    ["a percent-encoded host is refused", encode(base.replace("sts.us-east-1", "st%73.us-east-1")), 2],
    ["an upper-case host is refused", encode(base.replace("sts.us-east-1", "STS.us-east-1")), 2],
    ["a foreign host is refused", encode(base.replace("sts.us-east-1.amazonaws.com", "sts.evil.example")), 3],
    [
      "an STS look-alike host is refused",
      encode(base.replace("amazonaws.com/", "amazonaws.com.evil.io/")),
      3,
    ],
    [
      "a region outside the allow-list is refused",
      encode(base.replace("sts.us-east-1.", "sts.ap-south-1.")),
      3,
    ],
    ["a path other than / is refused", encode(base.replace(".com/?", ".com/x?")), 4],
    ["an extra query parameter is refused", encode(`${base}&Foo=bar`), 5],
    ["a repeated query parameter is refused", encode(`${base}&action=GetCallerIdentity`), 5],
    ["another action is refused", encode(base.replace("GetCallerIdentity", "AssumeRole")), 6],
    ["an unsigned x-k8s-aws-id is refused", encode(base.replace("host%3Bx-k8s-aws-id", "host")), 7],
    ["expires above 900 is refused", encode(base.replace("X-Amz-Expires=60", "X-Amz-Expires=901")), 8],
    [
      "a date older than 15 minutes is refused",
      encode(base.replace("20260110T115500Z", "20260110T114459Z")),
      9,
    ],
    ["a malformed date is refused", encode(base.replace("20260110T115500Z", "2026-01-10")), 9],
  ];
  for (const [name, token, want] of cases) {
    test(name, () => {
      const r = checkEksToken(token, { partition: "aws", regions: ["us-east-1", "eu-west-1"] }, now);
      if (want === "ok") assert.equal(r.ok, true, JSON.stringify(r));
      else {
        assert.equal(r.ok, false);
        assert.equal(!r.ok && r.step, want, JSON.stringify(r));
      }
    });
  }

  test("STS hosts follow the partition: FIPS, dual-stack, global only in aws", () => {
    assert.equal(stsHostAllowed("sts-fips.us-east-1.amazonaws.com", {}), true);
    assert.equal(stsHostAllowed("sts.eu-west-1.api.aws", {}), true);
    assert.equal(stsHostAllowed("sts.amazonaws.com", {}), true);
    assert.equal(stsHostAllowed("sts.amazonaws.com", { partition: "aws-cn" }), false);
    assert.equal(stsHostAllowed("sts.cn-north-1.amazonaws.com.cn", { partition: "aws-cn" }), true);
    assert.equal(stsHostAllowed("sts.cn-north-1.amazonaws.com.cn", { partition: "aws" }), false);
    assert.equal(stsHostAllowed("127.0.0.1:4443", { extraHosts: ["127.0.0.1:4443"] }), true);
    assert.equal(stsHostAllowed("127.0.0.1:4444", { extraHosts: ["127.0.0.1:4443"] }), false);
  });

  test("an assumed-role ARN is canonicalised to its role ARN", () => {
    assert.equal(
      canonicalizeArn("arn:aws:sts::111122223333:assumed-role/agent/airlock-x"),
      "arn:aws:iam::111122223333:role/agent",
    );
    assert.equal(canonicalizeArn("arn:aws:iam::111122223333:user/bob"), "arn:aws:iam::111122223333:user/bob");
    assert.equal(canonicalizeArn("arn:aws:sts::111122223333:federated-user/bob"), undefined);
    assert.equal(canonicalizeArn("arn:aws:sts::12:assumed-role/a/b"), undefined);
  });
});

describe("EKS tokens verified against a loopback STS", () => {
  let sts: TestSts;
  let verify: ReturnType<typeof createAwsVerifier>;
  const mint = (cluster: string, now = Date.now(), endpoint?: string) =>
    presignEksToken({
      cluster,
      region: "us-east-1",
      credentials: ROLE_X,
      stsEndpoint: endpoint ?? sts.url,
      now,
    }).then((t) => t.token);

  before(async () => {
    sts = await startTestSts();
    verify = createAwsVerifier({
      clusterId: "demo",
      extraHosts: [sts.host],
      caPem: sts.caPem,
      regions: ["us-east-1"],
    });
  });
  after(() => sts.close());

  test("a valid token for our cluster id is accepted and names the role", async () => {
    const v = await verify(await mint("demo"));
    assert.equal(v.ok, true, JSON.stringify(v));
    assert.ok(v.ok);
    assert.equal(v.identity.arn, ROLE_X.arn);
    assert.equal(v.identity.canonicalArn, "arn:aws:iam::111122223333:role/airlock-gateway");
    assert.equal(v.identity.sessionName, "i-0123456789");
    assert.equal(v.identity.account, "111122223333");
  });

  test("a token minted for another cluster id fails STS's signature check", async () => {
    const v = await verify(await mint("other-cluster"));
    assert.equal(v.ok, false);
    assert.match(!v.ok ? v.reason : "", /STS refused the token \(HTTP 403\)/);
  });

  test("an expired token is refused before STS is asked", async () => {
    const before = sts.calls.length;
    const v = await verify(await mint("demo", Date.now() - 16 * 60_000));
    assert.equal(v.ok, false);
    assert.match(!v.ok ? v.reason : "", /step 9/);
    assert.equal(sts.calls.length, before);
  });

  test("a token naming a foreign host is refused without contacting it", async () => {
    const v = await verify(await mint("demo", Date.now(), "https://127.0.0.2:9"));
    assert.equal(v.ok, false);
    assert.match(!v.ok ? v.reason : "", /step 3/);
  });

  test("a token with an extra query parameter is refused", async () => {
    const v = await verify(encode(`${decode(await mint("demo"))}&X-Amz-Foo=1`));
    assert.equal(v.ok, false);
    assert.match(!v.ok ? v.reason : "", /step 5/);
  });

  test("a tampered signature is refused by STS", async () => {
    const url = decode(await mint("demo")).replace(
      /X-Amz-Signature=([0-9a-f])/,
      (_m, c: string) => `X-Amz-Signature=${c === "0" ? "1" : "0"}`,
    );
    const v = await verify(encode(url));
    assert.equal(v.ok, false);
  });

  test("a refusal never carries the token or its signature", async () => {
    const token = await mint("other-cluster");
    const v = await verify(token);
    const signature = /X-Amz-Signature=([0-9a-f]+)/.exec(decode(token))?.[1] ?? "";
    assert.ok(signature.length > 10);
    const text = JSON.stringify(v);
    assert.ok(!text.includes(token.slice(EKS_TOKEN_PREFIX.length, 40)));
    assert.ok(!text.includes(signature));
  });
});

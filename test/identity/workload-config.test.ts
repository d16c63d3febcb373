import assert from "node:assert/strict";
import { test } from "node:test";
import { validateConfig } from "../../src/gateway/config.ts";

const eksCluster = {
  name: "prod",
  eks: {
    cluster: "prod",
    region: "eu-west-1",
    server: "https://ABC.gr7.eu-west-1.eks.amazonaws.com",
    caFile: "eks-ca.pem",
    roleArn: "arn:aws:iam::111122223333:role/airlock-upstream",
    sessionTags: { team: "platform" },
  },
};

test("an eks cluster and workload issuers validate, with file paths resolved against the config's folder", () => {
  const r = validateConfig(
    {
      clusters: [eksCluster],
      identity: {
        issuers: [
          {
            name: "ci",
            oidc: { issuer: "https://token.actions.githubusercontent.com", audiences: ["airlock"] },
          },
          { name: "cluster-sa", kubernetes: { cluster: "prod" } },
          { name: "aws", aws: { clusterId: "airlock-prod", regions: ["eu-west-1"], caFile: "sts.pem" } },
        ],
        rules: [{ issuer: "ci", subject: "repo:acme/*", identity: "ci-bot" }],
      },
    },
    "/etc/airlock",
  );
  assert.ok(r.ok, JSON.stringify(r));
  const c = r.config.clusters[0];
  assert.ok(c && "eks" in c);
  assert.equal(c.eks.caFile, "/etc/airlock/eks-ca.pem");
  const aws = r.config.identity.issuers[2];
  assert.ok(aws && "aws" in aws);
  assert.equal(aws.aws.caFile, "/etc/airlock/sts.pem");
  assert.deepEqual(
    r.config.identity.issuers[0] &&
      "oidc" in r.config.identity.issuers[0] &&
      r.config.identity.issuers[0].oidc.algorithms,
    ["RS256", "ES256"],
  );
});

test("identity config errors name their path: unknown issuer in a rule, unknown cluster, duplicate issuer, unknown key", () => {
  const r = validateConfig(
    {
      clusters: [eksCluster],
      identity: {
        issuers: [
          { name: "sa", kubernetes: { cluster: "nope" } },
          { name: "sa", kubernetes: { cluster: "prod" } },
        ],
        rules: [{ issuer: "missing", subject: "*", identity: "x" }],
      },
    },
    "/",
  );
  assert.equal(r.ok, false);
  const errors = r.ok ? [] : r.errors;
  assert.ok(
    errors.some((e) => e.startsWith("identity.issuers[0].kubernetes.cluster:")),
    errors.join("\n"),
  );
  assert.ok(
    errors.some((e) => e.startsWith("identity.issuers[1].name: duplicate")),
    errors.join("\n"),
  );
  assert.ok(
    errors.some((e) => e.startsWith("identity.rules[0].issuer:")),
    errors.join("\n"),
  );
  const typo = validateConfig(
    { clusters: [{ ...eksCluster, eks: { ...eksCluster.eks, rolearn: "x" } }] },
    "/",
  );
  assert.equal(typo.ok, false);
});

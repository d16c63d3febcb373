// EKS-style `k8s-aws-v1.` tokens for the simulator, configured by `<dir>/eks-auth.json`:
//   { "clusterId": "demo", "extraHosts": ["127.0.0.1:4443"], "regions": ["us-east-1"],
//     "arn": "arn:aws:iam::111122223333:role/airlock-upstream", "username": "eks:airlock", "groups": ["…"] }
// Steps 1–9 of aws-iam-authenticator's verification run for real (eks-verify.ts, the simulator's own); step 10 (the
// STS call) is faked with the configured ARN, as the wire-protocol notes (§8) suggest: the simulator's authentication
// is synchronous and a test STS is the place where signatures are checked. Without the file, such tokens
// authenticate nobody. A test tool: the cluster binding (signed x-k8s-aws-id) is not checked here.
import { readFileSync, statSync } from "node:fs";
import type { UserInfo } from "../contracts.ts";
import { EKS_TOKEN_PREFIX, verifyEksToken } from "./eks-verify.ts";

interface EksAuthFile {
  clusterId?: string;
  extraHosts?: string[];
  regions?: string[];
  partition?: string;
  arn: string;
  username: string;
  groups?: string[];
}

export { EKS_TOKEN_PREFIX };

/** A reader of `path` that is re-read when it changes; the returned function authenticates one token. */
export function eksTokenAuthenticator(
  path: string,
  now: () => number,
): (token: string) => UserInfo | undefined {
  let stamp = "";
  let config: EksAuthFile | undefined;
  return (token) => {
    try {
      const st = statSync(path);
      const current = `${st.mtimeMs}:${st.size}:${st.ino}`;
      if (current !== stamp) {
        config = JSON.parse(readFileSync(path, "utf8")) as EksAuthFile;
        stamp = current;
      }
    } catch {
      config = undefined;
      stamp = "";
    }
    if (!config || typeof config.arn !== "string" || typeof config.username !== "string") return undefined;
    const check = verifyEksToken(
      token,
      {
        ...(config.partition ? { partition: config.partition } : {}),
        ...(config.regions ? { regions: config.regions } : {}),
        ...(config.extraHosts ? { extraHosts: config.extraHosts } : {}),
      },
      now(),
    );
    if (!check.ok) return undefined;
    const groups = [...(config.groups ?? [])];
    if (!groups.includes("system:authenticated")) groups.push("system:authenticated");
    return {
      username: config.username,
      groups,
      extra: { arn: [config.arn], canonicalArn: [config.arn] },
    };
  };
}

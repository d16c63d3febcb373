// A loopback STS for tests: AssumeRole (header-signed POST, XML answer as the awsQuery protocol has it) and presigned
// GetCallerIdentity (query-signed GET, JSON answer as aws-iam-authenticator asks for). Every request's SigV4 signature
// is recomputed with the same library the gateway signs with, from the headers the request names as signed, and
// compared: so a presigned URL replayed with another x-k8s-aws-id fails exactly as at AWS. HTTPS only (the verifier
// refuses anything else); call close() in after().
import { randomBytes, timingSafeEqual } from "node:crypto";
import { once } from "node:events";
import type { IncomingMessage } from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { Sha256 } from "@aws-crypto/sha256-js";
import { SignatureV4 } from "@smithy/signature-v4";
import { createCertificateAuthority, issueServerCertificate } from "../../src/shared/tls.ts";

export const ROLE_X = {
  accessKeyId: "AKIATESTROLEX0000001",
  secretAccessKey: "test-secret-of-role-x-0123456789abcdefghij",
  arn: "arn:aws:sts::111122223333:assumed-role/airlock-gateway/i-0123456789",
  userId: "AROATESTROLEX:i-0123456789",
};
export const ACCOUNT = "111122223333";

interface Key {
  secretAccessKey: string;
  sessionToken?: string;
  arn: string;
  userId: string;
  expiresAt?: number;
}

export interface StsCall {
  action: string;
  accessKeyId: string;
  params: Record<string, string>;
  ok: boolean;
}

export interface TestSts {
  url: string;
  host: string;
  caPem: string;
  calls: StsCall[];
  /** Seconds assumed-role credentials live (default 3600). */
  setCredentialSeconds(s: number): void;
  close(): Promise<void>;
}

const HOISTED = new Set([
  "X-Amz-Algorithm",
  "X-Amz-Credential",
  "X-Amz-Date",
  "X-Amz-Expires",
  "X-Amz-SignedHeaders",
  "X-Amz-Signature",
  "X-Amz-Security-Token",
]);

function amzDate(s: string | undefined | null): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s ?? "");
  if (!m) return undefined;
  return new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`);
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

const xmlError = (code: string, message: string) =>
  `<ErrorResponse><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error></ErrorResponse>`;

export async function startTestSts(opts: { now?: () => number } = {}): Promise<TestSts> {
  const now = opts.now ?? Date.now;
  const ca = createCertificateAuthority("test-sts-ca");
  const tls = issueServerCertificate(ca, {
    commonName: "test-sts",
    dnsNames: ["localhost"],
    ipAddresses: ["127.0.0.1"],
  });
  const keys = new Map<string, Key>([[ROLE_X.accessKeyId, { ...ROLE_X }]]);
  const calls: StsCall[] = [];
  let credentialSeconds = 3600;

  const signerFor = (akid: string, key: Key, region: string) =>
    new SignatureV4({
      credentials: {
        accessKeyId: akid,
        secretAccessKey: key.secretAccessKey,
        ...(key.sessionToken ? { sessionToken: key.sessionToken } : {}),
      },
      region,
      service: "sts",
      sha256: Sha256,
    });

  const signedHeaders = (names: string[], req: IncomingMessage): Record<string, string> | undefined => {
    const out: Record<string, string> = {};
    for (const n of names) {
      const v = req.headers[n];
      if (typeof v !== "string") return undefined;
      out[n] = v;
    }
    return out;
  };

  async function getCallerIdentity(req: IncomingMessage, url: URL): Promise<[number, string]> {
    const q = url.searchParams;
    const [akid = "", , region = ""] = (q.get("X-Amz-Credential") ?? "").split("/");
    const key = keys.get(akid);
    const date = amzDate(q.get("X-Amz-Date"));
    if (!key || (key.sessionToken ?? null) !== q.get("X-Amz-Security-Token"))
      return [
        403,
        xmlError("InvalidClientTokenId", "The security token included in the request is invalid."),
      ];
    if (!date || now() > date.getTime() + 15 * 60_000 || (key.expiresAt && now() > key.expiresAt))
      return [403, xmlError("ExpiredToken", "Signature expired")];
    const headers = signedHeaders((q.get("X-Amz-SignedHeaders") ?? "").split(";"), req);
    if (!headers) return [403, xmlError("SignatureDoesNotMatch", "a signed header is missing")];
    const query: Record<string, string> = {};
    for (const [k, v] of q) if (!HOISTED.has(k)) query[k] = v;
    const again = await signerFor(akid, key, region).presign(
      {
        method: "GET",
        protocol: "https:",
        hostname: url.hostname,
        port: Number(url.port),
        path: "/",
        query,
        headers,
      },
      { expiresIn: Number(q.get("X-Amz-Expires")), signingDate: date },
    );
    const expected = again.query?.["X-Amz-Signature"];
    if (typeof expected !== "string" || !same(expected, q.get("X-Amz-Signature") ?? ""))
      return [403, xmlError("SignatureDoesNotMatch", "The request signature we calculated does not match")];
    const body = {
      GetCallerIdentityResponse: {
        GetCallerIdentityResult: { Account: key.arn.split(":")[4], Arn: key.arn, UserId: key.userId },
        ResponseMetadata: { RequestId: randomBytes(8).toString("hex") },
      },
    };
    return [200, JSON.stringify(body)];
  }

  async function assumeRole(req: IncomingMessage, url: URL, raw: string): Promise<[number, string]> {
    const auth =
      /^AWS4-HMAC-SHA256 Credential=([^/]+)\/\d{8}\/([^/]+)\/sts\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]+)$/.exec(
        req.headers.authorization ?? "",
      );
    const params = Object.fromEntries(new URLSearchParams(raw));
    const akid = auth?.[1] ?? "";
    const key = keys.get(akid);
    const date = amzDate(req.headers["x-amz-date"] as string | undefined);
    const headers = signedHeaders((auth?.[3] ?? "").split(";"), req);
    if (!auth || !key || !date || !headers)
      return [
        403,
        xmlError("InvalidClientTokenId", "The security token included in the request is invalid."),
      ];
    const signed = await signerFor(akid, key, auth[2] ?? "").sign(
      {
        method: "POST",
        protocol: "https:",
        hostname: url.hostname,
        port: Number(url.port),
        path: "/",
        query: {},
        headers,
        body: raw,
      },
      { signingDate: date },
    );
    const expected = /Signature=([0-9a-f]+)/.exec(String(signed.headers.authorization))?.[1] ?? "";
    calls.push({ action: "AssumeRole", accessKeyId: akid, params, ok: same(expected, auth[4] ?? "") });
    if (!same(expected, auth[4] ?? ""))
      return [403, xmlError("SignatureDoesNotMatch", "The request signature we calculated does not match")];
    const roleArn = params.RoleArn ?? "";
    const session = params.RoleSessionName ?? "";
    const role = /^arn:aws:iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/.exec(roleArn);
    if (!role || !/^[\w+=,.@-]{2,64}$/.test(session))
      return [400, xmlError("ValidationError", "bad RoleArn or RoleSessionName")];
    const newKey = `ASIA${randomBytes(8).toString("hex").toUpperCase()}`;
    const secret = randomBytes(20).toString("base64");
    const token = randomBytes(48).toString("base64");
    const expiresAt = now() + credentialSeconds * 1000;
    const arn = `arn:aws:sts::${role[1]}:assumed-role/${role[2]}/${session}`;
    keys.set(newKey, {
      secretAccessKey: secret,
      sessionToken: token,
      arn,
      userId: `AROATESTROLEY:${session}`,
      expiresAt,
    });
    return [
      200,
      `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><Credentials>` +
        `<AccessKeyId>${newKey}</AccessKeyId><SecretAccessKey>${secret}</SecretAccessKey><SessionToken>${token}</SessionToken>` +
        `<Expiration>${new Date(expiresAt).toISOString()}</Expiration></Credentials><AssumedRoleUser>` +
        `<AssumedRoleId>AROATESTROLEY:${session}</AssumedRoleId><Arn>${arn}</Arn></AssumedRoleUser></AssumeRoleResult>` +
        `<ResponseMetadata><RequestId>${randomBytes(8).toString("hex")}</RequestId></ResponseMetadata></AssumeRoleResponse>`,
    ];
  }

  const server = https.createServer({ cert: tls.certPem, key: tls.keyPem }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", `https://${req.headers.host}`);
      const raw = Buffer.concat(chunks).toString("utf8");
      const action =
        req.method === "GET" ? url.searchParams.get("Action") : new URLSearchParams(raw).get("Action");
      const run =
        req.method === "GET" && action === "GetCallerIdentity"
          ? getCallerIdentity(req, url).then((r) => {
              calls.push({ action: "GetCallerIdentity", accessKeyId: "", params: {}, ok: r[0] === 200 });
              return r;
            })
          : req.method === "POST" && action === "AssumeRole"
            ? assumeRole(req, url, raw)
            : Promise.resolve<[number, string]>([400, xmlError("InvalidAction", "not simulated")]);
      run.then(
        ([status, body]) => {
          const json = body.startsWith("{");
          res.writeHead(status, { "content-type": json ? "application/json" : "text/xml" }).end(body);
        },
        (err: Error) => res.writeHead(500).end(err.message),
      );
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    caPem: ca.certPem,
    calls,
    setCredentialSeconds(s) {
      credentialSeconds = s;
    },
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

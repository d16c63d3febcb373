// Certificate authority, server and client certificates for loopback HTTPS.
//
// kubectl sends credentials only over TLS, so the simulator and the gateway serve HTTPS with a CA they generate on
// first start. Keys are ECDSA P-256 (accepted by Go's crypto/tls, Node and browsers). Callers write private keys with
// mode 0600.
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  randomBytes,
  sign,
  X509Certificate,
} from "node:crypto";
import { existsSync } from "node:fs";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { isIPv4 } from "node:net";
import { join } from "node:path";
import * as der from "./der.ts";

export interface KeyAndCertificate {
  certPem: string;
  keyPem: string;
}

export type CertificateAuthority = KeyAndCertificate;

export interface ServerCertificateOptions {
  commonName: string;
  dnsNames: string[];
  ipAddresses: string[];
  validDays?: number;
}

export interface ClientCertificateOptions {
  commonName: string;
  organizations?: string[];
  validDays?: number;
  /** Certify this public key (SPKI PEM, held by the requester) instead of generating a key pair; keyPem is then "". */
  publicKeyPem?: string;
}

const OID = {
  ecdsaWithSha256: "1.2.840.10045.4.3.2",
  commonName: "2.5.4.3",
  organization: "2.5.4.10",
  basicConstraints: "2.5.29.19",
  keyUsage: "2.5.29.15",
  extKeyUsage: "2.5.29.37",
  subjectAltName: "2.5.29.17",
  subjectKeyId: "2.5.29.14",
  authorityKeyId: "2.5.29.35",
  serverAuth: "1.3.6.1.5.5.7.3.1",
  clientAuth: "1.3.6.1.5.5.7.3.2",
} as const;

// keyUsage bits (RFC 5280 §4.2.1.3), numbered from the most significant bit of the first byte.
const DIGITAL_SIGNATURE = 0x80;
const KEY_CERT_SIGN = 0x04;
const CRL_SIGN = 0x02;

interface Name {
  commonName: string;
  organizations?: string[];
}

function encodeName(name: Name): Buffer {
  const rdn = (type: string, value: string) => der.set(der.sequence(der.oid(type), der.utf8String(value)));
  return der.sequence(
    ...(name.organizations ?? []).map((o) => rdn(OID.organization, o)),
    rdn(OID.commonName, name.commonName),
  );
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return der.sequence(der.oid(id), ...(critical ? [der.boolean(true)] : []), der.octetString(value));
}

function keyUsage(bits: number): Buffer {
  return extension(OID.keyUsage, true, der.tlv(0x03, Buffer.from([0x00, bits])));
}

function keyIdentifier(spkiDer: Buffer): Buffer {
  // RFC 5280 method 1 would hash only the key bits; a hash of the whole SPKI is equally unique and simpler.
  return createHash("sha1").update(spkiDer).digest();
}

function toPem(label: string, body: Buffer): string {
  const b64 = body.toString("base64").replace(/(.{64})/g, "$1\n");
  return `-----BEGIN ${label}-----\n${b64.trimEnd()}\n-----END ${label}-----\n`;
}

function pemBody(pem: string): Buffer {
  const match = /-----BEGIN [^-]+-----([\s\S]+?)-----END/.exec(pem);
  if (!match?.[1]) throw new Error("not a PEM document");
  return Buffer.from(match[1].replace(/\s+/g, ""), "base64");
}

interface CertificateSpec {
  subject: Name;
  issuer: Name;
  subjectSpki: Buffer;
  issuerSpki: Buffer;
  signingKeyPem: string;
  validDays: number;
  extensions: Buffer[];
}

function buildCertificate(spec: CertificateSpec): string {
  const serial = randomBytes(16);
  serial[0] = (serial[0] ?? 0) & 0x7f;
  const algorithm = der.sequence(der.oid(OID.ecdsaWithSha256));
  const now = Date.now();
  const tbs = der.sequence(
    der.context(0, der.integer(2)),
    der.integerFromBytes(serial),
    algorithm,
    encodeName(spec.issuer),
    der.sequence(der.time(new Date(now - 3600_000)), der.time(new Date(now + spec.validDays * 86400_000))),
    encodeName(spec.subject),
    spec.subjectSpki,
    der.context(
      3,
      der.sequence(
        ...spec.extensions,
        extension(OID.subjectKeyId, false, der.octetString(keyIdentifier(spec.subjectSpki))),
        extension(
          OID.authorityKeyId,
          false,
          der.sequence(der.context(0, keyIdentifier(spec.issuerSpki), false)),
        ),
      ),
    ),
  );
  const signature = sign("sha256", tbs, createPrivateKey(spec.signingKeyPem));
  return toPem("CERTIFICATE", der.sequence(tbs, algorithm, der.bitString(signature)));
}

function newKeyPair(): { spki: Buffer; keyPem: string } {
  const { publicKey, privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  return {
    spki: publicKey.export({ type: "spki", format: "der" }),
    keyPem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
  };
}

function spkiOfKey(keyPem: string): Buffer {
  return createPublicKey(createPrivateKey(keyPem)).export({ type: "spki", format: "der" });
}

function subjectOf(ca: CertificateAuthority): Name {
  // Our CAs carry only a CN.
  const cn = /CN=([^\n]+)/.exec(new X509Certificate(ca.certPem).subject)?.[1] ?? "airlock";
  return { commonName: cn };
}

/** Creates a self-signed CA valid for ten years. */
export function createCertificateAuthority(commonName: string): CertificateAuthority {
  const { spki, keyPem } = newKeyPair();
  const name = { commonName };
  const certPem = buildCertificate({
    subject: name,
    issuer: name,
    subjectSpki: spki,
    issuerSpki: spki,
    signingKeyPem: keyPem,
    validDays: 3650,
    extensions: [
      extension(OID.basicConstraints, true, der.sequence(der.boolean(true), der.integer(0))),
      keyUsage(KEY_CERT_SIGN | CRL_SIGN | DIGITAL_SIGNATURE),
    ],
  });
  return { certPem, keyPem };
}

function issue(
  ca: CertificateAuthority,
  subject: Name,
  extensions: Buffer[],
  validDays: number,
  publicKeyPem?: string,
) {
  const { spki, keyPem } = publicKeyPem
    ? { spki: createPublicKey(publicKeyPem).export({ type: "spki", format: "der" }), keyPem: "" }
    : newKeyPair();
  const certPem = buildCertificate({
    subject,
    issuer: subjectOf(ca),
    subjectSpki: spki,
    issuerSpki: spkiOfKey(ca.keyPem),
    signingKeyPem: ca.keyPem,
    validDays,
    extensions: [extension(OID.basicConstraints, true, der.sequence()), ...extensions],
  });
  return { certPem, keyPem };
}

/** Issues a TLS server certificate for the given DNS names and IP addresses. */
export function issueServerCertificate(
  ca: CertificateAuthority,
  opts: ServerCertificateOptions,
): KeyAndCertificate {
  const altNames = [
    ...opts.dnsNames.map((n) => der.tlv(0x82, Buffer.from(n, "ascii"))),
    ...opts.ipAddresses.map((ip) => der.tlv(0x87, encodeIp(ip))),
  ];
  return issue(
    ca,
    { commonName: opts.commonName },
    [
      keyUsage(DIGITAL_SIGNATURE),
      extension(OID.extKeyUsage, false, der.sequence(der.oid(OID.serverAuth))),
      extension(OID.subjectAltName, false, der.sequence(...altNames)),
    ],
    opts.validDays ?? 825,
  );
}

/** Issues a TLS client certificate; Kubernetes reads CN as the user name and O as the groups. */
export function issueClientCertificate(
  ca: CertificateAuthority,
  opts: ClientCertificateOptions,
): KeyAndCertificate {
  return issue(
    ca,
    { commonName: opts.commonName, organizations: opts.organizations ?? [] },
    [keyUsage(DIGITAL_SIGNATURE), extension(OID.extKeyUsage, false, der.sequence(der.oid(OID.clientAuth)))],
    opts.validDays ?? 365,
    opts.publicKeyPem,
  );
}

function encodeIp(ip: string): Buffer {
  if (isIPv4(ip)) return Buffer.from(ip.split(".").map(Number));
  if (ip === "::1") return Buffer.from([...new Array(15).fill(0), 1]);
  throw new Error(`unsupported IP address in certificate: ${ip}`);
}

export { pemBody };

/** SHA-256 of a certificate's DER, in hex: how a certificate is named in the store and in audit notes. */
export function fingerprintOf(cert: X509Certificate): string {
  return createHash("sha256").update(cert.raw).digest("hex");
}

/**
 * A CA kept as DATA_DIR/tls/NAME.crt and NAME.key (0600), created with `commonName` on first start: the identity CA
 * and the agent CA are both kept this way.
 */
export async function loadOrCreateCa(
  dataDir: string,
  name: string,
  commonName: string,
): Promise<CertificateAuthority> {
  const dir = join(dataDir, "tls");
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const certPath = join(dir, `${name}.crt`);
  const keyPath = join(dir, `${name}.key`);
  if (!existsSync(certPath) || !existsSync(keyPath)) {
    const ca = createCertificateAuthority(commonName);
    await writeFile(keyPath, ca.keyPem, { mode: 0o600 });
    await writeFile(certPath, ca.certPem);
  }
  await chmod(keyPath, 0o600);
  const [certPem, keyPem] = await Promise.all([readFile(certPath, "utf8"), readFile(keyPath, "utf8")]);
  return { certPem, keyPem };
}

// The simulator's HTTPS certificates: a CA kept in its state directory (so kubeconfigs survive restarts) and a server
// certificate issued from it on every start. X.509 v3 per RFC 5280, written as DER by hand because Node can sign but
// not build certificates; ECDSA P-256 with SHA-256, which Go's crypto/tls (kubectl), Node and OpenSSL all accept.
// The simulator's own: it shares nothing with the gateway's certificate code.
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  sign,
} from "node:crypto";
import { isIPv4, isIPv6 } from "node:net";

export interface CertAndKey {
  certPem: string;
  keyPem: string;
}

const DAY = 86_400_000;
const OIDS = {
  ecdsaSha256: "1.2.840.10045.4.3.2",
  commonName: "2.5.4.3",
  subjectKeyId: "2.5.29.14",
  keyUsage: "2.5.29.15",
  subjectAltName: "2.5.29.17",
  basicConstraints: "2.5.29.19",
  extKeyUsage: "2.5.29.37",
  serverAuth: "1.3.6.1.5.5.7.3.1",
};

// --- DER, only the types a certificate needs ---------------------------------------------------------------------

function tlv(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  const n = body.length;
  const length =
    n < 0x80
      ? [n]
      : n < 0x100
        ? [0x81, n]
        : n < 0x10000
          ? [0x82, n >> 8, n & 0xff]
          : [0x83, n >> 16, (n >> 8) & 0xff, n & 0xff];
  return Buffer.concat([Buffer.from([tag, ...length]), body]);
}
const seq = (...items: Buffer[]) => tlv(0x30, ...items);
const explicit = (n: number, ...items: Buffer[]) => tlv(0xa0 + n, ...items);
const octets = (b: Buffer) => tlv(0x04, b);
const bool = (v: boolean) => tlv(0x01, Buffer.from([v ? 0xff : 0]));
const smallInt = (v: number) => tlv(0x02, Buffer.from([v])); // 0..127 only: version and pathLen

function oid(dotted: string): Buffer {
  const [a = 0, b = 0, ...rest] = dotted.split(".").map(Number);
  const bytes = [a * 40 + b];
  for (const arc of rest) {
    const base128 = [arc & 0x7f];
    for (let v = arc >>> 7; v > 0; v >>>= 7) base128.unshift((v & 0x7f) | 0x80);
    bytes.push(...base128);
  }
  return tlv(0x06, Buffer.from(bytes));
}

/** A BIT STRING of named bits (keyUsage): DER drops trailing zero bits and says how many it dropped. */
function namedBits(byte: number): Buffer {
  let unused = 0;
  while (unused < 7 && !((byte >> unused) & 1)) unused++;
  return tlv(0x03, Buffer.from([unused, byte]));
}

/** UTCTime through 2049, GeneralizedTime from 2050 (RFC 5280 §4.1.2.5). */
function time(date: Date): Buffer {
  const iso = date.toISOString().replace(/[-:T]/g, "").slice(0, 14); // YYYYMMDDHHMMSS
  return date.getUTCFullYear() < 2050
    ? tlv(0x17, Buffer.from(`${iso.slice(2)}Z`))
    : tlv(0x18, Buffer.from(`${iso}Z`));
}

/** Reads one TLV at `at`: where its content starts and ends (definite lengths, as DER has). */
function readTlv(der: Buffer, at: number): { start: number; end: number } {
  const first = der[at + 1] ?? 0;
  if (first < 0x80) return { start: at + 2, end: at + 2 + first };
  const count = first & 0x7f;
  const length = der.readUIntBE(at + 2, count);
  return { start: at + 2 + count, end: at + 2 + count + length };
}

// --- certificates ------------------------------------------------------------------------------------------------

const name = (cn: string) => seq(tlv(0x31, seq(oid(OIDS.commonName), tlv(0x0c, Buffer.from(cn, "utf8")))));

/** The uncompressed EC point, which key identifiers hash (RFC 5280 §4.2.1.2, method 1). */
function keyId(key: KeyObject): Buffer {
  const jwk = createPublicKey(key).export({ format: "jwk" });
  const point = Buffer.concat([
    Buffer.from([4]),
    Buffer.from(jwk.x ?? "", "base64url"),
    Buffer.from(jwk.y ?? "", "base64url"),
  ]);
  return createHash("sha1").update(point).digest();
}

const extension = (id: string, critical: boolean, value: Buffer) =>
  seq(oid(id), ...(critical ? [bool(true)] : []), octets(value));

function certificate(opts: {
  subject: Buffer;
  issuer: Buffer;
  publicKey: KeyObject;
  signer: KeyObject;
  days: number;
  extensions: Buffer[];
}): string {
  const serial = randomBytes(16);
  serial[0] = ((serial[0] ?? 0) & 0x3f) | 0x40; // positive, and no leading zero byte (minimal DER)
  const algorithm = seq(oid(OIDS.ecdsaSha256));
  const now = Date.now();
  const tbs = seq(
    explicit(0, smallInt(2)),
    tlv(0x02, serial),
    algorithm,
    opts.issuer,
    seq(time(new Date(now - 3600_000)), time(new Date(now + opts.days * DAY))),
    opts.subject,
    createPublicKey(opts.publicKey).export({ type: "spki", format: "der" }),
    explicit(3, seq(...opts.extensions)),
  );
  const signature = sign("sha256", tbs, opts.signer);
  const der = seq(tbs, algorithm, tlv(0x03, Buffer.from([0]), signature));
  return `-----BEGIN CERTIFICATE-----\n${der.toString("base64").replace(/.{64}/g, "$&\n").trimEnd()}\n-----END CERTIFICATE-----\n`;
}

function newKey(): { key: KeyObject; keyPem: string } {
  const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  return { key: privateKey, keyPem: privateKey.export({ type: "pkcs8", format: "pem" }).toString() };
}

/** A self-signed CA for ten years: basicConstraints CA (path length 0), keyCertSign + cRLSign + digitalSignature. */
export function createCa(commonName: string): CertAndKey {
  const { key, keyPem } = newKey();
  const subject = name(commonName);
  const certPem = certificate({
    subject,
    issuer: subject,
    publicKey: key,
    signer: key,
    days: 3650,
    extensions: [
      extension(OIDS.basicConstraints, true, seq(bool(true), smallInt(0))),
      extension(OIDS.keyUsage, true, namedBits(0x86)),
      extension(OIDS.subjectKeyId, false, octets(keyId(key))),
    ],
  });
  return { certPem, keyPem };
}

/** The subject Name of a PEM certificate, as its DER bytes: a leaf's issuer must repeat them exactly. */
function subjectDer(certPem: string): Buffer {
  const der = Buffer.from(certPem.replace(/-----[^-]+-----|\s/g, ""), "base64");
  const tbs = readTlv(der, readTlv(der, 0).start); // Certificate ::= SEQUENCE { tbsCertificate, ... }
  let at = tbs.start;
  if (der[at] === 0xa0) at = readTlv(der, at).end; // version
  for (let skip = 0; skip < 4; skip++) at = readTlv(der, at).end; // serial, signature, issuer, validity
  return der.subarray(at, readTlv(der, at).end);
}

function ipBytes(ip: string): Buffer {
  if (isIPv4(ip)) return Buffer.from(ip.split(".").map(Number));
  if (!isIPv6(ip) || ip.includes(".")) throw new Error(`cannot put ${ip} in a certificate`);
  const [head = "", tail] = ip.split("::");
  const groups = (s: string) => (s === "" ? [] : s.split(":").map((g) => Number.parseInt(g, 16)));
  const left = groups(head);
  const right = tail === undefined ? [] : groups(tail);
  const all = [...left, ...new Array(8 - left.length - right.length).fill(0), ...right];
  return Buffer.from(all.flatMap((g: number) => [g >> 8, g & 0xff]));
}

/**
 * A server certificate for 825 days, for the DNS names and IP addresses given, issued by `ca`. No authority key
 * identifier: a CA kept from an earlier version may identify its key another way, and a mismatch would break the chain.
 */
export function issueServerCert(
  ca: CertAndKey,
  opts: { commonName: string; dnsNames: string[]; ips: string[] },
): CertAndKey {
  const { key, keyPem } = newKey();
  const caKey = createPrivateKey(ca.keyPem);
  const altNames = [
    ...opts.dnsNames.map((dns) => tlv(0x82, Buffer.from(dns, "ascii"))),
    ...opts.ips.map((ip) => tlv(0x87, ipBytes(ip))),
  ];
  const certPem = certificate({
    subject: name(opts.commonName),
    issuer: subjectDer(ca.certPem),
    publicKey: key,
    signer: caKey,
    days: 825,
    extensions: [
      extension(OIDS.basicConstraints, true, seq()),
      extension(OIDS.keyUsage, true, namedBits(0x80)),
      extension(OIDS.extKeyUsage, false, seq(oid(OIDS.serverAuth))),
      extension(OIDS.subjectAltName, false, seq(...altNames)),
    ],
  });
  return { certPem, keyPem };
}

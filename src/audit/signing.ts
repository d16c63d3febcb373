// The audit signing key: Ed25519, kept at <dataDir>/audit-signing.key (PKCS#8 PEM, mode 0600), created on first
// start. Only checkpoints are signed; the public half (`airlock audit pubkey`) is what an auditor keeps elsewhere.
//
// Security stance: the private key never leaves this module's return value and is never logged; a key file that is
// readable by others is tightened to 0600, and one that holds anything but an Ed25519 private key is refused.
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
  verify,
} from "node:crypto";
import { chmod, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";

export const SIGNING_KEY_FILE = "audit-signing.key";

export interface SigningKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
  publicKeyPem: string;
  /** First 16 hex digits of SHA-256 over the public key's SPKI DER: names the key in each checkpoint. */
  keyId: string;
}

export function keyIdOf(publicKey: KeyObject): string {
  return createHash("sha256")
    .update(publicKey.export({ type: "spki", format: "der" }))
    .digest("hex")
    .slice(0, 16);
}

export function signingKeyFromPem(pem: string): SigningKey {
  const privateKey = createPrivateKey(pem);
  if (privateKey.asymmetricKeyType !== "ed25519")
    throw new Error("the audit signing key is not an Ed25519 key");
  const publicKey = createPublicKey(privateKey);
  return {
    privateKey,
    publicKey,
    publicKeyPem: publicKey.export({ type: "spki", format: "pem" }).toString(),
    keyId: keyIdOf(publicKey),
  };
}

export function generateSigningKey(): SigningKey {
  const { privateKey } = generateKeyPairSync("ed25519");
  return signingKeyFromPem(privateKey.export({ type: "pkcs8", format: "pem" }).toString());
}

/** Loads the data directory's signing key, creating it (0600) on first use. */
export async function loadOrCreateSigningKey(
  dataDir: string,
): Promise<SigningKey & { path: string; created: boolean }> {
  const path = join(dataDir, SIGNING_KEY_FILE);
  let pem: string;
  let created = false;
  try {
    pem = await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    pem = generateSigningKey().privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    // wx: two gateways starting on one data directory must not overwrite each other's key.
    await writeFile(path, pem, { mode: 0o600, flag: "wx" });
    created = true;
  }
  await chmod(path, 0o600);
  return { ...signingKeyFromPem(pem), path, created };
}

/** Reads a public key (SPKI PEM) for verification; refuses anything but Ed25519. */
export function publicKeyFromPem(pem: string): KeyObject {
  const key = createPublicKey(pem);
  if (key.asymmetricKeyType !== "ed25519") throw new Error("the audit public key is not an Ed25519 key");
  return key;
}

export function signText(key: KeyObject, text: string): string {
  return sign(null, Buffer.from(text, "utf8"), key).toString("base64");
}

export function verifyText(key: KeyObject, text: string, signatureB64: string): boolean {
  try {
    return verify(null, Buffer.from(text, "utf8"), key, Buffer.from(signatureB64, "base64"));
  } catch {
    return false;
  }
}

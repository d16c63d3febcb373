// The key Airlock signs its OAuth access tokens with: Ed25519, PKCS#8 PEM at <dataDir>/oauth-signing.key (or
// mcp.oauth.signingKeyFile), mode 0600, created on first start — kept like the audit signing key
// (src/audit/signing.ts). Several replicas verify each other's tokens only when they share this file.
//
// Security stance: the private key never leaves this module's return value and is never logged; a file holding
// anything but an Ed25519 private key is refused.
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
} from "node:crypto";
import { chmod, readFile, writeFile } from "node:fs/promises";

export interface TokenKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
  kid: string;
}

export async function loadOrCreateTokenKey(path: string): Promise<TokenKey> {
  let pem: string;
  try {
    pem = await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    const { privateKey } = generateKeyPairSync("ed25519");
    pem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    try {
      await writeFile(path, pem, { mode: 0o600, flag: "wx" });
    } catch (e) {
      // Another replica on the same file wrote it first: use theirs.
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      pem = await readFile(path, "utf8");
    }
  }
  await chmod(path, 0o600);
  const privateKey = createPrivateKey(pem);
  if (privateKey.asymmetricKeyType !== "ed25519")
    throw new Error(`the OAuth signing key ${path} is not an Ed25519 private key`);
  const publicKey = createPublicKey(privateKey);
  const kid = createHash("sha256")
    .update(publicKey.export({ type: "spki", format: "der" }))
    .digest("base64url")
    .slice(0, 16);
  return { privateKey, publicKey, kid };
}

// Airlock's identity CA: issues mTLS client certificates for identities and verifies the ones clients present.
//
// It is its own CA (DATA_DIR/tls/identity-ca.{crt,key}, created on first start, key 0600), apart from the CA of the
// gateway's server certificate, so that an operator-supplied server certificate does not disable mTLS and the key
// that mints identities signs nothing else. Security stance: a presented certificate authenticates only if this CA
// signed it, it is within its validity, it is meant for client auth, and its SHA-256 is a live credential in the
// store (so a single certificate is revocable). The certificate's subject is informational: the store says who it is.
import { X509Certificate } from "node:crypto";
import {
  type CertificateAuthority,
  fingerprintOf,
  issueClientCertificate,
  loadOrCreateCa,
} from "../shared/tls.ts";

export const DEFAULT_CERT_DAYS = 30;
export const MAX_CERT_DAYS = 365;

export interface IssuedCertificate {
  certPem: string;
  keyPem: string;
  /** SHA-256 of the DER, hex: the credential's lookup key. */
  fingerprint: string;
  serial: string;
  expiresAt: string;
}

export class IdentityCa {
  readonly #ca: CertificateAuthority;
  readonly #cert: X509Certificate;

  constructor(ca: CertificateAuthority) {
    this.#ca = ca;
    this.#cert = new X509Certificate(ca.certPem);
  }

  get caPem(): string {
    return this.#ca.certPem;
  }

  issue(identityName: string, validDays: number): IssuedCertificate {
    const days = Math.min(Math.max(1, Math.floor(validDays)), MAX_CERT_DAYS);
    const { certPem, keyPem } = issueClientCertificate(this.#ca, {
      commonName: identityName,
      validDays: days,
    });
    const cert = new X509Certificate(certPem);
    return {
      certPem,
      keyPem,
      fingerprint: fingerprintOf(cert),
      serial: cert.serialNumber.toLowerCase(),
      expiresAt: new Date(cert.validTo).toISOString(),
    };
  }

  /** The fingerprint of a presented certificate this CA vouches for at `nowMs`, or undefined. */
  verify(cert: X509Certificate, nowMs: number): string | undefined {
    try {
      if (!cert.checkIssued(this.#cert) || !cert.verify(this.#cert.publicKey)) return undefined;
      if (Date.parse(cert.validFrom) > nowMs || Date.parse(cert.validTo) <= nowMs) return undefined;
      if (cert.ca) return undefined;
      if (cert.keyUsage && !cert.keyUsage.includes("1.3.6.1.5.5.7.3.2")) return undefined;
      return fingerprintOf(cert);
    } catch {
      return undefined;
    }
  }
}

/** Loads the identity CA from DATA_DIR/tls, creating it on first start. */
export async function loadIdentityCa(dataDir: string): Promise<IdentityCa> {
  return new IdentityCa(await loadOrCreateCa(dataDir, "identity-ca", "airlock-identity-ca"));
}

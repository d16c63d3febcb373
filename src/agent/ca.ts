// The agent CA: issues the client certificates agents present on the tunnel port, each bound to one cluster.
//
// Kept like the identity CA (src/identity/ca.ts): its own CA in DATA_DIR/tls/agent-ca.{crt,key}, created on first
// start, key 0600, signing nothing else — so neither an identity's certificate nor the gateway's serving certificate
// can ever open a tunnel, and an agent's certificate is never an identity. A certificate's subject says which agent
// (CN = the agent id) and which cluster (O = "airlock-cluster:<name>"); both are checked on every connect against the
// stored agent record (src/agent/state.ts), so a dev cluster's agent can never register as prod.
import { createPublicKey, X509Certificate } from "node:crypto";
import {
  type CertificateAuthority,
  fingerprintOf,
  issueClientCertificate,
  loadOrCreateCa,
} from "../shared/tls.ts";

const CLUSTER_PREFIX = "airlock-cluster:";
const CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";

export interface AgentCertificate {
  certPem: string;
  fingerprint: string;
  expiresAt: string;
}

/**
 * The agent's public key (SPKI PEM) if it is one the agent CA certifies: EC P-256/P-384 or RSA of 2048 bits or more.
 * The agent makes its key pair and sends only the public half: its private key never leaves it.
 */
export function acceptablePublicKey(pem: unknown): string | undefined {
  if (typeof pem !== "string" || pem.length > 4096 || !pem.includes("-----BEGIN PUBLIC KEY-----"))
    return undefined;
  try {
    const key = createPublicKey(pem);
    const d = key.asymmetricKeyDetails ?? {};
    const ok =
      (key.asymmetricKeyType === "ec" && ["prime256v1", "secp384r1"].includes(String(d.namedCurve))) ||
      (key.asymmetricKeyType === "rsa" && (d.modulusLength ?? 0) >= 2048);
    return ok ? (key.export({ type: "spki", format: "pem" }) as string) : undefined;
  } catch {
    return undefined;
  }
}

/** Who a verified certificate says it is. */
export interface AgentSubject {
  agentId: string;
  cluster: string;
  fingerprint: string;
  expiresMs: number;
}

export class AgentCa {
  readonly #ca: CertificateAuthority;
  readonly #cert: X509Certificate;

  constructor(ca: CertificateAuthority) {
    this.#ca = ca;
    this.#cert = new X509Certificate(ca.certPem);
  }

  get caPem(): string {
    return this.#ca.certPem;
  }

  /**
   * A client certificate for agent `agentId` of `cluster` on the agent's own public key (acceptablePublicKey), valid
   * for `validSeconds` (from now, real time).
   */
  issue(agentId: string, cluster: string, validSeconds: number, publicKeyPem: string): AgentCertificate {
    const { certPem } = issueClientCertificate(this.#ca, {
      commonName: agentId,
      organizations: [`${CLUSTER_PREFIX}${cluster}`],
      validDays: validSeconds / 86_400,
      publicKeyPem,
    });
    const cert = new X509Certificate(certPem);
    return {
      certPem,
      fingerprint: fingerprintOf(cert),
      expiresAt: new Date(cert.validTo).toISOString(),
    };
  }

  /**
   * The agent and cluster of a presented certificate this CA signed, for client auth, within its validity at `nowMs`
   * (the gateway's clock), with exactly one cluster in its subject; otherwise undefined.
   */
  verify(cert: X509Certificate, nowMs: number): AgentSubject | undefined {
    try {
      if (!cert.checkIssued(this.#cert) || !cert.verify(this.#cert.publicKey)) return undefined;
      if (cert.ca) return undefined;
      if (!cert.keyUsage?.includes(CLIENT_AUTH)) return undefined;
      const from = Date.parse(cert.validFrom);
      const to = Date.parse(cert.validTo);
      if (from > nowMs || to <= nowMs) return undefined;
      const fields = cert.subject.split("\n");
      const cn = fields.filter((f) => f.startsWith("CN="));
      const orgs = fields.filter((f) => f.startsWith("O="));
      if (cn.length !== 1 || orgs.length !== 1) return undefined;
      const agentId = cn[0]!.slice(3);
      const org = orgs[0]!.slice(2);
      if (!org.startsWith(CLUSTER_PREFIX)) return undefined;
      return {
        agentId,
        cluster: org.slice(CLUSTER_PREFIX.length),
        fingerprint: fingerprintOf(cert),
        expiresMs: to,
      };
    } catch {
      return undefined;
    }
  }
}

/** Loads the agent CA from DATA_DIR/tls, creating it on first start. */
export async function loadAgentCa(dataDir: string): Promise<AgentCa> {
  return new AgentCa(await loadOrCreateCa(dataDir, "agent-ca", "airlock-agent-ca"));
}

// Builds a kubeconfig that points kubectl at the gateway with an Airlock token. Pure; the CLI and the admin API
// both use it. The result holds a bearer token: whoever writes it to disk must use mode 0600.
import { stringify } from "yaml";

export interface KubeconfigInput {
  /** The gateway's base URL, e.g. https://127.0.0.1:8443. */
  server: string;
  /** PEM of the CA that signed the gateway's certificate; omitted when the gateway has a publicly trusted one. */
  caPem?: string;
  identity: string;
  /** Exactly one of token, clientCertificate and exec says how the user authenticates. */
  token?: string;
  /** An mTLS client certificate issued by Airlock's identity CA (PEM); the file then holds its private key. */
  clientCertificate?: { certPem: string; keyPem: string };
  /** A kubectl exec credential plugin (`airlock credential`): the file holds no secret of its own. */
  exec?: { command: string; args: string[]; env?: { name: string; value: string }[] };
  /** Selects `/k8s/<cluster>` on a gateway with several clusters. */
  cluster?: string;
  /** The context's default namespace. */
  namespace?: string;
  /** A comment written at the top of the file. */
  comment?: string;
}

export const CLUSTER_NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

export function buildKubeconfig(input: KubeconfigInput): string {
  const url = new URL(input.server);
  if (url.protocol !== "https:")
    throw new Error(`the server must be an https:// URL (kubectl sends tokens only over TLS)`);
  if (input.cluster !== undefined && !CLUSTER_NAME.test(input.cluster)) {
    throw new Error(
      `cluster "${input.cluster}" is not a valid cluster name (lower-case letters, digits and '-')`,
    );
  }
  const base = url.href.replace(/\/+$/, "");
  const server = input.cluster ? `${base}/k8s/${input.cluster}` : base;
  const name = input.cluster ? `airlock-${input.cluster}` : "airlock";
  const cluster: Record<string, string> = { server };
  if (input.caPem)
    cluster["certificate-authority-data"] = Buffer.from(input.caPem, "utf8").toString("base64");
  const header = input.comment ? `${input.comment.replace(/^/gm, "# ")}\n` : "";
  return (
    header +
    stringify({
      apiVersion: "v1",
      kind: "Config",
      clusters: [{ name, cluster }],
      users: [{ name: input.identity, user: userEntry(input) }],
      contexts: [
        {
          name: `${input.identity}@${name}`,
          context: {
            cluster: name,
            user: input.identity,
            ...(input.namespace ? { namespace: input.namespace } : {}),
          },
        },
      ],
      "current-context": `${input.identity}@${name}`,
      preferences: {},
    })
  );
}

function userEntry(input: KubeconfigInput): Record<string, unknown> {
  const given = [input.token, input.clientCertificate, input.exec].filter((v) => v !== undefined).length;
  if (given !== 1)
    throw new Error("a kubeconfig user needs exactly one of a token, a client certificate or an exec plugin");
  if (input.token !== undefined) return { token: input.token };
  if (input.clientCertificate) {
    return {
      "client-certificate-data": Buffer.from(input.clientCertificate.certPem, "utf8").toString("base64"),
      "client-key-data": Buffer.from(input.clientCertificate.keyPem, "utf8").toString("base64"),
    };
  }
  const exec = input.exec as NonNullable<KubeconfigInput["exec"]>;
  return {
    exec: {
      apiVersion: "client.authentication.k8s.io/v1",
      command: exec.command,
      args: exec.args,
      env: exec.env ?? null,
      // The plugin never prompts: it trades a token it already has, so kubectl need not hand it a terminal.
      interactiveMode: "Never",
      provideClusterInfo: true,
    },
  };
}

// A kubeconfig whose user runs the `airlock credential` exec plugin (as the demo's agent kubeconfig does), for tests
// that give a justification per kubectl command (AIRLOCK_REASON) or per credential (--reason).
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { buildKubeconfig } from "../../src/admin/index.ts";
import { execPlugin } from "../../src/cli/kubeconfig.ts";
import type { TestGateway } from "./gateway.ts";

/** Writes DIR/NAME.kubeconfig for `identity` (its long-lived token in a file next to it); returns its path. */
export async function execKubeconfig(
  gw: TestGateway,
  name: string,
  identity: { name: string; token: string },
  opts: { reason?: string } = {},
): Promise<string> {
  const caFile = join(gw.dir, "exec-plugin-ca.crt");
  const tokenFile = join(gw.dir, `${name}.token`);
  await writeFile(caFile, gw.gateway.caPem);
  await writeFile(tokenFile, identity.token, { mode: 0o600 });
  const exec = execPlugin(gw.gateway.url, {
    ca: caFile,
    "token-file": tokenFile,
    ...(opts.reason ? { reason: opts.reason } : {}),
  });
  exec.args.push("--cache-dir", join(gw.dir, "credential-cache"));
  const path = join(gw.dir, `${name}.kubeconfig`);
  const text = buildKubeconfig({
    server: gw.gateway.url,
    caPem: gw.gateway.caPem,
    identity: identity.name,
    exec,
  });
  await writeFile(path, text, { mode: 0o600 });
  return path;
}

// The bootstrap admin token: written to DATA_DIR/admin.token (mode 0600) on first start, so an operator can create
// the first identities. Only its hash is kept in memory; the path, never the token, is printed.
import { existsSync } from "node:fs";
import { chmod, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { generateToken, hashToken } from "../shared/tokens.ts";

export async function ensureAdminToken(
  dataDir: string,
): Promise<{ path: string; hash: string; created: boolean }> {
  const path = join(dataDir, "admin.token");
  let created = false;
  if (!existsSync(path)) {
    await writeFile(path, `${generateToken()}\n`, { mode: 0o600 });
    created = true;
  }
  await chmod(path, 0o600);
  const token = (await readFile(path, "utf8")).trim();
  if (!token) throw new Error(`${path} is empty; delete it and restart to generate a new admin token`);
  return { path, hash: hashToken(token), created };
}

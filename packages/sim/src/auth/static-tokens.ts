// Static bearer tokens from a kube-apiserver `--token-auth-file` style CSV: `token,user,uid,"group1,group2"`.
//
// Tests use it to create ordinary users. Only SHA-256 hashes of the tokens are kept in memory, and a presented
// token is compared with every entry in constant time, so neither timing nor a heap dump reveals a token. A
// malformed line is skipped (kube refuses the whole file at start-up; a simulator that keeps serving is friendlier).
import { createHash, timingSafeEqual } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import type { UserInfo } from "../contracts.ts";

interface Entry {
  hash: Buffer;
  user: UserInfo;
}

const sha256 = (s: string) => createHash("sha256").update(s).digest();

/** Splits one CSV record, honouring double quotes ("" is a literal quote). */
export function parseCsvLine(line: string): string[] {
  const fields: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") {
      fields.push(field);
      field = "";
    } else field += c;
  }
  fields.push(field);
  return fields;
}

// kube-apiserver's AuthenticatedGroupAdder gives every authenticated user this group.
function withAuthenticated(groups: string[]): string[] {
  return groups.includes("system:authenticated") ? groups : [...groups, "system:authenticated"];
}

export function parseTokenFile(text: string): Entry[] {
  const entries: Entry[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const [token, name, uid, groups] = parseCsvLine(line);
    if (!token || !name) continue;
    const user: UserInfo = {
      username: name,
      groups: withAuthenticated(
        groups
          ? groups
              .split(",")
              .map((g) => g.trim())
              .filter(Boolean)
          : [],
      ),
      extra: {},
    };
    if (uid) user.uid = uid;
    entries.push({ hash: sha256(token), user });
  }
  return entries;
}

/** Constant-time lookup: every entry is compared, whatever matches. */
export function lookupToken(entries: Entry[], token: string): UserInfo | undefined {
  const hash = sha256(token);
  let found: UserInfo | undefined;
  for (const e of entries) {
    if (timingSafeEqual(e.hash, hash) && !found) found = e.user;
  }
  return found;
}

/** A token file that is re-read when its modification time changes, so tests can add users to a running server. */
export function watchTokenFile(path: string): (token: string) => UserInfo | undefined {
  let stamp = "";
  let entries: Entry[] = [];
  return (token) => {
    let current: string;
    try {
      const st = statSync(path);
      current = `${st.mtimeMs}:${st.size}:${st.ino}`;
    } catch {
      entries = [];
      stamp = "";
      return undefined;
    }
    if (current !== stamp) {
      entries = parseTokenFile(readFileSync(path, "utf8"));
      stamp = current;
    }
    return lookupToken(entries, token);
  };
}

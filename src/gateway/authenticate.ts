// authenticate: bearer token → Principal. Fail closed: anything but a well-formed bearer token of an active identity
// is 401. The token is hashed at once and never kept, logged or forwarded.
import type { IncomingHttpHeaders } from "node:http";
import { failure, type Status } from "../shared/status.ts";
import { bearerToken, hashToken } from "../shared/tokens.ts";
import type { Principal, Store } from "./contracts.ts";

export type AuthResult = { ok: true; principal: Principal } | { ok: false; status: Status };

const UNAUTHORIZED = failure(
  "Unauthorized",
  "Unauthorized: airlock needs a valid identity token (Authorization: Bearer …)",
);

export async function authenticate(store: Store, headers: IncomingHttpHeaders): Promise<AuthResult> {
  const token = bearerToken(headers.authorization);
  if (!token) return { ok: false, status: UNAUTHORIZED };
  const found = await store.authenticateToken(hashToken(token));
  if (!found) return { ok: false, status: UNAUTHORIZED };
  const { identity, credential } = found;
  return {
    ok: true,
    principal: {
      identityId: identity.id,
      kind: identity.kind,
      name: identity.name,
      groups: identity.groups,
      labels: identity.labels,
      credentialId: credential.id,
    },
  };
}

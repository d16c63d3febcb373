// authenticate: the credential → Principal (src/identity), then the session the request belongs to, so every audit
// event of the caller names its session. An internal entry (MCP) was authenticated where it entered, by the same chain.
import { peerCertificateOf } from "../../identity/authenticate.ts";
import { authenticate as tokensOnly } from "../../identity/authenticators.ts";
import { assignSession } from "../recording.ts";
import type { Stage } from "./types.ts";

export const authenticate: Stage = async ({ gw, ctx, req, entry }) => {
  const auth = entry
    ? ({ ok: true, principal: entry.principal } as const)
    : gw.authenticate
      ? await gw.authenticate({ headers: ctx.headers, peerCertificate: peerCertificateOf(req) })
      : await tokensOnly(gw.store, ctx.headers);
  if (!auth.ok) return auth.status;
  ctx.principal = auth.principal;
  await assignSession(gw, ctx);
  return undefined;
};

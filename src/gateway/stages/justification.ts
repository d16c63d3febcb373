// justification: the one reason this request is sent with (issue 21), settled before policy reads it, the review
// binds it and the audit event records it.
//
// Two places can carry one: per request (the Airlock-Justification header, or an MCP call's `justification`
// argument), and per credential (the reason a session credential was issued with: `airlock credential --reason`,
// AIRLOCK_REASON). Precedence: the per-request one, when the credential has none or the same text; when both are
// present and differ the request is refused (the audit and the reviewer must see exactly one reason). A repeated
// header, a malformed one, or text that is not one printable line of at most 500 characters is refused with why.
import { justificationConflict, justificationInvalid } from "../../kube/refusals.ts";
import {
  checkJustification,
  decodeJustificationHeader,
  JUSTIFICATION_HEADER,
} from "../../shared/justification.ts";
import type { Stage } from "./types.ts";

const HEADER = "the Airlock-Justification header";
const ARGUMENT = "the justification argument";

export const justification: Stage = async ({ ctx, entry }) => {
  const principal = ctx.principal;
  if (!principal) throw new Error("pipeline: justification ran before authenticate");
  const sent: string[] = [];
  for (let i = 0; i < ctx.rawHeaders.length; i += 2) {
    if (ctx.rawHeaders[i]?.toLowerCase() === JUSTIFICATION_HEADER) sent.push(ctx.rawHeaders[i + 1] ?? "");
  }
  if (sent.length > 1)
    return justificationInvalid(HEADER, "the header is sent more than once; send it once per request");
  let perRequest: { value: string; where: string } | undefined;
  if (sent[0] !== undefined) {
    const decoded = decodeJustificationHeader(sent[0]);
    if (!decoded.ok) return justificationInvalid(HEADER, decoded.why);
    perRequest = { value: decoded.value, where: HEADER };
  }
  if (entry?.justification !== undefined) {
    const checked = checkJustification(entry.justification);
    if (!checked.ok) return justificationInvalid(ARGUMENT, checked.why);
    if (perRequest && perRequest.value !== checked.value) return justificationConflict(ARGUMENT);
    perRequest = { value: checked.value, where: ARGUMENT };
  }
  const bound = principal.justification;
  if (perRequest && bound !== undefined && bound !== perRequest.value)
    return justificationConflict(perRequest.where);
  const effective = perRequest?.value ?? bound;
  // A copy: an internal entry's principal serves every call of its MCP session, and one call's reason is its own.
  const { justification: _dropped, ...rest } = principal;
  ctx.principal = effective === undefined ? rest : { ...rest, justification: effective };
  return undefined;
};

// body: one reading of the body, by a strict reader for its media type; what is forwarded is the JSON of that
// reading (YAML is converted). Then the write's options as the apiserver resolves them, and no masking marker may
// flow back (a body carrying one would store it in place of the real value).
import { readRequestBody } from "../../kube/classify/body.ts";
import { resolveWriteOptions } from "../../kube/classify/options.ts";
import { readBody } from "../body.ts";
import { header } from "../context.ts";
import { bodyRefusal } from "../request-limits.ts";
import { refuseMarkers } from "../transform/markers.ts";
import { admitted, type Stage } from "./types.ts";

export const body: Stage = async (flow) => {
  const { gw, ctx } = flow;
  const { kube } = admitted(flow);
  const read = await readBody(
    flow.req,
    gw.config.limits.maxRequestBodyBytes,
    gw.config.limits.requestTimeoutSeconds,
  );
  if (!read.ok) return bodyRefusal(gw, read);
  const parsed = readRequestBody(
    ctx.method,
    kube,
    {
      contentType: header(ctx.headers, "content-type"),
      contentEncoding: header(ctx.headers, "content-encoding"),
    },
    read.body,
  );
  if (!parsed.ok) return parsed.status;
  if (parsed.value !== undefined) kube.body = parsed.value;
  flow.body = parsed.body;
  const options = resolveWriteOptions(kube, parsed.value, Boolean(parsed.body?.length));
  if (!options.ok) return options.status;
  kube.options = options.value;
  if (parsed.contentType !== header(ctx.headers, "content-type")) {
    // Every later stage (review fingerprint and preview, audit, forward) sees the Content-Type that is sent.
    ctx.headers["content-type"] = parsed.contentType;
    flow.forward = flow.forward.filter(([n]) => n.toLowerCase() !== "content-type");
    if (parsed.contentType) flow.forward.push(["Content-Type", parsed.contentType]);
  }
  return refuseMarkers(kube, read.body);
};

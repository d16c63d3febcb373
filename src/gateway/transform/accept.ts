// Accept rewriting (invariant 10: masking cannot be negotiated away). When a response must be masked, the cluster
// is asked for JSON: every protobuf or CBOR media range becomes its JSON twin with the same parameters (so
// `as=Table;g=meta.k8s.io;v=v1` survives), duplicates are dropped, and an Accept with nothing JSON left asks for
// plain `application/json`. kubectl and client-go pick the decoder from the response Content-Type, so they read the
// JSON answer (wire-protocol §4). Request bodies are not touched.

const BINARY = /^application\/(?:vnd\.kubernetes\.protobuf|cbor|apply-patch\+cbor|x-protobuf|protobuf)$/i;

/** The Accept header to send upstream when masking applies. */
export function jsonAccept(accept: string | undefined): string {
  const out: string[] = [];
  for (const raw of (accept ?? "").split(",")) {
    const range = raw.trim();
    if (!range) continue;
    const [type = "", ...params] = range.split(";").map((p) => p.trim());
    const kept = params.filter((p) => !/^stream=/i.test(p));
    let mediaType = type;
    if (BINARY.test(type)) mediaType = "application/json";
    else if (
      !/^(?:application\/json|application\/[\w.+-]+\+json|\*\/\*|application\/\*|text\/.+)$/i.test(type)
    )
      continue;
    const rewritten = [mediaType, ...kept].join(";");
    if (!out.includes(rewritten)) out.push(rewritten);
  }
  if (out.length === 0 || !out.some((r) => /json|\*\/\*|^text\//i.test(r))) out.push("application/json");
  return out.join(",");
}

/** The forwarded header list with Accept replaced (or added) for a masked response. */
export function withJsonAccept(headers: readonly [string, string][]): [string, string][] {
  const accept = headers.filter(([k]) => k.toLowerCase() === "accept").map(([, v]) => v);
  const rest = headers.filter(([k]) => k.toLowerCase() !== "accept");
  return [...rest, ["Accept", jsonAccept(accept.length ? accept.join(",") : undefined)]];
}

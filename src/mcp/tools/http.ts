// k8s_pod_http: one bounded HTTP request to a port of a pod through pods/proxy ("GET /healthz on pod X port 8080"),
// through the pipeline as the caller: policy decides the `proxy` action (agents are denied it unless a rule names it),
// the answer is masked like any other body (profile detectors plus the values of the Secrets the pod uses), audited
// and recorded. Bounded: GET only, a validated path (no `..`, no scheme or host, no encoded separators, ≤ 512
// characters), at most MAX_BYTES of answer (the rest cut, said) and WINDOW_MS of waiting (then cancelled, said).
import { z } from "zod";
import { failed, json, kubeWindow, masking, ok, text, toolError, warnings } from "../call.ts";
import { capText, untrusted } from "../format.ts";
import { checkName, checkNamespace } from "../resources.ts";
import { common, defineTool, READ_ONLY } from "./define.ts";

export const MAX_HTTP_BYTES = 64 * 1024;
const WINDOW_MS = 10_000;
const MAX_PATH = 512;

/** Why a path cannot be sent (undefined: it can). The path is the pod application's, after the proxy prefix. */
export function checkProxyPath(path: string): string | undefined {
  if (path.length > MAX_PATH) return `path is longer than ${MAX_PATH} characters`;
  if (!path.startsWith("/") || path.startsWith("//"))
    return 'path must start with a single "/" (a path on the pod, no scheme or host)';
  if (!/^[A-Za-z0-9\-._~!$&'()*+,;=:@%/?]*$/.test(path))
    return "path may hold only URL characters (no spaces, backslashes, quotes, # or control characters)";
  const [p = "", ...rest] = path.split("?");
  if (rest.length > 1) return 'path has more than one "?"';
  let decoded: string;
  try {
    decoded = decodeURIComponent(p);
  } catch {
    return "path has an invalid percent-encoding";
  }
  // A decoded separator or dot segment would let the cluster and the gateway read two different paths.
  if (/%2f|%5c|%2e|%00/i.test(p)) return "path may not percent-encode '/', '\\', '.' or NUL";
  if (decoded.split("/").some((s) => s === ".." || s === "."))
    return 'path may not hold "." or ".." segments';
  if (/[\u0000-\u001f\u007f]/.test(decoded)) return "path may not hold control characters";
  return undefined;
}

export const podHttpTool = defineTool({
  name: "k8s_pod_http",
  title: "HTTP GET to a pod's port",
  description:
    'One bounded HTTP GET to a port of a pod through the Kubernetes API proxy (pods/proxy), e.g. path "/healthz" ' +
    `on pod "web-1" port 8080. The answer is capped at ${MAX_HTTP_BYTES / 1024} KiB and ${WINDOW_MS / 1000} s and ` +
    "masked like any other answer. Policy decides the `proxy` action on pods separately from reading them.",
  input: {
    pod: z.string().min(1).describe("Pod name"),
    port: z.number().int().min(1).max(65535).describe("The container port to send the request to"),
    path: z
      .string()
      .max(MAX_PATH)
      .optional()
      .describe('Path (and query) on the pod, e.g. "/healthz" or "/metrics?x=1" (default "/")'),
    method: z.enum(["GET"]).optional().describe("HTTP method: only GET"),
    timeoutSeconds: z
      .number()
      .int()
      .min(1)
      .max(WINDOW_MS / 1000)
      .optional()
      .describe(`How long to wait for the whole answer (default and most ${WINDOW_MS / 1000})`),
    namespace: common.namespace,
    cluster: common.cluster,
  },
  output: {
    pod: z.string(),
    port: z.number(),
    path: z.string(),
    status: z.number(),
    contentType: z.string(),
    body: z.string(),
    bytes: z.number(),
    truncated: z.boolean(),
    timedOut: z.boolean(),
  },
  // A GET: read-only by HTTP semantics; open-world because it reaches the application in the pod, not the API.
  annotations: { ...READ_ONLY, openWorldHint: true },
  async run(c, a) {
    const namespace = a.namespace ?? "default";
    if (checkNamespace(namespace)) return toolError(checkNamespace(namespace) ?? "");
    if (checkName(a.pod)) return toolError(checkName(a.pod) ?? "");
    const path = a.path ?? "/";
    const bad = checkProxyPath(path);
    if (bad) return toolError(`path refused: ${bad}`);
    const [p = "/", q] = path.split("?");
    const query = Object.fromEntries(new URLSearchParams(q ?? ""));
    const prefix = a.cluster ? `/k8s/${a.cluster}` : "";
    const window = (a.timeoutSeconds ?? WINDOW_MS / 1000) * 1000;
    const res = await kubeWindow(
      c,
      {
        method: "GET",
        path: `${prefix}/api/v1/namespaces/${namespace}/pods/${a.pod}:${a.port}/proxy${p}`,
        query,
        headers: { accept: "*/*" },
      },
      window,
      MAX_HTTP_BYTES,
    );
    const contentType = String(res.headers["content-type"] ?? "");
    const status = json(res) as { kind?: string } | undefined;
    // A Status is the gateway's or the API server's answer (refusal, pod not running, nothing listening).
    if (!ok(res) && status?.kind === "Status") return failed(c, res);
    const timedOut = !res.ended && !res.truncated;
    const binary = !/^(text\/|application\/(json|xml|[\w.+-]+\+(json|xml))|$)/i.test(contentType);
    const raw = binary ? "" : res.body.toString("utf8");
    const capped = capText(raw, "a narrower path");
    const notes = [...warnings(res)];
    if (binary) notes.push(`The answer is ${res.body.length} bytes of ${contentType}, not shown as text.`);
    if (res.truncated) notes.push(`Answer cut at ${MAX_HTTP_BYTES} bytes (the rest was not read).`);
    if (timedOut)
      notes.push(`No complete answer within ${window / 1000} s: stopped waiting (what came is shown).`);
    const masked = masking(res, capped.text);
    const head = `HTTP ${res.status}${contentType ? ` (${contentType})` : ""} from pod ${a.pod} port ${a.port} GET ${path}`;
    const body = [
      head,
      untrusted(`HTTP answer of pod ${a.pod}`, capped.text || "(empty body)"),
      ...notes,
      ...(masked ? [masked.line] : []),
    ].join("\n");
    return text(body, {
      pod: a.pod,
      port: a.port,
      path,
      status: res.status,
      contentType,
      body: capped.text,
      bytes: res.body.length,
      truncated: res.truncated || capped.truncated,
      timedOut,
      ...(masked ? { masked: masked.structured } : {}),
    });
  },
});

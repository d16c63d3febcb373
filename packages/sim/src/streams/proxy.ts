// GET pods/{name}[:port]/proxy/{path}: an HTTP request relayed to what listens on one of the pod's declared ports
// (the in-process responder of responder.ts, the same one port-forward reaches). The answer (status, content type,
// body) is relayed as the application sent it, as kube-apiserver's proxy does.
//
// Failure stance: a pod that is not running is 400 as for exec; a port nothing listens on is 503 with the dial error
// kube-apiserver reports ("error trying to reach service"); only GET and HEAD are relayed (the simulator's
// applications read nothing).

import type { IncomingMessage, ServerResponse } from "node:http";
import { request } from "node:http";
import type { SimRequest, StreamContext } from "../contracts.ts";
import { StatusError } from "../status.ts";
import { containerEnv, storeEnvSources } from "./env.ts";
import { findPod, requireRunning } from "./pod.ts";
import { asStatus, sendStatus } from "./respond.ts";
import { connectToPort, declaredPorts } from "./responder.ts";

export function handlePodProxy(
  ctx: StreamContext,
  route: SimRequest,
  req: IncomingMessage,
  res: ServerResponse,
): void {
  try {
    const m = /^([^:]+)(?::(\d{1,5}))?$/.exec(route.name);
    if (!m) throw StatusError.of("BadRequest", `invalid pod name and port "${route.name}"`);
    const view = findPod(ctx, route.namespace, m[1] as string);
    requireRunning(view, undefined, "exec");
    const port = m[2] !== undefined ? Number(m[2]) : declaredPorts(view)[0];
    if (port === undefined) throw StatusError.of("ServiceUnavailable", "no endpoints available for pod");
    if (req.method !== "GET" && req.method !== "HEAD")
      throw StatusError.of(
        "MethodNotAllowed",
        `the simulated application at port ${port} serves GET and HEAD only`,
      );
    const at = route.path.indexOf("/proxy");
    const rest = route.path.slice(at + "/proxy".length) || "/";
    const query = route.query.toString();
    const sources = storeEnvSources(ctx, view.namespace);
    const env = () => Object.assign({}, ...view.containers.map((c) => containerEnv(view, c, sources)));
    const conn = connectToPort(view, port, env);
    if (!conn.ok)
      throw StatusError.of("ServiceUnavailable", `error trying to reach service: ${conn.message.trim()}`);
    const upstream = request(
      {
        method: req.method,
        path: `${rest}${query ? `?${query}` : ""}`,
        createConnection: () => conn.socket as never,
      },
      (answer) => {
        const headers: Record<string, string> = {};
        for (const h of ["content-type", "content-length"]) {
          const v = answer.headers[h];
          if (typeof v === "string") headers[h] = v;
        }
        res.writeHead(answer.statusCode ?? 502, headers);
        answer.pipe(res);
      },
    );
    upstream.on("error", (err) =>
      sendStatus(
        res,
        asStatus(StatusError.of("ServiceUnavailable", `error trying to reach service: ${err.message}`)),
      ),
    );
    upstream.end();
  } catch (err) {
    sendStatus(res, asStatus(err));
  }
}

// Exec and attach parameters (pods/exec, pods/attach) from the query, and the action name policy speaks of.
//
// Security stance: policy matches on argv and on stdin/tty, so every value must mean to us exactly what it means to
// kube-apiserver, which decodes PodExecOptions with runtime.Convert_Slice_string_To_bool: only "0" and any-case "false"
// are false, everything else (even "f" or "") is true. We accept the strconv.ParseBool spellings on which both readings
// agree and refuse the rest with 400 — including "f"/"F", which ParseBool reads as false but the apiserver as true.

import type { ExecInfo, RequestInfo } from "../request.ts";
import { badRequest, ok, type Result } from "./result.ts";

const TRUE = new Set(["1", "t", "T", "TRUE", "true", "True"]);
const FALSE = new Set(["0", "FALSE", "false", "False"]);
const SINGLE_VALUED = ["container", "stdin", "stdout", "stderr", "tty"] as const;

export function parseExecQuery(query: URLSearchParams): Result<ExecInfo> {
  for (const key of SINGLE_VALUED) {
    if (query.getAll(key).length > 1) return badRequest(`duplicate exec parameter "${key}"`);
  }
  const flags = { stdin: false, stdout: false, stderr: false, tty: false };
  for (const key of ["stdin", "stdout", "stderr", "tty"] as const) {
    const v = query.get(key);
    if (v === null) continue;
    if (TRUE.has(v)) flags[key] = true;
    else if (FALSE.has(v)) flags[key] = false;
    else if (v === "f" || v === "F") {
      return badRequest(
        `exec parameter "${key}=${v}" is refused: kube-apiserver reads it as true, not false`,
      );
    } else {
      return badRequest(
        `invalid value for exec parameter "${key}": ${JSON.stringify(v)} (want true or false)`,
      );
    }
  }
  return ok({ command: query.getAll("command"), container: query.get("container") ?? "", ...flags });
}

const ACTION_SUBRESOURCES = new Set(["exec", "attach", "portforward", "proxy"]);

/** The action policy matches: exec/attach/portforward/proxy whatever the HTTP verb (WebSocket GET or SPDY POST). */
export function actionOf(info: RequestInfo): string {
  if (!info.isResourceRequest) return info.verb;
  if (info.verb === "proxy") return "proxy";
  if (ACTION_SUBRESOURCES.has(info.subresource)) return info.subresource;
  return info.verb;
}

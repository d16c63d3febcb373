// k8s_exec: runs one program (an argv array, never a shell string) in a container and returns its output. It is a
// WebSocket exec (v5.channel.k8s.io) into the gateway's own upgrade path over an in-process connection, so the
// classifier sees the argv, policy decides it (commandMatches looks inside sh -c scripts too), the frames pass the
// same masker, and the recorder records the session as it records kubectl exec.
//
// Stance: bounded. A timeout (default 30 s, at most 120 s) ends the stream; output is capped and the stream cut once
// the cap is reached. Masking happens in the pipeline before the bytes reach this tool.
import type { IncomingMessage } from "node:http";
import WebSocket from "ws";
import { z } from "zod";
import { internalConnection, pathWithQuery } from "../../gateway/dispatch.ts";
import { type CallContext, entryOf, failed, text, toolError } from "../call.ts";
import { capText, untrusted } from "../format.ts";
import { checkName, checkNamespace } from "../resources.ts";
import { common, defineTool, MAY_WAIT } from "./define.ts";

const MAX_OUTPUT = 256 * 1024;
const MAX_TEXT_CHARS = 16_000;

export interface ExecOutcome {
  stdout: string;
  stderr: string;
  /** The exit code, when the container reported one (channel 3 Status). */
  exitCode?: number;
  /** A refusal or failure before the stream opened: the HTTP status and body. */
  refused?: { status: number; body: Buffer; headers: IncomingMessage["headers"] };
  error?: string;
  timedOut: boolean;
  truncated: boolean;
}

/** The exit code in a channel-3 Status (Success → 0, NonZeroExitCode → its cause). */
export function exitCodeOf(status: {
  status?: string;
  details?: { causes?: { reason?: string; message?: string }[] };
}): number | undefined {
  if (status.status === "Success") return 0;
  const cause = status.details?.causes?.find((x) => x.reason === "ExitCode");
  return cause?.message !== undefined ? Number(cause.message) : undefined;
}

export function runExec(
  c: CallContext,
  path: string,
  query: Record<string, string | string[] | undefined>,
  stdin: string | undefined,
  timeoutMs: number,
): Promise<ExecOutcome> {
  return new Promise((resolve) => {
    const out = { stdout: [] as Buffer[], stderr: [] as Buffer[], size: 0 };
    const result: ExecOutcome = { stdout: "", stderr: "", timedOut: false, truncated: false };
    let settled = false;
    const finish = () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      result.stdout = Buffer.concat(out.stdout).toString("utf8");
      result.stderr = Buffer.concat(out.stderr).toString("utf8");
      resolve(result);
    };
    const entry = entryOf(c);
    const ws = new WebSocket(
      `ws://airlock.internal${pathWithQuery(path, query)}`,
      ["v5.channel.k8s.io", "v4.channel.k8s.io"],
      {
        createConnection: () => internalConnection(c.gw, entry) as never, // ws types it as a net.Socket; any Duplex works
        headers: { "user-agent": `airlock-mcp (${c.tool})`, "kubectl-command": entry.mcp?.command ?? c.tool },
        perMessageDeflate: false,
      },
    );
    const timer = setTimeout(() => {
      result.timedOut = true;
      ws.terminate();
      finish();
    }, timeoutMs);
    ws.on("unexpected-response", (_req, res) => {
      const chunks: Buffer[] = [];
      res.on("data", (b: Buffer) => chunks.push(b));
      res.on("end", () => {
        result.refused = { status: res.statusCode ?? 502, body: Buffer.concat(chunks), headers: res.headers };
        finish();
      });
      res.on("error", finish);
    });
    ws.on("open", () => {
      if (stdin !== undefined) {
        ws.send(Buffer.concat([Buffer.from([0]), Buffer.from(stdin)]));
        // v5: channel 255 closes a stream; [255, 0] is "stdin is done".
        if (ws.protocol === "v5.channel.k8s.io") ws.send(Buffer.from([255, 0]));
      }
    });
    ws.on("message", (data: Buffer) => {
      const channel = data[0];
      const payload = data.subarray(1);
      if (channel === 1 || channel === 2) {
        const room = MAX_OUTPUT - out.size;
        if (payload.length > room) {
          (channel === 1 ? out.stdout : out.stderr).push(payload.subarray(0, room));
          out.size = MAX_OUTPUT;
          result.truncated = true;
          ws.terminate();
          return finish();
        }
        (channel === 1 ? out.stdout : out.stderr).push(payload);
        out.size += payload.length;
      } else if (channel === 3) {
        try {
          const code = exitCodeOf(JSON.parse(payload.toString("utf8")));
          if (code !== undefined) result.exitCode = code;
          else result.error = payload.toString("utf8");
        } catch {
          result.error = payload.toString("utf8");
        }
      }
    });
    ws.on("close", finish);
    ws.on("error", (err) => {
      result.error ??= err.message;
      finish();
    });
  });
}

const MARKER = /‹masked:[0-9a-f]{8}›/g;

/**
 * The line that says what was masked in an exec's output and why (the gateway masked it before it reached this
 * tool; the audit note has the counts per rule). Undefined when nothing was.
 */
export function maskedNote(output: string): string | undefined {
  const n = output.match(MARKER)?.length ?? 0;
  if (n === 0) return undefined;
  return (
    `Masked: ${n} ${n === 1 ? "value" : "values"} in this output ${n === 1 ? "is" : "are"} shown as ‹masked:…›. ` +
    "Airlock replaced the values of the Secrets this pod uses (also base64, hex, URL or JSON encoded) and other " +
    "secrets its masking profile detects; the real values never leave the gateway, so do not try to recover them."
  );
}

export const execTool = defineTool({
  name: "k8s_exec",
  title: "Run a command in a container",
  description:
    "Run one program in a pod's container and return its output and exit code. The command is an argv array " +
    '(["ls", "-la", "/tmp"]), never a shell string; to use a shell, pass it explicitly (["sh", "-c", "…"]), and ' +
    "policy still inspects the script. Optional stdin text; timeout default 30 s (at most 120). Output is " +
    "size-capped, secrets in it are masked by policy (the answer says when), and the session is recorded." +
    MAY_WAIT,
  input: {
    pod: z.string().min(1),
    ...common,
    container: z.string().optional(),
    command: z.array(z.string()).min(1).max(256).describe("The argv: program and its arguments"),
    stdin: z
      .string()
      .max(1024 * 1024)
      .optional(),
    timeoutSeconds: z.number().int().min(1).max(120).optional(),
  },
  output: {
    exitCode: z.number().nullable(),
    stdout: z.string(),
    stderr: z.string(),
    timedOut: z.boolean(),
    truncated: z.boolean(),
  },
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true },
  async run(c, a) {
    const problem = checkName(a.pod) ?? (a.container ? checkName(a.container) : undefined);
    if (problem) return toolError(problem);
    const namespace = a.namespace ?? "default";
    if (checkNamespace(namespace)) return toolError(checkNamespace(namespace) ?? "");
    const prefix = a.cluster ? `/k8s/${a.cluster}` : "";
    const outcome = await runExec(
      c,
      `${prefix}/api/v1/namespaces/${namespace}/pods/${a.pod}/exec`,
      {
        command: a.command,
        container: a.container,
        stdin: a.stdin !== undefined ? "true" : undefined,
        stdout: "true",
        stderr: "true",
      },
      a.stdin,
      (a.timeoutSeconds ?? 30) * 1000,
    );
    if (outcome.refused) return failed(c, { ...outcome.refused, truncated: false });
    const lines: string[] = [];
    if (outcome.timedOut) lines.push(`Timed out after ${a.timeoutSeconds ?? 30} s; the command was stopped.`);
    if (outcome.truncated) lines.push(`Output capped at ${MAX_OUTPUT} bytes; the command was stopped.`);
    if (outcome.exitCode !== undefined) lines.push(`exit code: ${outcome.exitCode}`);
    if (outcome.error && outcome.exitCode === undefined) lines.push(`error: ${outcome.error}`);
    const how = "a command that prints less (head, grep)";
    // The output is in the answer twice (text and structuredContent), so each copy gets half the result budget.
    const stdout = capText(outcome.stdout, how, MAX_TEXT_CHARS);
    const stderr = capText(outcome.stderr, how, MAX_TEXT_CHARS / 4);
    if (outcome.stdout) lines.push(untrusted("stdout", stdout.text));
    if (outcome.stderr) lines.push(untrusted("stderr", stderr.text));
    if (!outcome.stdout && !outcome.stderr) lines.push("(no output)");
    const note = maskedNote(outcome.stdout + outcome.stderr);
    if (note) lines.push(note);
    const failedRun =
      outcome.timedOut ||
      (outcome.exitCode ?? 0) !== 0 ||
      (outcome.error !== undefined && outcome.exitCode === undefined);
    const maskedCount = (outcome.stdout + outcome.stderr).match(MARKER)?.length ?? 0;
    return {
      ...text(lines.join("\n"), {
        exitCode: outcome.exitCode ?? null,
        stdout: stdout.text,
        stderr: stderr.text,
        timedOut: outcome.timedOut,
        truncated: outcome.truncated || stdout.truncated || stderr.truncated,
        ...(maskedCount
          ? { masked: { fields: ["stdout", "stderr"], profile: "the caller's (policy)" } }
          : {}),
      }),
      ...(failedRun ? { isError: true } : {}),
    };
  },
});

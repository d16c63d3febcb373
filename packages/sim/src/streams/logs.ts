// GET pods/{name}/log: the container's main-process output as chunked text/plain, the way the kubelet streams it.
// Options (§2.7): container, follow, tailLines, sinceSeconds, sinceTime, timestamps, limitBytes, previous.
//
// Streams stay streams: history goes out with backpressure (we wait for 'drain'), a follow writes each line as it is
// printed and ends when the client goes away, the pod is deleted, or limitBytes is reached. Refusals are Status
// objects with the apiserver's wording.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { SimRequest, StreamContext } from "../contracts.ts";
import { StatusError } from "../status.ts";
import { kubeletTimestamp, type LogLine } from "./loglines.ts";
import { mainProcessFor } from "./main-process.ts";
import { chooseContainer, findPod, flag, requireRunning } from "./pod.ts";
import { asStatus, sendStatus, watchPodGone } from "./respond.ts";

export interface LogOptions {
  follow: boolean;
  timestamps: boolean;
  tailLines: number | undefined;
  limitBytes: number | undefined;
  /** Lines older than this are skipped. */
  since: Date | undefined;
  previous: boolean;
}

function nonNegativeInt(query: URLSearchParams, name: string, min: number): number | undefined {
  const raw = query.get(name);
  if (raw === null || raw === "") return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) {
    throw StatusError.of(
      "BadRequest",
      `${name}: Invalid value: ${raw}: must be ${min === 0 ? "non-negative" : "greater than 0"}`,
    );
  }
  return n;
}

export function parseLogOptions(query: URLSearchParams, now: Date): LogOptions {
  const sinceSeconds = nonNegativeInt(query, "sinceSeconds", 1);
  const sinceTime = query.get("sinceTime");
  if (sinceSeconds !== undefined && sinceTime) {
    throw StatusError.of("BadRequest", "at most one of `sinceTime` or `sinceSeconds` may be specified");
  }
  let since: Date | undefined;
  if (sinceSeconds !== undefined) since = new Date(now.getTime() - sinceSeconds * 1000);
  if (sinceTime) {
    since = new Date(sinceTime);
    if (Number.isNaN(since.getTime())) {
      throw StatusError.of(
        "BadRequest",
        `sinceTime: Invalid value: "${sinceTime}": must be an RFC 3339 time`,
      );
    }
  }
  return {
    follow: flag(query, "follow"),
    timestamps: flag(query, "timestamps"),
    tailLines: nonNegativeInt(query, "tailLines", 0),
    limitBytes: nonNegativeInt(query, "limitBytes", 1),
    since,
    previous: flag(query, "previous"),
  };
}

/** The history lines a request selects: since-filter first, then the tail, as the kubelet applies them. */
export function selectLines(history: LogLine[], opts: LogOptions): LogLine[] {
  let lines = opts.since ? history.filter((l) => l.time >= (opts.since as Date)) : history;
  if (opts.tailLines !== undefined) lines = opts.tailLines === 0 ? [] : lines.slice(-opts.tailLines);
  return lines;
}

export function formatLine(line: LogLine, timestamps: boolean): string {
  return timestamps ? `${kubeletTimestamp(line.time)} ${line.text}\n` : `${line.text}\n`;
}

export function handlePodLog(
  ctx: StreamContext,
  route: SimRequest,
  req: IncomingMessage,
  res: ServerResponse,
): void {
  let opts: LogOptions;
  let main: ReturnType<typeof mainProcessFor>;
  let watchGone: (onGone: () => void) => () => void;
  try {
    const view = findPod(ctx, route.namespace, route.name);
    const container = chooseContainer(view, route.query.get("container"));
    opts = parseLogOptions(route.query, new Date());
    if (opts.previous) {
      throw StatusError.of(
        "BadRequest",
        `previous terminated container "${container.name}" in pod "${view.name}" not found`,
      );
    }
    if (view.phase === "Pending") requireRunning(view, container.name, "logs");
    main = mainProcessFor(ctx, view, container);
    // A finished pod's log is complete: nothing more will be printed.
    if (view.phase !== "Running") opts.follow = false;
    watchGone = (onGone) => watchPodGone(ctx, view, onGone);
  } catch (err) {
    sendStatus(res, asStatus(err));
    return;
  }

  res.writeHead(200, { "Content-Type": "text/plain", "Cache-Control": "no-cache, private" });
  let budget = opts.limitBytes ?? Number.POSITIVE_INFINITY;
  let ended = false;
  const cleanups: (() => void)[] = [];
  const finish = () => {
    if (ended) return;
    ended = true;
    for (const c of cleanups) c();
    if (!res.writableEnded) res.end();
  };
  /** Writes what the budget allows; false when the response buffer is full (wait for 'drain'). */
  const emit = (text: string): boolean => {
    let chunk = Buffer.from(text, "utf8");
    if (chunk.length > budget) chunk = chunk.subarray(0, budget);
    budget -= chunk.length;
    const ok = res.write(chunk);
    if (budget <= 0) finish();
    return ok;
  };
  res.on("close", finish);
  req.on("close", () => {
    if (!res.writableFinished) finish();
  });

  // Subscribe before writing history so no line printed meanwhile is lost; queue it until history is out.
  const queued: LogLine[] = [];
  let draining = true;
  if (opts.follow) {
    cleanups.push(
      main.subscribe((line) => {
        queued.push(line);
        if (!draining) pump();
      }),
    );
    cleanups.push(watchGone(finish));
  }
  const backlog = selectLines(main.history(), opts);
  const pump = () => {
    draining = true;
    while (!ended) {
      const next = backlog.shift() ?? queued.shift();
      if (!next) break;
      if (!emit(formatLine(next, opts.timestamps))) {
        res.once("drain", pump);
        return;
      }
    }
    draining = false;
    if (!opts.follow) finish();
  };
  if (opts.follow) res.flushHeaders();
  pump();
}

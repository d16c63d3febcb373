// The pod printer, after kube's printPod: READY counts ready containers (restartable init containers included),
// STATUS is the most telling container state (waiting reason, terminated reason, Init:x/y, Terminating), and
// RESTARTS shows when the last restart happened. Every wide cell is always present.
import {
  ageCol,
  type Cell,
  col,
  humanDuration,
  int,
  nameCol,
  type Obj,
  type Printer,
  since,
} from "./format.ts";

function podStatus(pod: Obj): {
  reason: string;
  ready: number;
  total: number;
  restarts: number;
  lastRestart: number;
} {
  const spec = (pod.spec ?? {}) as Obj;
  const status = (pod.status ?? {}) as Obj;
  const initSpecs = (spec.initContainers ?? []) as Obj[];
  const restartable = new Set(
    initSpecs.filter((c) => c.restartPolicy === "Always").map((c) => c.name as string),
  );
  let total = ((spec.containers ?? []) as Obj[]).length + restartable.size;
  let ready = 0;
  let restarts = 0;
  let lastRestart = 0;
  let sidecarRestarts = 0;
  let sidecarLastRestart = 0;
  let reason: string = status.reason || status.phase || "";
  for (const c of (status.conditions ?? []) as Obj[]) {
    if (c.type === "PodScheduled" && c.reason === "SchedulingGated") reason = "SchedulingGated";
  }
  const finished = (c: Obj): number => Date.parse(c.lastState?.terminated?.finishedAt ?? "") || 0;

  let initializing = false;
  const inits = (status.initContainerStatuses ?? []) as Obj[];
  for (let i = 0; i < inits.length; i++) {
    const c = inits[i]!;
    restarts += int(c.restartCount);
    lastRestart = Math.max(lastRestart, finished(c));
    if (restartable.has(c.name)) {
      sidecarRestarts += int(c.restartCount);
      sidecarLastRestart = Math.max(sidecarLastRestart, finished(c));
    }
    const term = c.state?.terminated;
    const wait = c.state?.waiting;
    if (term && int(term.exitCode) === 0) continue;
    if (restartable.has(c.name) && c.started === true) {
      if (c.ready) ready++;
      continue;
    }
    if (term) {
      reason = term.reason
        ? `Init:${term.reason}`
        : term.signal
          ? `Init:Signal:${term.signal}`
          : `Init:ExitCode:${int(term.exitCode)}`;
    } else if (wait?.reason && wait.reason !== "PodInitializing") {
      reason = `Init:${wait.reason}`;
    } else {
      reason = `Init:${i}/${initSpecs.length}`;
    }
    initializing = true;
    break;
  }
  const initialized = ((status.conditions ?? []) as Obj[]).some(
    (c) => c.type === "Initialized" && c.status === "True",
  );
  if (!initializing || initialized) {
    restarts = sidecarRestarts;
    lastRestart = sidecarLastRestart;
    let hasRunning = false;
    const cs = (status.containerStatuses ?? []) as Obj[];
    for (let i = cs.length - 1; i >= 0; i--) {
      const c = cs[i]!;
      restarts += int(c.restartCount);
      lastRestart = Math.max(lastRestart, finished(c));
      const term = c.state?.terminated;
      if (c.state?.waiting?.reason) reason = c.state.waiting.reason;
      else if (term?.reason) reason = term.reason;
      else if (term) reason = term.signal ? `Signal:${term.signal}` : `ExitCode:${int(term.exitCode)}`;
      else if (c.ready && c.state?.running) {
        hasRunning = true;
        ready++;
      }
    }
    if (reason === "Completed" && hasRunning) {
      const podReady = ((status.conditions ?? []) as Obj[]).some(
        (c) => c.type === "Ready" && c.status === "True",
      );
      reason = podReady ? "Running" : "NotReady";
    }
  }
  if (pod.metadata?.deletionTimestamp && status.reason === "NodeLost") reason = "Unknown";
  else if (pod.metadata?.deletionTimestamp && status.phase !== "Succeeded" && status.phase !== "Failed") {
    reason = "Terminating";
  }
  total = Math.max(total, 0);
  return { reason, ready, total, restarts, lastRestart };
}

export const podPrinter: Printer = {
  columns: [
    nameCol(),
    col("Ready", "The aggregate readiness state of this pod for accepting traffic."),
    col("Status", "The aggregate status of the containers in this pod."),
    col(
      "Restarts",
      "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.",
    ),
    ageCol(),
    col(
      "IP",
      "podIP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.",
      {
        wide: true,
      },
    ),
    col("Node", "NodeName indicates in which node this pod is scheduled.", { wide: true }),
    col("Nominated Node", "nominatedNodeName is set only when this pod preempts other pods on the node.", {
      wide: true,
    }),
    col("Readiness Gates", "If specified, all readiness gates will be evaluated for pod readiness.", {
      wide: true,
    }),
  ],
  print(pod, now) {
    const s = podStatus(pod);
    const status = (pod.status ?? {}) as Obj;
    const spec = (pod.spec ?? {}) as Obj;
    const restarts =
      s.restarts !== 0 && s.lastRestart > 0
        ? `${s.restarts} (${humanDuration(now.getTime() - s.lastRestart)} ago)`
        : String(s.restarts);
    const gates = (spec.readinessGates ?? []) as Obj[];
    const conds = (status.conditions ?? []) as Obj[];
    const trueGates = gates.filter(
      (g) => conds.find((c) => c.type === g.conditionType)?.status === "True",
    ).length;
    const cells: Cell[] = [
      pod.metadata?.name ?? "",
      `${s.ready}/${s.total}`,
      s.reason,
      restarts,
      since(pod.metadata?.creationTimestamp, now),
      status.podIPs?.[0]?.ip || status.podIP || "<none>",
      spec.nodeName || "<none>",
      status.nominatedNodeName || "<none>",
      gates.length ? `${trueGates}/${gates.length}` : "<none>",
    ];
    if (status.phase === "Succeeded") {
      return {
        cells,
        conditions: [
          {
            type: "Completed",
            status: "True",
            reason: "Succeeded",
            message: "The pod has completed successfully.",
          },
        ],
      };
    }
    if (status.phase === "Failed") {
      return {
        cells,
        conditions: [{ type: "Completed", status: "True", reason: "Failed", message: "The pod failed." }],
      };
    }
    return { cells };
  },
};

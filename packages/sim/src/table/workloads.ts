// Table printers for the workload controllers, after kube's printDeployment, printReplicaSet,
// printStatefulSet, printDaemonSet, printJob and printCronJob. The apiserver always prints the wide cells (kubectl
// hides priority-1 columns itself), so every row carries one cell per column.
import {
  ageCol,
  type Column,
  col,
  containerCells,
  formatLabelSelector,
  formatLabels,
  humanDuration,
  int,
  nameCol,
  type Obj,
  type Printer,
  selectorString,
  since,
} from "./format.ts";

const containersCol = (): Column =>
  col("Containers", "Names of each container in the template.", { wide: true });
const imagesCol = (): Column =>
  col("Images", "Images referenced by each container in the template.", { wide: true });
const selectorCol = (d: string): Column => col("Selector", d, { wide: true });

const replicas = (o: Obj): number => (typeof o.spec?.replicas === "number" ? o.spec.replicas : 1);

export const deploymentPrinter: Printer = {
  columns: [
    nameCol(),
    col("Ready", "Number of the pod with ready state"),
    col(
      "Up-to-date",
      "Total number of non-terminated pods targeted by this deployment that have the desired template spec.",
    ),
    col(
      "Available",
      "Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.",
    ),
    ageCol(),
    containersCol(),
    imagesCol(),
    selectorCol(
      "Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones affected by this deployment.",
    ),
  ],
  print(d, now) {
    const [names, images] = containerCells(d.spec?.template?.spec);
    const st = (d.status ?? {}) as Obj;
    return {
      cells: [
        d.metadata?.name ?? "",
        `${int(st.readyReplicas)}/${replicas(d)}`,
        int(st.updatedReplicas),
        int(st.availableReplicas),
        since(d.metadata?.creationTimestamp, now),
        names,
        images,
        selectorString(d.spec?.selector),
      ],
    };
  },
};

export const replicaSetPrinter: Printer = {
  columns: [
    nameCol(),
    col("Desired", "Replicas is the number of desired replicas.", { type: "integer" }),
    col("Current", "Replicas is the most recently observed number of replicas.", { type: "integer" }),
    col("Ready", "The number of ready replicas for this replica set.", { type: "integer" }),
    ageCol(),
    containersCol(),
    imagesCol(),
    selectorCol("Selector is a label query over pods that should match the replica count."),
  ],
  print(rs, now) {
    const [names, images] = containerCells(rs.spec?.template?.spec);
    return {
      cells: [
        rs.metadata?.name ?? "",
        replicas(rs),
        int(rs.status?.replicas),
        int(rs.status?.readyReplicas),
        since(rs.metadata?.creationTimestamp, now),
        names,
        images,
        formatLabelSelector(rs.spec?.selector),
      ],
    };
  },
};

export const statefulSetPrinter: Printer = {
  columns: [
    nameCol(),
    col("Ready", "Number of the pod with ready state"),
    ageCol(),
    containersCol(),
    imagesCol(),
  ],
  print(ss, now) {
    const [names, images] = containerCells(ss.spec?.template?.spec);
    return {
      cells: [
        ss.metadata?.name ?? "",
        `${int(ss.status?.readyReplicas)}/${replicas(ss)}`,
        since(ss.metadata?.creationTimestamp, now),
        names,
        images,
      ],
    };
  },
};

export const daemonSetPrinter: Printer = {
  columns: [
    nameCol(),
    col("Desired", "The total number of nodes that should be running the daemon pod.", { type: "integer" }),
    col(
      "Current",
      "The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod.",
      {
        type: "integer",
      },
    ),
    col(
      "Ready",
      "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and ready.",
      {
        type: "integer",
      },
    ),
    col("Up-to-date", "The total number of nodes that are running updated daemon pod", { type: "integer" }),
    col(
      "Available",
      "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available.",
      {
        type: "integer",
      },
    ),
    col("Node Selector", "NodeSelector is a selector which must be true for the pod to fit on a node."),
    ageCol(),
    containersCol(),
    imagesCol(),
    selectorCol("A label query over pods that are managed by the daemon set."),
  ],
  print(ds, now) {
    const [names, images] = containerCells(ds.spec?.template?.spec);
    const st = (ds.status ?? {}) as Obj;
    return {
      cells: [
        ds.metadata?.name ?? "",
        int(st.desiredNumberScheduled),
        int(st.currentNumberScheduled),
        int(st.numberReady),
        int(st.updatedNumberScheduled),
        int(st.numberAvailable),
        formatLabels(ds.spec?.template?.spec?.nodeSelector),
        since(ds.metadata?.creationTimestamp, now),
        names,
        images,
        formatLabelSelector(ds.spec?.selector),
      ],
    };
  },
};

function hasCondition(o: Obj, type: string): boolean {
  return ((o.status?.conditions ?? []) as Obj[]).some((c) => c.type === type && c.status === "True");
}

export const jobPrinter: Printer = {
  columns: [
    nameCol(),
    col("Status", "Status of the job."),
    col("Completions", "The number of pods which reached phase Succeeded."),
    col("Duration", "Time required to complete the job."),
    ageCol(),
    containersCol(),
    imagesCol(),
    selectorCol("A label query over pods that should match the pod count."),
  ],
  print(job, now) {
    const spec = (job.spec ?? {}) as Obj;
    const st = (job.status ?? {}) as Obj;
    const succeeded = int(st.succeeded);
    const parallelism = int(spec.parallelism);
    const completions =
      typeof spec.completions === "number"
        ? `${succeeded}/${spec.completions}`
        : parallelism > 1
          ? `${succeeded}/1 of ${parallelism}`
          : `${succeeded}/1`;
    const start = Date.parse(st.startTime ?? "");
    const end = Date.parse(st.completionTime ?? "");
    const duration = Number.isNaN(start)
      ? ""
      : humanDuration((Number.isNaN(end) ? now.getTime() : end) - start);
    const status = hasCondition(job, "Complete")
      ? "Complete"
      : hasCondition(job, "Failed")
        ? "Failed"
        : job.metadata?.deletionTimestamp
          ? "Terminating"
          : hasCondition(job, "Suspended")
            ? "Suspended"
            : hasCondition(job, "FailureTarget")
              ? "FailureTarget"
              : "Running";
    const [names, images] = containerCells(spec.template?.spec);
    return {
      cells: [
        job.metadata?.name ?? "",
        status,
        completions,
        duration,
        since(job.metadata?.creationTimestamp, now),
        names,
        images,
        formatLabelSelector(spec.selector),
      ],
    };
  },
};

export const cronJobPrinter: Printer = {
  columns: [
    nameCol(),
    col("Schedule", "The schedule in Cron format, see https://en.wikipedia.org/wiki/Cron."),
    col(
      "Timezone",
      "The time zone name for the given schedule, see https://en.wikipedia.org/wiki/List_of_tz_database_time_zones.",
    ),
    col(
      "Suspend",
      "This flag tells the controller to suspend subsequent executions, it does not apply to already started executions.",
      {
        type: "boolean",
      },
    ),
    col("Active", "A list of pointers to currently running jobs.", { type: "integer" }),
    col("Last Schedule", "Information when was the last time the job was successfully scheduled."),
    ageCol(),
    containersCol(),
    imagesCol(),
    selectorCol("A label query over pods that should match the pod count."),
  ],
  print(cj, now) {
    const spec = (cj.spec ?? {}) as Obj;
    const jobSpec = (spec.jobTemplate?.spec ?? {}) as Obj;
    const [names, images] = containerCells(jobSpec.template?.spec);
    return {
      cells: [
        cj.metadata?.name ?? "",
        spec.schedule ?? "",
        spec.timeZone ?? "<none>",
        typeof spec.suspend === "boolean" ? (spec.suspend ? "True" : "False") : "<unset>",
        ((cj.status?.active ?? []) as unknown[]).length,
        cj.status?.lastScheduleTime ? since(cj.status.lastScheduleTime, now) : "<none>",
        since(cj.metadata?.creationTimestamp, now),
        names,
        images,
        formatLabelSelector(jobSpec.selector),
      ],
    };
  },
};

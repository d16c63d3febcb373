// The Job controller: runs up to `parallelism` pods at a time until `completions` have succeeded (the simulated
// kubelet makes every Job pod exit 0), then marks the Job Complete. CronJobs are served but never fire: the
// simulator keeps no schedule, so their status stays as written.
import type { KubeObject } from "../contracts.ts";
import { type ControllerContext, namespaceTerminating } from "./context.ts";
import { controllerRef, deepEqual, isControlledBy, randomSuffix } from "./objects.ts";
import { isActivePod, isPodReady, type PodTemplate, podFromTemplate, podPhase } from "./podspec.ts";
import { type Condition, mergeCondition } from "./rollout.ts";

const COMPONENT = "job-controller";

export function reconcileJob(ctx: ControllerContext, namespace: string, name: string): void {
  const jobType = ctx.type("batch", "v1", "jobs");
  const podType = ctx.type("", "v1", "pods");
  if (!jobType || !podType) return;
  const job = ctx.store.get(jobType, namespace, name);
  if (!job || job.metadata.deletionTimestamp) return;
  const spec = (job.spec ?? {}) as {
    completions?: number;
    parallelism?: number;
    suspend?: boolean;
    template?: PodTemplate;
  };
  const old = (job.status ?? {}) as { conditions?: Condition[]; startTime?: string; completionTime?: string };
  const finished = old.conditions?.some(
    (c) => (c.type === "Complete" || c.type === "Failed") && c.status === "True",
  );
  if (finished) return;

  const completions = spec.completions ?? 1;
  const parallelism = spec.parallelism ?? 1;
  const pods = ctx.store.list(podType, namespace).items.filter((p) => isControlledBy(p, job));
  const succeeded = pods.filter((p) => podPhase(p) === "Succeeded").length;
  const failed = pods.filter((p) => podPhase(p) === "Failed").length;
  const active = pods.filter(isActivePod);
  const want = spec.suspend ? 0 : Math.max(0, Math.min(parallelism, completions - succeeded) - active.length);
  const uid = job.metadata.uid ?? "";
  let created = 0;
  if (!namespaceTerminating(ctx, namespace)) {
    for (let i = 0; i < want; i++) {
      const pod: KubeObject = podFromTemplate(
        spec.template,
        {
          name: `${name}-${randomSuffix()}`,
          namespace,
          labels: {
            "batch.kubernetes.io/controller-uid": uid,
            "batch.kubernetes.io/job-name": name,
            "controller-uid": uid,
            "job-name": name,
          },
        },
        [controllerRef(job)],
      );
      const made = ctx.store.create(podType, pod);
      created++;
      ctx.events.record(job, "Normal", "SuccessfulCreate", `Created pod: ${made.metadata.name}`, COMPONENT);
    }
  }

  const now = ctx.now();
  const status: Record<string, unknown> = {
    startTime: old.startTime ?? now,
    ready: active.filter(isPodReady).length,
    terminating: 0,
    uncountedTerminatedPods: {},
  };
  if (active.length + created) status.active = active.length + created;
  if (succeeded) status.succeeded = succeeded;
  if (failed) status.failed = failed;
  if (old.conditions) status.conditions = old.conditions;
  if (succeeded >= completions) {
    const message = "Reached expected number of succeeded pods";
    status.completionTime = now;
    status.conditions = [
      mergeCondition(
        old.conditions,
        { type: "SuccessCriteriaMet", status: "True", reason: "CompletionsReached", message },
        now,
      ),
      mergeCondition(
        old.conditions,
        { type: "Complete", status: "True", reason: "CompletionsReached", message },
        now,
      ),
    ].map(({ lastUpdateTime: _u, ...c }) => ({ ...c, lastProbeTime: now }));
    ctx.events.record(job, "Normal", "Completed", "Job completed", COMPONENT);
  }
  if (!deepEqual(job.status, status)) ctx.store.update(jobType, { ...job, status });
}

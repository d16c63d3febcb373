// The fields the simulator knows for built-in kinds — top level, metadata, and the specs of the common kinds down to
// the pod template's containers — after k8s.io/api 1.32. fieldValidation reads this table; a subtree it does not
// describe (status, volumes, probes, custom resources) is never reported, so a gap here means "not checked",
// never "refused".

/** A known object: its field names, and the shapes of the fields that are themselves checked. */
export interface Shape {
  fields: Set<string>;
  /** Child shapes by field; for a list field, the shape of each item. */
  children: Record<string, Shape>;
}

function shape(fields: string, children: Record<string, Shape> = {}): Shape {
  return { fields: new Set(fields.split(/\s+/).filter(Boolean)), children };
}

const OBJECT_META = shape(
  "name generateName namespace selfLink uid resourceVersion generation creationTimestamp deletionTimestamp " +
    "deletionGracePeriodSeconds labels annotations ownerReferences finalizers managedFields",
);

const CONTAINER = shape(
  "name image command args workingDir ports envFrom env resources resizePolicy restartPolicy volumeMounts " +
    "volumeDevices livenessProbe readinessProbe startupProbe lifecycle terminationMessagePath " +
    "terminationMessagePolicy imagePullPolicy securityContext stdin stdinOnce tty",
);

const POD_SPEC = shape(
  "volumes initContainers containers ephemeralContainers restartPolicy terminationGracePeriodSeconds " +
    "activeDeadlineSeconds dnsPolicy nodeSelector serviceAccountName serviceAccount automountServiceAccountToken " +
    "nodeName hostNetwork hostPID hostIPC shareProcessNamespace securityContext imagePullSecrets hostname " +
    "subdomain affinity schedulerName tolerations hostAliases priorityClassName priority dnsConfig readinessGates " +
    "runtimeClassName enableServiceLinks preemptionPolicy overhead topologySpreadConstraints setHostnameAsFQDN os " +
    "hostUsers schedulingGates resourceClaims resources",
  { containers: CONTAINER, initContainers: CONTAINER },
);

const POD_TEMPLATE = shape("metadata spec", { metadata: OBJECT_META, spec: POD_SPEC });

const JOB_SPEC = shape(
  "parallelism completions activeDeadlineSeconds podFailurePolicy successPolicy backoffLimit " +
    "backoffLimitPerIndex maxFailedIndexes selector manualSelector template ttlSecondsAfterFinished " +
    "completionMode suspend podReplacementPolicy managedBy",
  { template: POD_TEMPLATE },
);

const SPECS: Record<string, Shape> = {
  "/Pod": POD_SPEC,
  "/Namespace": shape("finalizers"),
  "/Service": shape(
    "ports selector clusterIP clusterIPs type externalIPs sessionAffinity loadBalancerIP " +
      "loadBalancerSourceRanges externalName externalTrafficPolicy healthCheckNodePort publishNotReadyAddresses " +
      "sessionAffinityConfig ipFamilies ipFamilyPolicy allocateLoadBalancerNodePorts loadBalancerClass " +
      "internalTrafficPolicy trafficDistribution",
    { ports: shape("name protocol appProtocol port targetPort nodePort") },
  ),
  "apps/Deployment": shape(
    "replicas selector template strategy minReadySeconds revisionHistoryLimit paused progressDeadlineSeconds",
    { template: POD_TEMPLATE },
  ),
  "apps/ReplicaSet": shape("replicas minReadySeconds selector template", { template: POD_TEMPLATE }),
  "apps/StatefulSet": shape(
    "replicas selector template volumeClaimTemplates serviceName podManagementPolicy updateStrategy " +
      "revisionHistoryLimit minReadySeconds persistentVolumeClaimRetentionPolicy ordinals",
    { template: POD_TEMPLATE },
  ),
  "apps/DaemonSet": shape("selector template updateStrategy minReadySeconds revisionHistoryLimit", {
    template: POD_TEMPLATE,
  }),
  "batch/Job": JOB_SPEC,
  "batch/CronJob": shape(
    "schedule timeZone startingDeadlineSeconds concurrencyPolicy suspend jobTemplate " +
      "successfulJobsHistoryLimit failedJobsHistoryLimit",
    { jobTemplate: shape("metadata spec", { metadata: OBJECT_META, spec: JOB_SPEC }) },
  ),
};

const RBAC = "rbac.authorization.k8s.io";
const WITH_SPEC = "spec status";

/** Top-level fields besides apiVersion, kind and metadata. */
const TOP_LEVEL: Record<string, string> = {
  "/ConfigMap": "data binaryData immutable",
  "/Secret": "data stringData type immutable",
  "/ServiceAccount": "secrets imagePullSecrets automountServiceAccountToken",
  "/Endpoints": "subsets",
  "/Event":
    "involvedObject reason message source firstTimestamp lastTimestamp count type eventTime series action " +
    "related reportingComponent reportingInstance",
  "scheduling.k8s.io/PriorityClass": "value globalDefault description preemptionPolicy",
  [`${RBAC}/Role`]: "rules",
  [`${RBAC}/ClusterRole`]: "rules aggregationRule",
  [`${RBAC}/RoleBinding`]: "subjects roleRef",
  [`${RBAC}/ClusterRoleBinding`]: "subjects roleRef",
};

const SPEC_AND_STATUS_KINDS = [
  "/Pod",
  "/Namespace",
  "/Service",
  "/Node",
  "/PersistentVolumeClaim",
  "/PersistentVolume",
  "/ResourceQuota",
  "apps/Deployment",
  "apps/ReplicaSet",
  "apps/StatefulSet",
  "apps/DaemonSet",
  "batch/Job",
  "batch/CronJob",
  "networking.k8s.io/Ingress",
  "policy/PodDisruptionBudget",
  "apiextensions.k8s.io/CustomResourceDefinition",
];

/** The shape of a whole object of a built-in kind, or undefined when the simulator does not know the kind. */
export function objectShape(group: string, kind: string): Shape | undefined {
  const key = `${group}/${kind}`;
  const own = TOP_LEVEL[key] ?? (SPEC_AND_STATUS_KINDS.includes(key) ? WITH_SPEC : undefined);
  if (own === undefined) return undefined;
  const spec = SPECS[key];
  return shape(`apiVersion kind metadata ${own}`, { metadata: OBJECT_META, ...(spec ? { spec } : {}) });
}

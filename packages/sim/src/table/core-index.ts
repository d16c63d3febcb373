// Which printer prints which built-in kind, keyed by "<group>/<Kind>".
import { nodePrinter, roleBindingPrinter, rolePrinter } from "./cluster.ts";
import {
  configMapPrinter,
  endpointsPrinter,
  eventPrinter,
  namespacePrinter,
  secretPrinter,
  serviceAccountPrinter,
  servicePrinter,
} from "./core.ts";
import type { Printer } from "./format.ts";
import { podPrinter } from "./pods.ts";
import { ingressPrinter, pvcPrinter, pvPrinter } from "./storage.ts";
import {
  cronJobPrinter,
  daemonSetPrinter,
  deploymentPrinter,
  jobPrinter,
  replicaSetPrinter,
  statefulSetPrinter,
} from "./workloads.ts";

const RBAC = "rbac.authorization.k8s.io";

export const core: Record<string, Printer> = {
  "/Pod": podPrinter,
  "/Service": servicePrinter,
  "/Secret": secretPrinter,
  "/ConfigMap": configMapPrinter,
  "/Namespace": namespacePrinter,
  "/Event": eventPrinter,
  "/Node": nodePrinter,
  "/ServiceAccount": serviceAccountPrinter,
  "/Endpoints": endpointsPrinter,
  "/PersistentVolumeClaim": pvcPrinter,
  "/PersistentVolume": pvPrinter,
  "networking.k8s.io/Ingress": ingressPrinter,
  "apps/Deployment": deploymentPrinter,
  "apps/ReplicaSet": replicaSetPrinter,
  "apps/StatefulSet": statefulSetPrinter,
  "apps/DaemonSet": daemonSetPrinter,
  "batch/Job": jobPrinter,
  "batch/CronJob": cronJobPrinter,
  [`${RBAC}/Role`]: rolePrinter,
  [`${RBAC}/ClusterRole`]: rolePrinter,
  [`${RBAC}/RoleBinding`]: roleBindingPrinter,
  [`${RBAC}/ClusterRoleBinding`]: roleBindingPrinter,
};

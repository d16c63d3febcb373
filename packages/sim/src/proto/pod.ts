// Protobuf schemas of the pod template (k8s.io/api core/v1 generated.proto): PodSpec, Container and the parts
// `kubectl create deployment|job|cronjob` and typed clients commonly send. Fields not listed here are refused by
// the decoder when they carry a value (see decode.ts), so a missing entry shows up as a 415, not as lost data.
import { bool, type FieldSpec, int, msg, msgs, type SchemaTable, str, strMap, strs } from "./decode.ts";

const quantities = (name: string): FieldSpec => ({ name, type: "quantity", map: true });
const intOrString = (name: string, flags: Partial<FieldSpec> = {}): FieldSpec => ({
  name,
  type: "intOrString",
  ...flags,
});

export const POD: SchemaTable = {
  PodTemplateSpec: { 1: msg("metadata", "ObjectMeta"), 2: msg("spec", "PodSpec") },
  PodSpec: {
    1: msgs("volumes", "Volume"),
    2: msgs("containers", "Container"),
    3: str("restartPolicy"),
    4: int("terminationGracePeriodSeconds", { ptr: true }),
    5: int("activeDeadlineSeconds", { ptr: true }),
    6: str("dnsPolicy"),
    7: strMap("nodeSelector"),
    8: str("serviceAccountName"),
    9: str("serviceAccount"),
    10: str("nodeName"),
    11: bool("hostNetwork"),
    12: bool("hostPID"),
    13: bool("hostIPC"),
    15: msgs("imagePullSecrets", "LocalObjectReference"),
    16: str("hostname"),
    17: str("subdomain"),
    19: str("schedulerName"),
    20: msgs("initContainers", "Container"),
    21: bool("automountServiceAccountToken", { ptr: true }),
    22: msgs("tolerations", "Toleration"),
    24: str("priorityClassName"),
    25: int("priority", { ptr: true }),
    27: bool("shareProcessNamespace", { ptr: true }),
    29: str("runtimeClassName", { ptr: true }),
    30: bool("enableServiceLinks", { ptr: true }),
    31: str("preemptionPolicy", { ptr: true }),
    35: bool("setHostnameAsFQDN", { ptr: true }),
    37: bool("hostUsers", { ptr: true }),
  },
  Container: {
    1: str("name"),
    2: str("image"),
    3: strs("command"),
    4: strs("args"),
    5: str("workingDir"),
    6: msgs("ports", "ContainerPort"),
    7: msgs("env", "EnvVar"),
    8: msg("resources", "ResourceRequirements"),
    9: msgs("volumeMounts", "VolumeMount"),
    13: str("terminationMessagePath"),
    14: str("imagePullPolicy"),
    16: bool("stdin"),
    17: bool("stdinOnce"),
    18: bool("tty"),
    19: msgs("envFrom", "EnvFromSource"),
    20: str("terminationMessagePolicy"),
    24: str("restartPolicy", { ptr: true }),
  },
  ContainerPort: {
    1: str("name"),
    2: int("hostPort"),
    3: int("containerPort"),
    4: str("protocol"),
    5: str("hostIP"),
  },
  EnvVar: { 1: str("name"), 2: str("value"), 3: msg("valueFrom", "EnvVarSource", { ptr: true }) },
  EnvVarSource: {
    1: msg("fieldRef", "ObjectFieldSelector"),
    2: msg("resourceFieldRef", "ResourceFieldSelector"),
    3: msg("configMapKeyRef", "KeySelector"),
    4: msg("secretKeyRef", "KeySelector"),
  },
  ObjectFieldSelector: { 1: str("apiVersion"), 2: str("fieldPath") },
  ResourceFieldSelector: {
    1: str("containerName"),
    2: str("resource"),
    3: { name: "divisor", type: "quantity" },
  },
  // ConfigMapKeySelector and SecretKeySelector share one shape: an embedded LocalObjectReference, key, optional.
  KeySelector: {
    1: msg("localObjectReference", "LocalObjectReference", { inline: true }),
    2: str("key"),
    3: bool("optional", { ptr: true }),
  },
  EnvFromSource: {
    1: str("prefix"),
    2: msg("configMapRef", "EnvSource"),
    3: msg("secretRef", "EnvSource"),
  },
  EnvSource: {
    1: msg("localObjectReference", "LocalObjectReference", { inline: true }),
    2: bool("optional", { ptr: true }),
  },
  LocalObjectReference: { 1: str("name") },
  ResourceRequirements: { 1: quantities("limits"), 2: quantities("requests") },
  VolumeMount: {
    1: str("name"),
    2: bool("readOnly"),
    3: str("mountPath"),
    4: str("subPath"),
    5: str("mountPropagation", { ptr: true }),
    6: str("subPathExpr"),
  },
  Volume: { 1: str("name"), 2: msg("volumeSource", "VolumeSource", { inline: true }) },
  VolumeSource: {
    1: msg("hostPath", "HostPathVolumeSource"),
    2: msg("emptyDir", "EmptyDirVolumeSource"),
    6: msg("secret", "SecretVolumeSource"),
    10: msg("persistentVolumeClaim", "PersistentVolumeClaimVolumeSource"),
    19: msg("configMap", "ConfigMapVolumeSource"),
  },
  HostPathVolumeSource: { 1: str("path"), 2: str("type", { ptr: true }) },
  EmptyDirVolumeSource: { 1: str("medium"), 2: { name: "sizeLimit", type: "quantity", ptr: true } },
  SecretVolumeSource: {
    1: str("secretName"),
    2: msgs("items", "KeyToPath"),
    3: int("defaultMode", { ptr: true }),
    4: bool("optional", { ptr: true }),
  },
  ConfigMapVolumeSource: {
    1: msg("localObjectReference", "LocalObjectReference", { inline: true }),
    2: msgs("items", "KeyToPath"),
    3: int("defaultMode", { ptr: true }),
    4: bool("optional", { ptr: true }),
  },
  PersistentVolumeClaimVolumeSource: { 1: str("claimName"), 2: bool("readOnly") },
  KeyToPath: { 1: str("key"), 2: str("path"), 3: int("mode", { ptr: true }) },
  Toleration: {
    1: str("key"),
    2: str("operator"),
    3: str("value"),
    4: str("effect"),
    5: int("tolerationSeconds", { ptr: true }),
  },
  // Clients leave the status of a new object empty; any value in it is refused rather than guessed.
  PodStatus: {},
};

export { intOrString, quantities };

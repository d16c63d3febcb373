// The Kubernetes request model: kube-apiserver's RequestInfo and what the classifier (./classify) adds to it.

/** kube-apiserver's RequestInfo, as computed by src/kube/classify. */
export interface RequestInfo {
  isResourceRequest: boolean;
  path: string;
  verb: string;
  apiPrefix: string;
  apiGroup: string;
  apiVersion: string;
  namespace: string;
  resource: string;
  subresource: string;
  name: string;
  parts: string[];
  fieldSelector: string;
  labelSelector: string;
}

/** Exec and attach parameters, parsed from the query of pods/exec and pods/attach. */
export interface ExecInfo {
  command: string[];
  container: string;
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}

/** The classified request: RequestInfo plus what policy needs beyond it. */
export interface KubeRequest {
  info: RequestInfo;
  /** The action policy speaks of: the RequestInfo verb, or exec/attach/portforward for those subresources. */
  action: string;
  cluster: string;
  exec?: ExecInfo;
  query: URLSearchParams;
  /** The parsed body of a write (JSON or YAML), when the client sent one the gateway could read. */
  body?: unknown;
  /** The object the request would leave behind (server-side dry run; `null`: nothing, e.g. after a delete). Loaded
   *  only when a rule that could match needs it (src/review/object-context.ts); undefined until then. */
  object?: unknown;
  /** The object as stored before the request (`null`: it does not exist); undefined until loaded. */
  oldObject?: unknown;
  /** The write's options as kube-apiserver resolves them (DeleteOptions from body OR query; classify/options.ts). */
  options?: { dryRun: boolean; gracePeriodSeconds: number | null; propagationPolicy: string };
}

// The Status object moved to src/kube/status.ts (the Kubernetes layer); this re-export keeps the simulator's imports
// working until it has its own copy (packages/sim). New code imports src/kube/status.ts or src/kube/refusals.ts.
export * from "../kube/status.ts";

// Client claims against decoded actions (src/recording/claims.ts): a DELETE sent with `Kubectl-Command: kubectl get`
// is a contradiction; a claim that fits, an unknown command or no claim is not.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { claimedSubcommand, claimMismatch } from "../../src/recording/claims.ts";

describe("claimed kubectl command vs decoded action", () => {
  const contradicted: [string, string, string][] = [
    ["kubectl get", "delete", "deployments.apps"],
    ["kubectl get", "patch", "configmaps"],
    ["kubectl describe", "exec", "pods/exec"],
    ["kubectl logs", "create", "pods"],
    ["kubectl exec", "delete", "pods"],
    ["kubectl cp", "create", "secrets"],
    ["kubectl delete", "patch", "deployments.apps"],
    ["kubectl auth can-i", "create", "clusterrolebindings.rbac.authorization.k8s.io"],
    ["kubectl apply", "exec", "pods/exec"],
    ["kubectl port-forward", "delete", "pods"],
    ["  kubectl   get  ", "delete", "pods"],
  ];
  for (const [claim, action, resource] of contradicted) {
    test(`"${claim}" then ${action} ${resource} is flagged`, () => {
      assert.equal(
        claimMismatch(claim, action, resource),
        `claimed "kubectl ${claimedSubcommand(claim)}" but sent ${action} ${resource}`,
      );
    });
  }
  const consistent: [string | undefined, string, string][] = [
    ["kubectl get", "list", "pods"],
    ["kubectl get", "watch", "pods"],
    ["kubectl delete", "delete", "deployments.apps"],
    ["kubectl delete", "get", "deployments.apps"],
    ["kubectl exec", "exec", "pods/exec"],
    ["kubectl cp", "exec", "pods/exec"],
    ["kubectl apply", "patch", "deployments.apps"],
    ["kubectl auth can-i", "create", "selfsubjectaccessreviews.authorization.k8s.io"],
    ["kubectl frobnicate", "delete", "pods"],
    ["curl", "delete", "pods"],
    [undefined, "delete", "pods"],
    ["", "delete", "pods"],
  ];
  for (const [claim, action, resource] of consistent) {
    test(`${JSON.stringify(claim)} then ${action} ${resource} is not flagged`, () => {
      assert.equal(claimMismatch(claim, action, resource), undefined);
    });
  }
});

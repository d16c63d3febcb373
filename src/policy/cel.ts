// CEL conditions (`when:`): compiled once at load with @bufbuild/cel (conformance-tested against cel-spec), evaluated
// per request against `request`, `object` (the resulting object), `oldObject` (the stored one), `identity` and `time`.
//
// Failure stance: a condition that does not parse, or names a variable other than those five, is a load error. At
// evaluation time an error (a missing field, a type mismatch) or a non-boolean result is reported as "error", and
// the evaluator treats it as a match for deny and review rules and as no match for allow rules (fail closed).
// Regular expressions in `matches()` run on RE2 semantics, so a policy cannot introduce catastrophic backtracking.

import type { CelInput } from "@bufbuild/cel";
import { CelScalar, celEnv, isCelError, parse, plan } from "@bufbuild/cel";

const VARIABLES = ["request", "object", "oldObject", "identity", "time"] as const;
const env = celEnv({
  variables: {
    request: CelScalar.DYN,
    object: CelScalar.DYN,
    oldObject: CelScalar.DYN,
    identity: CelScalar.DYN,
    time: CelScalar.DYN,
  },
});

export type CelBindings = Record<(typeof VARIABLES)[number], CelInput>;

export interface CompiledCel {
  source: string;
  /** The condition reads `object` (the resulting object): it cannot be judged from an audit record. */
  readsObject: boolean;
  /** The condition reads `oldObject` (the stored object). */
  readsOldObject: boolean;
  /** The condition reads request data the audit log does not keep (query, selectors, dryRun, exec flags). */
  readsQuery: boolean;
  evaluate(bindings: CelBindings): boolean | "error";
}

export type CelCompileResult = { ok: true; cel: CompiledCel } | { ok: false; error: string };

const QUERY_FIELDS = new Set([
  "query",
  "labelSelector",
  "fieldSelector",
  "dryRun",
  "gracePeriodSeconds",
  "propagationPolicy",
]);
const EXEC_DETAILS = new Set(["container", "tty", "stdin"]);

interface ExprNode {
  exprKind: { case: string | undefined; value?: unknown };
}

/** Walks the parsed expression: free identifiers (not comprehension variables) and which request fields are read. */
function inspect(root: ExprNode): {
  free: Set<string>;
  readsObject: boolean;
  readsOldObject: boolean;
  readsQuery: boolean;
} {
  const free = new Set<string>();
  let readsObject = false;
  let readsOldObject = false;
  let readsQuery = false;
  const visit = (node: ExprNode | undefined, bound: ReadonlySet<string>): void => {
    if (!node) return;
    const { exprKind } = node;
    switch (exprKind.case) {
      case "identExpr": {
        const name = (exprKind.value as { name: string }).name;
        if (!bound.has(name)) free.add(name);
        if (name === "object" && !bound.has(name)) readsObject = true;
        if (name === "oldObject" && !bound.has(name)) readsOldObject = true;
        return;
      }
      case "selectExpr": {
        const v = exprKind.value as { operand?: ExprNode; field: string };
        const op = v.operand?.exprKind;
        if (op?.case === "identExpr" && (op.value as { name: string }).name === "request") {
          if (QUERY_FIELDS.has(v.field)) readsQuery = true;
        }
        // request.exec.container/tty/stdin are not in the audit record (the argv is).
        if (op?.case === "selectExpr" && EXEC_DETAILS.has(v.field)) {
          const inner = op.value as { operand?: ExprNode; field: string };
          const root = inner.operand?.exprKind;
          if (
            inner.field === "exec" &&
            root?.case === "identExpr" &&
            (root.value as { name: string }).name === "request"
          )
            readsQuery = true;
        }
        visit(v.operand, bound);
        return;
      }
      case "callExpr": {
        const v = exprKind.value as { target?: ExprNode; args: ExprNode[] };
        visit(v.target, bound);
        for (const a of v.args) visit(a, bound);
        return;
      }
      case "listExpr":
        for (const e of (exprKind.value as { elements: ExprNode[] }).elements) visit(e, bound);
        return;
      case "structExpr":
        for (const e of (exprKind.value as { entries: { mapKey?: ExprNode; value?: ExprNode }[] }).entries) {
          visit(e.mapKey, bound);
          visit(e.value, bound);
        }
        return;
      case "comprehensionExpr": {
        const v = exprKind.value as {
          iterVar: string;
          iterVar2: string;
          accuVar: string;
          iterRange?: ExprNode;
          accuInit?: ExprNode;
          loopCondition?: ExprNode;
          loopStep?: ExprNode;
          result?: ExprNode;
        };
        visit(v.iterRange, bound);
        visit(v.accuInit, bound);
        const inner = new Set(bound);
        for (const n of [v.iterVar, v.iterVar2, v.accuVar]) if (n) inner.add(n);
        visit(v.loopCondition, inner);
        visit(v.loopStep, inner);
        visit(v.result, inner);
        return;
      }
      default:
        return;
    }
  };
  visit(root, new Set());
  return { free, readsObject, readsOldObject, readsQuery };
}

export function compileCel(source: string): CelCompileResult {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(source);
  } catch (err) {
    return {
      ok: false,
      error: `CEL does not parse: ${(err as Error).message.replace(/^syntax error: /, "")}`,
    };
  }
  const { free, readsObject, readsOldObject, readsQuery } = inspect(parsed.expr as unknown as ExprNode);
  const unknown = [...free].filter((n) => !(VARIABLES as readonly string[]).includes(n));
  if (unknown.length) {
    return {
      ok: false,
      error: `CEL names unknown variable${unknown.length > 1 ? "s" : ""} ${unknown.join(", ")}; available: ${VARIABLES.join(", ")}`,
    };
  }
  let program: (bindings: CelBindings) => unknown;
  try {
    program = plan(env, parsed);
  } catch (err) {
    return { ok: false, error: `CEL cannot be planned: ${(err as Error).message}` };
  }
  return {
    ok: true,
    cel: {
      source,
      readsObject,
      readsOldObject,
      readsQuery,
      evaluate(bindings) {
        try {
          const result = program(bindings);
          if (typeof result !== "boolean" || isCelError(result)) return "error";
          return result;
        } catch {
          return "error";
        }
      },
    },
  };
}

/** A CEL timestamp for `time` without importing @bufbuild/protobuf: the message shape it expects. */
export function celTimestamp(ms: number): CelInput {
  const seconds = Math.floor(ms / 1000);
  return {
    $typeName: "google.protobuf.Timestamp",
    seconds: BigInt(seconds),
    nanos: (ms - seconds * 1000) * 1_000_000,
  } as unknown as CelInput;
}

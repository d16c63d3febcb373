// The shape of a tool: a fixed name, description, input schema and annotations (they never change during a session,
// so a client's approval of a tool description stays valid), and the function that runs a call.
//
// Annotations are hints for clients, never security: the pipeline decides every request whatever they say. They
// are set conservatively — anything that can change the cluster is not read-only, anything that can remove or
// overwrite is destructive, and exec (arbitrary programs in a pod) is destructive and open-world.
import type { CallToolResult, ToolAnnotations } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";
import type { CallContext } from "../call.ts";

/**
 * The `justification` argument every tool that can change the cluster takes (issue 21). Added here, once, by
 * defineTool to each tool whose annotations are not read-only (a tool opts out with `justification: false`); the call
 * context hands it to the pipeline (call.ts entryOf), which checks it like the Airlock-Justification header.
 */
export const justificationArg = z
  .string()
  .optional()
  .describe(
    "Why you make this call: one line, at most 500 characters, recorded on the audit event and shown to the reviewer. " +
      "Required when a policy rule requires one for the request (typically writes to production): a call without it, " +
      "or with one that does not match the rule's pattern, is refused with a message naming the rule and the form " +
      'it expects, e.g. "INC-123: roll back web after the bad release".',
  );

const JUSTIFICATION_NOTE =
  " Takes an optional `justification` (why, one line): required when policy requires one for the request (typically " +
  "writes to production); the refusal says which rule and what form.";

/**
 * Fields every tool's structuredContent may carry besides its own: a pending review (the call did not run; same shape
 * from every tool, never an error), and what was masked in the data.
 */
export const ANSWER_FIELDS = {
  review: z
    .object({
      id: z.string(),
      state: z.string(),
      approverGroups: z.array(z.string()).optional(),
    })
    .optional()
    .describe("Set when the call is held for a human's approval: nothing ran; wait, then repeat the call"),
  masked: z
    .object({ fields: z.array(z.string()), profile: z.string() })
    .optional()
    .describe("The fields whose values are ‹masked:…› markers, and the masking profile"),
};

/** The output schema of a tool: its own fields (all optional: a pending review carries none) plus ANSWER_FIELDS. */
export function outputShape(own: z.ZodRawShape): z.ZodRawShape {
  const optional: Record<string, z.ZodType> = {};
  for (const [key, schema] of Object.entries(own)) optional[key] = (schema as z.ZodType).optional();
  return { ...optional, ...ANSWER_FIELDS };
}

export interface Tool {
  name: string;
  title: string;
  description: string;
  input: z.ZodRawShape;
  /** The structuredContent's shape (outputSchema): every field optional, ANSWER_FIELDS included. */
  output: z.ZodRawShape;
  annotations: ToolAnnotations;
  run(c: CallContext, args: Record<string, unknown>): Promise<CallToolResult>;
}

export function defineTool<S extends z.ZodRawShape>(tool: {
  name: string;
  title: string;
  description: string;
  input: S;
  output: z.ZodRawShape;
  annotations: ToolAnnotations;
  run(c: CallContext, args: z.infer<z.ZodObject<S>>): Promise<CallToolResult>;
  /** false: the tool changes nothing through the pipeline and takes no justification (default: not read-only). */
  justification?: boolean;
}): Tool {
  const { justification = tool.annotations.readOnlyHint !== true, ...given } = tool;
  const rest = { ...given, output: outputShape(given.output) };
  const defined = justification
    ? {
        ...rest,
        description: rest.description + JUSTIFICATION_NOTE,
        input: { ...rest.input, justification: justificationArg },
      }
    : rest;
  // The SDK validates arguments against `input` before `run` is called, so the narrower type holds at run time.
  return defined as unknown as Tool;
}

/** Writes: they may wait for a human (said in every write tool's description). */
export const MAY_WAIT =
  " Writes may wait for a human: when policy holds the call for review, the answer (not an error) names a pending " +
  "review; nothing ran yet — wait with airlock_review_wait, then repeat the same call.";

/** Row objects of a table answer: column name → cell text. */
export const rowsField = z.array(z.record(z.string(), z.string()));

export const READ_ONLY: ToolAnnotations = {
  readOnlyHint: true,
  destructiveHint: false,
  idempotentHint: true,
  openWorldHint: false,
};

/** Arguments most tools share. */
export const common = {
  cluster: z
    .string()
    .optional()
    .describe("Cluster name when the gateway serves several (omit for the default cluster)"),
  namespace: z
    .string()
    .optional()
    .describe(
      'Namespace (default: your identity\'s default namespace, see airlock_whoami, else "default"; ignored for ' +
        "cluster-scoped resources)",
    ),
};

export const resourceArg = z
  .string()
  .min(1)
  .describe(
    'Resource type: plural, singular, short name or <plural>.<group>, e.g. "pods", "deploy", "ingresses.networking.k8s.io"',
  );

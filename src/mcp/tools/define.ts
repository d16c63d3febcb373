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

export interface Tool {
  name: string;
  title: string;
  description: string;
  input: z.ZodRawShape;
  annotations: ToolAnnotations;
  run(c: CallContext, args: Record<string, unknown>): Promise<CallToolResult>;
}

export function defineTool<S extends z.ZodRawShape>(tool: {
  name: string;
  title: string;
  description: string;
  input: S;
  annotations: ToolAnnotations;
  run(c: CallContext, args: z.infer<z.ZodObject<S>>): Promise<CallToolResult>;
  /** false: the tool changes nothing through the pipeline and takes no justification (default: not read-only). */
  justification?: boolean;
}): Tool {
  const { justification = tool.annotations.readOnlyHint !== true, ...rest } = tool;
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
    .describe('Namespace (default: "default"; ignored for cluster-scoped resources)'),
};

export const resourceArg = z
  .string()
  .min(1)
  .describe(
    'Resource type: plural, singular, short name or <plural>.<group>, e.g. "pods", "deploy", "ingresses.networking.k8s.io"',
  );

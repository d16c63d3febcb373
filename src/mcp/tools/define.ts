// The shape of a tool: a fixed name, description, input schema and annotations (they never change during a session,
// so a client's approval of a tool description stays valid), and the function that runs a call.
//
// Annotations are hints for clients, never security: the pipeline decides every request whatever they say. They
// are set conservatively — anything that can change the cluster is not read-only, anything that can remove or
// overwrite is destructive, and exec (arbitrary programs in a pod) is destructive and open-world.
import type { CallToolResult, ToolAnnotations } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";
import type { CallContext } from "../call.ts";

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
}): Tool {
  // The SDK validates arguments against `input` before `run` is called, so the narrower type holds at run time.
  return tool as unknown as Tool;
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

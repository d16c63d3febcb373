// The `store:` section of airlock.yaml: which engine holds identities, reviews, audit and sessions.
//
//   store: { kind: sqlite }                                   # default: <dataDir>/airlock.db, one replica
//   store: { kind: postgres, urlFile: /run/secrets/pg-url }   # shared by several replicas (docs/storage.md)
//
// Secrets: a PostgreSQL URL carries a password, so validation messages never repeat the value, and `urlFile` keeps it
// out of the configuration file altogether.
import { z } from "zod";

export const storeConfigSchema = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("sqlite") }),
  z.strictObject({
    kind: z.literal("postgres"),
    url: z
      .string()
      .regex(
        /^postgres(ql)?:\/\/\S+$/,
        "a postgres:// or postgresql:// URL (the value is not shown: it may hold a password)",
      )
      .optional(),
    urlFile: z.string().min(1).optional(),
    schema: z
      .string()
      .regex(/^[a-z_][a-z0-9_]{0,62}$/, "a plain lower-case SQL name ([a-z_][a-z0-9_]*)")
      .optional(),
    poolSize: z.number().int().min(1).max(200).optional(),
  }),
]);

export type StoreConfig = z.infer<typeof storeConfigSchema>;

/** Cross-field checks zod cannot express per field; messages are prefixed like zod's ("store.url: …"). */
export function checkStoreConfig(store: StoreConfig): string[] {
  if (store.kind !== "postgres") return [];
  if ((store.url === undefined) === (store.urlFile === undefined)) {
    return ["store: a postgres store needs exactly one of url and urlFile"];
  }
  return [];
}

export function resolveStorePaths(store: StoreConfig, abs: (p: string) => string): StoreConfig {
  return store.kind === "postgres" && store.urlFile ? { ...store, urlFile: abs(store.urlFile) } : store;
}

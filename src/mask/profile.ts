// Masking profiles: named sets of field rules and detectors, written as `kind: MaskingProfile` documents beside the
// policies. Two are built in: `default` (everything on) and `none` (break-glass: nothing masked, for humans whom
// policy allows to see values; the audit event records that it was used).
//
// A profile may `extend` another: unset fields are inherited and patterns are added. Profiles are validated once,
// when loaded (unknown keys, bad regular expressions, unknown detectors, unknown or cyclic `extends` are all errors,
// reported together), then compiled and frozen.
import { z } from "zod";
import { BUILTIN_DETECTOR_NAMES, type CustomPattern, type DetectorSet, detectorSet } from "./detectors.ts";
import { DEFAULT_MIN_VALUE_BYTES } from "./values.ts";

export const DEFAULT_PROFILE = "default";
export const NO_MASKING_PROFILE = "none";

/** Variable and key names that hold secrets: matched case-insensitively anywhere in the name. */
export const DEFAULT_NAME_PATTERN =
  "PASSWORD|PASSWD|PASSPHRASE|PWD|TOKEN|SECRET|KEY|CREDENTIAL|AUTH|CERT|PRIVATE|DSN|CONN(?:ECTION)?_?STR|SALT|COOKIE|SESSION";

const patternSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, "a DNS label"),
  regex: z.string().min(1),
  ignoreCase: z.boolean().optional(),
  maxLength: z.number().int().min(1).max(65536).optional(),
});

export const profileSpecSchema = z.strictObject({
  extends: z.string().optional(),
  secretData: z.boolean().optional(),
  env: z.strictObject({ namePattern: z.string() }).optional(),
  configMaps: z.strictObject({ keyPattern: z.string() }).optional(),
  lastAppliedConfiguration: z.boolean().optional(),
  managedFields: z.boolean().optional(),
  /** Property names that sound secret (`password:`, `apiToken:`) in any object, CRDs included. */
  secretSoundingKeys: z.boolean().optional(),
  secretNames: z.boolean().optional(),
  secretReferences: z.boolean().optional(),
  detectors: z.array(z.enum(BUILTIN_DETECTOR_NAMES as [string, ...string[]])).optional(),
  /** Known secret values in exec/attach/log output: values shorter than minBytes are left to the key rules. */
  secretValues: z.strictObject({ minBytes: z.number().int().min(1).max(1024) }).optional(),
  patterns: z.array(patternSchema).optional(),
});

export const profileDocumentSchema = z.strictObject({
  apiVersion: z.literal("airlock.dev/v1alpha1"),
  kind: z.literal("MaskingProfile"),
  metadata: z.strictObject({ name: z.string().min(1), labels: z.record(z.string(), z.string()).optional() }),
  spec: profileSpecSchema.prefault({}),
});

export type ProfileSpec = z.infer<typeof profileSpecSchema>;
export type ProfileDocument = z.infer<typeof profileDocumentSchema>;

export interface MaskingProfile {
  readonly name: string;
  /** True for break-glass profiles: responses pass unmasked (and the audit says so). */
  readonly disabled: boolean;
  readonly secretData: boolean;
  readonly envName: RegExp | undefined;
  readonly configMapKey: RegExp | undefined;
  readonly lastAppliedConfiguration: boolean;
  readonly managedFields: boolean;
  readonly secretSoundingKeys: boolean;
  readonly secretNames: boolean;
  readonly secretReferences: boolean;
  readonly detectors: DetectorSet;
  /** The shortest Secret value searched for in exec/attach/log output (values.ts). */
  readonly secretValueMinBytes: number;
}

type Resolved = Required<Omit<ProfileSpec, "extends" | "env" | "configMaps" | "secretValues">> & {
  secretValueMinBytes: number;
  envNamePattern: string;
  configMapKeyPattern: string;
};

const DEFAULT_SPEC: Resolved = {
  secretData: true,
  envNamePattern: DEFAULT_NAME_PATTERN,
  configMapKeyPattern: DEFAULT_NAME_PATTERN,
  lastAppliedConfiguration: true,
  managedFields: true,
  secretSoundingKeys: true,
  secretNames: false,
  secretReferences: false,
  detectors: [...BUILTIN_DETECTOR_NAMES],
  secretValueMinBytes: DEFAULT_MIN_VALUE_BYTES,
  patterns: [],
};

function compile(name: string, spec: Resolved, disabled = false): MaskingProfile {
  const custom: CustomPattern[] = spec.patterns.map((p) => ({
    name: p.name,
    regex: p.regex,
    ...(p.ignoreCase !== undefined ? { ignoreCase: p.ignoreCase } : {}),
    ...(p.maxLength !== undefined ? { maxLength: p.maxLength } : {}),
  }));
  return Object.freeze({
    name,
    disabled,
    secretData: spec.secretData,
    envName: spec.envNamePattern ? new RegExp(spec.envNamePattern, "i") : undefined,
    configMapKey: spec.configMapKeyPattern ? new RegExp(spec.configMapKeyPattern, "i") : undefined,
    lastAppliedConfiguration: spec.lastAppliedConfiguration,
    managedFields: spec.managedFields,
    secretSoundingKeys: spec.secretSoundingKeys,
    secretNames: spec.secretNames,
    secretReferences: spec.secretReferences,
    detectors: detectorSet(spec.detectors, custom),
    secretValueMinBytes: spec.secretValueMinBytes,
  });
}

export const BUILTIN_PROFILES: ReadonlyMap<string, MaskingProfile> = new Map([
  [DEFAULT_PROFILE, compile(DEFAULT_PROFILE, DEFAULT_SPEC)],
  [
    NO_MASKING_PROFILE,
    compile(
      NO_MASKING_PROFILE,
      {
        ...DEFAULT_SPEC,
        secretData: false,
        envNamePattern: "",
        configMapKeyPattern: "",
        lastAppliedConfiguration: false,
        managedFields: false,
        secretSoundingKeys: false,
        detectors: [],
      },
      true,
    ),
  ],
]);

export type ProfilesResult =
  | { ok: true; profiles: Map<string, MaskingProfile> }
  | { ok: false; errors: string[] };

/**
 * Validates and compiles MaskingProfile documents (already parsed from YAML) together with the built-ins. A
 * document may not redefine `default` or `none`; extend them instead.
 */
export function compileProfiles(documents: readonly unknown[]): ProfilesResult {
  const errors: string[] = [];
  const specs = new Map<string, ProfileSpec>();
  documents.forEach((doc, i) => {
    const parsed = profileDocumentSchema.safeParse(doc);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        errors.push(`MaskingProfile[${i}] ${issue.path.join(".") || "(document)"}: ${issue.message}`);
      }
      return;
    }
    const name = parsed.data.metadata.name;
    if (BUILTIN_PROFILES.has(name))
      errors.push(`MaskingProfile ${name}: built-in profiles cannot be redefined`);
    else if (specs.has(name)) errors.push(`MaskingProfile ${name}: defined twice`);
    else specs.set(name, parsed.data.spec);
  });

  const resolved = new Map<string, Resolved>();
  const resolve = (name: string, chain: string[]): Resolved | undefined => {
    const done = resolved.get(name);
    if (done) return done;
    if (name === DEFAULT_PROFILE) return DEFAULT_SPEC;
    if (name === NO_MASKING_PROFILE) {
      errors.push(`MaskingProfile ${chain.at(-1)}: cannot extend the break-glass profile "none"`);
      return undefined;
    }
    const spec = specs.get(name);
    if (!spec) {
      errors.push(`MaskingProfile ${chain.at(-1)}: extends unknown profile "${name}"`);
      return undefined;
    }
    if (chain.includes(name)) {
      errors.push(`MaskingProfile ${name}: extends itself (${[...chain, name].join(" → ")})`);
      return undefined;
    }
    const base = resolve(spec.extends ?? DEFAULT_PROFILE, [...chain, name]);
    if (!base) return undefined;
    const out: Resolved = {
      secretData: spec.secretData ?? base.secretData,
      envNamePattern: spec.env?.namePattern ?? base.envNamePattern,
      configMapKeyPattern: spec.configMaps?.keyPattern ?? base.configMapKeyPattern,
      lastAppliedConfiguration: spec.lastAppliedConfiguration ?? base.lastAppliedConfiguration,
      managedFields: spec.managedFields ?? base.managedFields,
      secretSoundingKeys: spec.secretSoundingKeys ?? base.secretSoundingKeys,
      secretNames: spec.secretNames ?? base.secretNames,
      secretReferences: spec.secretReferences ?? base.secretReferences,
      detectors: spec.detectors ?? base.detectors,
      secretValueMinBytes: spec.secretValues?.minBytes ?? base.secretValueMinBytes,
      patterns: [...base.patterns, ...(spec.patterns ?? [])],
    };
    resolved.set(name, out);
    return out;
  };

  const profiles = new Map(BUILTIN_PROFILES);
  for (const name of specs.keys()) {
    const spec = resolve(name, []);
    if (!spec) continue;
    try {
      profiles.set(name, compile(name, spec));
    } catch (err) {
      errors.push(`MaskingProfile ${name}: ${(err as Error).message}`);
    }
  }
  return errors.length ? { ok: false, errors: [...new Set(errors)] } : { ok: true, profiles };
}

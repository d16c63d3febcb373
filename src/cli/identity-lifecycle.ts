// `airlock identity` subcommands of the lifecycle and credentials: update, disable, enable, credentials, token
// create|rotate, credential revoke, cert. Thin: each is one admin API call (src/admin/identities.ts).
//
// Secrets (a new token, a certificate's private key) are printed or written once: tokens alone on stdout, keys into
// files created 0600. Nothing secret goes to stderr.

import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Credential, Identity } from "../identity/types.ts";
import { terminalJson } from "../shared/render.ts";
import {
  CLI_ERROR_USAGE,
  CliError,
  type Connection,
  callAdminApi,
  formatAge,
  formatTable,
  parseDuration,
} from "./client.ts";
import { writePrivateFile } from "./kubeconfig.ts";

export interface LifecycleValues {
  group?: string[];
  label?: string[];
  owner?: string;
  description?: string;
  "default-namespace"?: string;
  expires?: string;
  "read-only"?: boolean;
  cluster?: string[];
  overlap?: string;
  credential?: string;
  out?: string;
  days?: string;
  json?: boolean;
  name?: string;
}

/** `--expires 30d` or an RFC 3339 time → ISO; `never` → null. */
export function expiryOf(text: string, now: number): string | null {
  if (text === "never") return null;
  const ms = parseDuration(text);
  if (ms !== undefined) return new Date(now + ms).toISOString();
  if (/^\d{4}-\d\d-\d\dT/.test(text) && !Number.isNaN(Date.parse(text)))
    return new Date(Date.parse(text)).toISOString();
  throw new CliError(
    `--expires "${text}" is neither a duration (30d, 12h) nor a time nor "never".`,
    CLI_ERROR_USAGE,
  );
}

export function parseLabels(pairs: string[]): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new CliError(`--label "${pair}" is not key=value.`, CLI_ERROR_USAGE);
    labels[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return labels;
}

/** Token options from flags, for create and rotate. */
export function tokenBody(values: LifecycleValues, now: number): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  if (values.expires !== undefined) {
    const at = expiryOf(values.expires, now);
    if (at) body.expiresAt = at;
  }
  if (values.name !== undefined) body.name = values.name;
  if (values["read-only"] || values.cluster?.length) {
    body.scopes = {
      ...(values["read-only"] ? { readOnly: true } : {}),
      ...(values.cluster?.length ? { clusters: values.cluster } : {}),
    };
  }
  return body;
}

const print = (value: unknown) => process.stdout.write(`${terminalJson(value)}\n`);

export function credentialTable(items: Omit<Credential, "tokenHash">[], now: number): string {
  return formatTable(
    ["ID", "KIND", "NAME", "CREATED", "EXPIRES", "LAST-USED", "SCOPES", "STATE"],
    items.map((c) => [
      c.id,
      c.kind,
      c.name || "-",
      formatAge(c.createdAt, now),
      c.expiresAt ? c.expiresAt : "never",
      c.lastUsedAt ? `${formatAge(c.lastUsedAt, now)} ago` : "never",
      [
        c.scopes.readOnly ? "read-only" : "",
        c.scopes.clusters ? `clusters=${c.scopes.clusters.join(",")}` : "",
      ]
        .filter(Boolean)
        .join(" ") || "-",
      c.revokedAt ? "revoked" : c.expiresAt && Date.parse(c.expiresAt) <= now ? "expired" : "active",
    ]),
  );
}

/** Runs one lifecycle subcommand; undefined when `sub` is not one of them. */
export async function runLifecycle(
  sub: string,
  positionals: string[],
  values: LifecycleValues,
  conn: () => Connection,
): Promise<number | undefined> {
  const now = Date.now();
  const need = (n: number, usage: string): string[] => {
    if (positionals.length !== n) throw new CliError(`usage: airlock identity ${usage}`, CLI_ERROR_USAGE);
    return positionals.map(encodeURIComponent);
  };
  const base = (name: string) => `/airlock/v1/identities/${name}`;
  switch (sub) {
    case "update": {
      const [name] = need(
        1,
        "update NAME [--group G]… [--label k=v]… [--owner H] [--description D] [--default-namespace NS] [--expires T]",
      );
      const body: Record<string, unknown> = {};
      if (values.group) body.groups = values.group;
      if (values.label) body.labels = parseLabels(values.label);
      if (values.owner !== undefined) body.owner = values.owner === "" ? null : values.owner;
      if (values.description !== undefined) body.description = values.description;
      if (values["default-namespace"] !== undefined)
        body.defaultNamespace = values["default-namespace"] === "" ? null : values["default-namespace"];
      if (values.expires !== undefined) body.expiresAt = expiryOf(values.expires, now);
      const identity = (await callAdminApi(conn(), "PATCH", base(name ?? ""), body)) as Identity;
      if (values.json) print(identity);
      else process.stdout.write(`identity "${identity.name}" updated.\n`);
      return 0;
    }
    case "disable":
    case "enable": {
      const [name] = need(1, `${sub} NAME`);
      const identity = (await callAdminApi(conn(), "POST", `${base(name ?? "")}/${sub}`)) as Identity;
      if (values.json) print(identity);
      else
        process.stdout.write(
          sub === "disable"
            ? `identity "${identity.name}" disabled: refused from the next request; its live streams are closed.\n`
            : `identity "${identity.name}" enabled.\n`,
        );
      return 0;
    }
    case "credentials": {
      const [name] = need(1, "credentials NAME [--json]");
      const { items } = (await callAdminApi(conn(), "GET", `${base(name ?? "")}/credentials`)) as {
        items: Omit<Credential, "tokenHash">[];
      };
      if (values.json) print(items);
      else process.stdout.write(credentialTable(items, now));
      return 0;
    }
    case "token": {
      const [action, ...rest] = positionals;
      if (action !== "create" && action !== "rotate") {
        throw new CliError(
          "usage: airlock identity token create|rotate NAME [--expires 30d] [--read-only] [--cluster C]… [--overlap 1h]",
          CLI_ERROR_USAGE,
        );
      }
      if (rest.length !== 1)
        throw new CliError(`usage: airlock identity token ${action} NAME`, CLI_ERROR_USAGE);
      const name = encodeURIComponent(rest[0] ?? "");
      const body = tokenBody(values, now);
      if (action === "rotate") {
        const overlap = parseDuration(values.overlap ?? "1h");
        if (overlap === undefined && values.overlap !== "0")
          throw new CliError(
            `--overlap "${values.overlap}" is not a duration; use e.g. 30m, 1h, or 0 to cut the old token off now.`,
            CLI_ERROR_USAGE,
          );
        body.overlapSeconds = Math.round((overlap ?? 0) / 1000);
        if (values.credential) body.credentialId = values.credential;
      }
      const path = `${base(name)}/tokens${action === "rotate" ? "/rotate" : ""}`;
      const created = (await callAdminApi(conn(), "POST", path, body)) as {
        credential: Credential;
        token: string;
        replaced?: Credential | null;
      };
      if (values.json) print(created);
      else {
        const old = created.replaced ? ` The old token works until ${created.replaced.expiresAt}.` : "";
        process.stderr.write(`new token ${created.credential.id}: shown only once, store it now.${old}\n`);
        process.stdout.write(`${created.token}\n`);
      }
      return 0;
    }
    case "oauth-client": {
      // An OAuth client for an agent's MCP client (client_credentials): an API-token credential of the identity,
      // whose id is the client_id and whose token is the client_secret (stored hashed, shown once).
      const [action, ...rest] = positionals;
      if (action !== "create" || rest.length !== 1) {
        throw new CliError(
          "usage: airlock identity oauth-client create NAME [--expires 30d] [--read-only] [--cluster C]…",
          CLI_ERROR_USAGE,
        );
      }
      const body = tokenBody(values, now);
      body.name ??= "oauth-client";
      const created = (await callAdminApi(
        conn(),
        "POST",
        `${base(encodeURIComponent(rest[0] ?? ""))}/tokens`,
        body,
      )) as { credential: Credential; token: string };
      if (values.json) print({ client_id: created.credential.id, client_secret: created.token });
      else {
        process.stderr.write(
          "OAuth client for /mcp (client_credentials): the secret is shown only once, store it now. Revoke it with `airlock identity credential revoke NAME CLIENT_ID`.\n",
        );
        process.stdout.write(`client_id: ${created.credential.id}\nclient_secret: ${created.token}\n`);
      }
      return 0;
    }
    case "credential": {
      const [action, name, id] = positionals;
      if (action !== "revoke" || !name || !id)
        throw new CliError("usage: airlock identity credential revoke NAME ID", CLI_ERROR_USAGE);
      const credential = (await callAdminApi(
        conn(),
        "POST",
        `${base(encodeURIComponent(name))}/credentials/${encodeURIComponent(id)}/revoke`,
      )) as Credential;
      if (values.json) print(credential);
      else process.stdout.write(`credential ${credential.id} revoked; its live streams are closed.\n`);
      return 0;
    }
    case "cert": {
      const [name] = need(1, "cert NAME --out DIR [--days 30]");
      if (!values.out)
        throw new CliError(
          "identity cert needs --out DIR (the key is written there, 0600).",
          CLI_ERROR_USAGE,
        );
      const days = values.days === undefined ? undefined : Number(values.days);
      if (days !== undefined && !Number.isInteger(days))
        throw new CliError(`--days "${values.days}" is not a whole number of days (1–365).`, CLI_ERROR_USAGE);
      const issued = (await callAdminApi(
        conn(),
        "POST",
        `${base(name ?? "")}/certificates`,
        days ? { validDays: days } : {},
      )) as {
        credential: Credential;
        certificate: string;
        key: string;
        ca: string;
        kubeconfig: string;
      };
      mkdirSync(values.out, { recursive: true, mode: 0o700 });
      const plain = decodeURIComponent(name ?? "");
      writePrivateFile(join(values.out, `${plain}.crt`), issued.certificate);
      writePrivateFile(join(values.out, `${plain}.key`), issued.key);
      writePrivateFile(join(values.out, "identity-ca.crt"), issued.ca);
      writePrivateFile(join(values.out, `${plain}.kubeconfig`), issued.kubeconfig);
      if (values.json) print({ credential: issued.credential, dir: values.out });
      else
        process.stdout.write(
          `certificate ${issued.credential.serial} for "${plain}" (expires ${issued.credential.expiresAt}) written to ${values.out}: ` +
            `${plain}.crt, ${plain}.key (0600), ${plain}.kubeconfig\n`,
        );
      return 0;
    }
    default:
      return undefined;
  }
}

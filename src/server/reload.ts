// Reloading configuration and TLS material without dropping connections (issue 16 §8).
//
// - TLS: the server certificate and key (`tls.certFile`/`keyFile`, or the generated `<dataDir>/tls/server.*`) are
//   polled every 2 s (stat, which follows the symlink swaps of mounted Kubernetes Secrets); when their bytes change
//   (sha256 compared, so a touch or a rewrite with the same bytes reloads nothing) the listener's secure context is
//   replaced. New connections get the new certificate; established ones — a watch, an exec — keep theirs.
// - Configuration: on SIGHUP `airlock serve` reads its file again. Only `limits`, `shutdown` and `log.level` apply
//   to a running gateway; any other change is named in the log as needing a restart, and an invalid file changes
//   nothing. TLS is re-read at the same time.
import { createHash } from "node:crypto";
import { unwatchFile, watchFile } from "node:fs";
import type { Http2SecureServer } from "node:http2";
import { join } from "node:path";
import { isDeepStrictEqual } from "node:util";
import type { GatewayConfig } from "../gateway/config.ts";
import type { Logger } from "../shared/log.ts";
import type { TlsMaterial } from "./tls-material.ts";

/** The sections of airlock.yaml a running gateway takes on reload. */
export const RELOADABLE = ["limits", "shutdown", "log"] as const;

export interface ReloadParts {
  server: Http2SecureServer;
  log: Logger;
  /** The config in force (the runtime's); replaced by `apply`. */
  current(): GatewayConfig;
  apply(config: GatewayConfig): void;
  loadTls(config: GatewayConfig): Promise<TlsMaterial>;
  /** Secure-context options that do not come from the files (the identity CA for client certificates). */
  contextExtras: { ca?: string };
  /** Told of TLS material taken into force, for other listeners serving the same certificate (the agent port). */
  onTls?: (tls: TlsMaterial) => void;
}

export interface Reloader {
  /** Applies a freshly loaded configuration (SIGHUP): reloadable sections, then TLS. */
  reloadConfig(config: GatewayConfig): Promise<{ applied: string[]; needRestart: string[] }>;
  /** Re-reads the TLS files; replaces the secure context when their bytes changed. */
  reloadTls(): Promise<boolean>;
  stop(): void;
}

function tlsPaths(config: GatewayConfig): string[] {
  if (config.tls) return [config.tls.certFile, config.tls.keyFile];
  const dir = join(config.dataDir, "tls");
  return [join(dir, "server.crt"), join(dir, "server.key")];
}

function digest(tls: TlsMaterial): string {
  return createHash("sha256").update(tls.certPem).update("\0").update(tls.keyPem).digest("hex");
}

export async function startReloader(parts: ReloadParts, initial: TlsMaterial): Promise<Reloader> {
  let inForce = digest(initial);
  let watched: string[] = [];
  let chain = Promise.resolve(false);

  const reloadTls = (): Promise<boolean> => {
    chain = chain.then(async () => {
      let tls: TlsMaterial;
      try {
        tls = await parts.loadTls(parts.current());
      } catch (err) {
        parts.log.error(
          { err: (err as Error).message },
          "TLS material could not be read; the current one stays",
        );
        return false;
      }
      const next = digest(tls);
      if (next === inForce) return false;
      try {
        parts.server.setSecureContext({
          cert: tls.certPem,
          key: tls.keyPem,
          minVersion: "TLSv1.2",
          ...parts.contextExtras,
        });
      } catch (err) {
        // A certificate that does not match its key (a half-written rotation): keep the one in force.
        parts.log.error({ err: (err as Error).message }, "TLS material refused; the current one stays");
        return false;
      }
      inForce = next;
      try {
        parts.onTls?.(tls);
      } catch (err) {
        parts.log.error({ err: (err as Error).message }, "TLS material not taken by the agent port");
      }
      parts.log.info({ files: watched }, "TLS material reloaded; new connections use it");
      return true;
    });
    return chain;
  };

  const watch = (config: GatewayConfig) => {
    for (const path of watched) unwatchFile(path);
    watched = tlsPaths(config);
    for (const path of watched) {
      watchFile(path, { interval: 2000, persistent: false }, (now, before) => {
        if (now.mtimeMs !== before.mtimeMs || now.size !== before.size || now.ino !== before.ino)
          void reloadTls();
      });
    }
  };
  watch(parts.current());

  return {
    reloadTls,
    async reloadConfig(config) {
      const old = parts.current();
      const needRestart = Object.keys({ ...old, ...config }).filter(
        (key) =>
          !(RELOADABLE as readonly string[]).includes(key) &&
          // New certificate paths are taken; switching between given and generated TLS needs a restart.
          !(key === "tls" && old.tls && config.tls) &&
          !isDeepStrictEqual(old[key as keyof GatewayConfig], config[key as keyof GatewayConfig]),
      );
      const applied = RELOADABLE.filter((key) => !isDeepStrictEqual(old[key], config[key]));
      // tls.certFile/keyFile may move: the new paths are watched and read; the rest of the config stays as it was.
      const next: GatewayConfig = {
        ...old,
        limits: config.limits,
        shutdown: config.shutdown,
        log: config.log,
        ...(config.tls ? { tls: config.tls } : {}),
      };
      parts.apply(next);
      if (!isDeepStrictEqual(old.tls, config.tls)) watch(next);
      await reloadTls();
      if (needRestart.length) {
        parts.log.warn(
          { needRestart },
          `configuration reloaded; these settings changed but need a restart to apply: ${needRestart.join(", ")}`,
        );
      }
      parts.log.info({ applied }, "configuration reloaded");
      return { applied: [...applied], needRestart };
    },
    stop() {
      for (const path of watched) unwatchFile(path);
      watched = [];
    },
  };
}

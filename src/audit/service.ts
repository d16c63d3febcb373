// The gateway's audit service: loads the signing key, writes periodic checkpoints, enforces retention and runs the
// sinks. Started by startGateway after the store opens; stopped before the store closes (with a last checkpoint).
//
// Nothing here is on the request path: the write-ahead record is the store's job (audit.begin resolves only once
// committed). A failing sink, checkpoint or retention pass is logged and retried; it never refuses requests.

import { parseDuration } from "../shared/duration.ts";
import type { Logger } from "../shared/log.ts";
import { Checkpointer } from "./checkpoint.ts";
import type { AuditConfig, AuditSinkConfig } from "./config.ts";
import { enforceRetention, type RetentionPolicy } from "./retention.ts";
import { loadOrCreateSigningKey, type SigningKey } from "./signing.ts";
import { SinkRunner } from "./sink-runner.ts";
import { type AuditSink, FileSink, StreamSink, WebhookSink } from "./sinks.ts";
import type { AuditStore } from "./types.ts";

export interface AuditService {
  key: SigningKey;
  checkpointer: Checkpointer;
  /** Runs retention now (also run every retention.checkSeconds). */
  enforceRetention(): ReturnType<typeof enforceRetention>;
  close(): Promise<void>;
}

export interface AuditServiceOptions {
  store: AuditStore;
  dataDir: string;
  config: AuditConfig;
  log: Logger;
  /** Where `type: stdout` sinks write. */
  stdout: NodeJS.WritableStream;
  now?: () => number;
}

function sinkOf(config: AuditSinkConfig, stdout: NodeJS.WritableStream): AuditSink {
  switch (config.type) {
    case "file":
      return new FileSink(config);
    case "webhook":
      return new WebhookSink({ url: config.url });
    case "stdout":
      return new StreamSink(stdout);
  }
}

export async function startAuditService(opts: AuditServiceOptions): Promise<AuditService> {
  const { store, config, log } = opts;
  const now = opts.now ?? Date.now;
  const key = await loadOrCreateSigningKey(opts.dataDir);
  if (key.created) log.info({ path: key.path, keyId: key.keyId }, "audit signing key created");
  const checkpointer = new Checkpointer({
    store,
    key,
    everyRecords: config.checkpoint.everyEvents,
    everySeconds: config.checkpoint.everySeconds,
    now,
    onError: (err) => log.error({ err: (err as Error).message }, "audit checkpoint failed"),
  });
  checkpointer.start();

  const policy: RetentionPolicy = {};
  if (config.retention.maxAge) policy.maxAgeMs = parseDuration(config.retention.maxAge) ?? 0;
  if (config.retention.maxEvents) policy.maxRecords = config.retention.maxEvents;
  const retain = async () => {
    const result = await enforceRetention(store, key, policy, now(), (work) => checkpointer.exclusive(work));
    if (result)
      log.info(
        { through: result.through, records: result.records, events: result.events },
        "audit retention pruned",
      );
    return result;
  };
  const retention =
    policy.maxAgeMs !== undefined || policy.maxRecords !== undefined
      ? setInterval(
          () =>
            void retain().catch((err) =>
              log.error({ err: (err as Error).message }, "audit retention failed"),
            ),
          config.retention.checkSeconds * 1000,
        )
      : undefined;
  retention?.unref();

  const runners = config.sinks.map((sinkConfig, i) => {
    const sink = sinkOf(sinkConfig, opts.stdout);
    const runner = new SinkRunner({
      store,
      sink,
      // Position key: the sink's place in the list and its target, so editing one sink does not replay another.
      cursorName: `${i}:${sink.name}:${sinkConfig.format}`,
      format: sinkConfig.format,
      batchSize: sinkConfig.type === "webhook" ? sinkConfig.batchSize : 500,
      flushMs: sinkConfig.type === "webhook" ? sinkConfig.flushSeconds * 1000 : 0,
      onError: (err, attempt) =>
        log.warn(
          { sink: sink.name, attempt, err: (err as Error).message },
          "audit sink delivery failed; retrying",
        ),
    });
    runner.start();
    return runner;
  });

  return {
    key,
    checkpointer,
    enforceRetention: retain,
    async close() {
      if (retention) clearInterval(retention);
      await Promise.all(runners.map((r) => r.stop()));
      await checkpointer.stop();
    },
  };
}

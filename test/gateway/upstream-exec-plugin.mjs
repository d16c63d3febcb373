#!/usr/bin/env node
// A test exec credential plugin. It counts its runs in $PLUGIN_STATE_DIR/count, saves KUBERNETES_EXEC_INFO to
// $PLUGIN_STATE_DIR/exec-info.json and prints an ExecCredential whose token ends in the run number, so tests can
// tell a cached credential from a fresh one. Mode ($PLUGIN_STATE_DIR/mode, else PLUGIN_MODE): token (default) | cert |
// fail | garbage | wrong-version | hang.
import { appendFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const env = process.env;
const dir = env.PLUGIN_STATE_DIR;
appendFileSync(join(dir, "count"), "x");
const run = readFileSync(join(dir, "count"), "utf8").length;
const info = env.KUBERNETES_EXEC_INFO ?? "";
writeFileSync(join(dir, "exec-info.json"), info);
// Like aws eks get-token: answer in the apiVersion the caller asked for, v1beta1 by default.
const apiVersion = info ? JSON.parse(info).apiVersion : "client.authentication.k8s.io/v1beta1";
const modeFile = join(dir, "mode");
const mode = existsSync(modeFile) ? readFileSync(modeFile, "utf8").trim() : (env.PLUGIN_MODE ?? "token");

if (mode === "fail") {
  process.stderr.write(
    `could not reach the token service (run ${run}); last token was ${env.PLUGIN_TOKEN}-${run - 1}\n`,
  );
  process.exit(3);
} else if (mode === "hang") {
  setTimeout(() => {}, 60_000);
} else if (mode === "garbage") {
  process.stdout.write("this is not json\n");
} else {
  const status = {};
  if (mode === "cert") {
    // Alternates between two certificates, so a test can watch the gateway pick up a new one.
    const which = run % 2 === 1 ? "1" : "2";
    status.clientCertificateData = readFileSync(join(dir, `client${which}.crt`), "utf8");
    status.clientKeyData = readFileSync(join(dir, `client${which}.key`), "utf8");
  } else {
    status.token = `${env.PLUGIN_TOKEN ?? "exec-token"}-${run}`;
  }
  if (env.PLUGIN_EXPIRES_IN) {
    status.expirationTimestamp = new Date(Date.now() + Number(env.PLUGIN_EXPIRES_IN) * 1000).toISOString();
  }
  const version = mode === "wrong-version" ? "client.authentication.k8s.io/v1alpha1" : apiVersion;
  process.stdout.write(JSON.stringify({ kind: "ExecCredential", apiVersion: version, spec: {}, status }));
}

// Write-ahead audit across a crash, end to end: a gateway child process (`airlock serve`) is SIGKILLed the moment its
// upstream receives the forwarded request, before anything is answered. With either audit.durability the request's
// audit record must already be committed in the database the gateway leaves behind.
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, request } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { createCertificateAuthority, issueServerCertificate } from "../../src/shared/tls.ts";
import { openStore } from "../../src/store/index.ts";
import { serveAirlock } from "../helpers/cli.ts";

let dir: string;
const children: ChildProcess[] = [];
/** The gateway to kill when the upstream sees a request for a ConfigMap named `probe-*`. */
let victim: ChildProcess | undefined;
let upstreamSaw: string[] = [];

const ca = createCertificateAuthority("durability-test-ca");
const cert = issueServerCertificate(ca, { commonName: "upstream", dnsNames: [], ipAddresses: ["127.0.0.1"] });
const upstream = createServer({ cert: cert.certPem, key: cert.keyPem }, (req, res) => {
  if (req.url?.includes("/configmaps/probe-")) {
    upstreamSaw.push(req.url);
    // Synchronously, before any answer: the gateway dies holding a forwarded request.
    victim?.kill("SIGKILL");
    res.destroy();
    return;
  }
  res.writeHead(200, { "content-type": "application/json" }).end("{}");
});

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "airlock-durability-gw-"));
  upstream.listen(0, "127.0.0.1");
  await once(upstream, "listening");
  const { port } = upstream.address() as AddressInfo;
  await writeFile(
    join(dir, "upstream.kubeconfig"),
    JSON.stringify({
      apiVersion: "v1",
      kind: "Config",
      clusters: [
        {
          name: "up",
          cluster: {
            server: `https://127.0.0.1:${port}`,
            "certificate-authority-data": Buffer.from(ca.certPem).toString("base64"),
          },
        },
      ],
      users: [{ name: "gw", user: { token: "upstream-token" } }],
      contexts: [{ name: "up", context: { cluster: "up", user: "gw" } }],
      "current-context": "up",
    }),
    { mode: 0o600 },
  );
});

after(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  upstream.close();
  upstream.closeAllConnections();
  await rm(dir, { recursive: true, force: true });
});

async function serve(dataDir: string, durability: string): Promise<{ child: ChildProcess; url: string }> {
  await mkdir(dataDir, { recursive: true });
  const config = join(dir, `${durability}.yaml`);
  await writeFile(
    config,
    [
      "listen: { address: 127.0.0.1, port: 0 }",
      `dataDir: ${dataDir}`,
      `clusters: [{ name: up, kubeconfig: { path: ${join(dir, "upstream.kubeconfig")} } }]`,
      "policy: { builtin: allow-authenticated }",
      `audit: { durability: ${durability} }`,
      "log: { level: error }",
      "",
    ].join("\n"),
  );
  const { child, url } = await serveAirlock(config);
  children.push(child);
  return { child, url };
}

function call(
  url: string,
  method: string,
  token: string,
  caPem: string,
  body?: unknown,
): Promise<{ code: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method,
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        ca: caPem,
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8").on("data", (d: string) => {
          text += d;
        });
        res.on("end", () => resolve({ code: res.statusCode ?? 0, text }));
      },
    );
    req.on("error", reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

for (const durability of ["commit", "fsync"]) {
  test(`durability ${durability}: a gateway SIGKILLed as the cluster receives the request has its audit record`, async () => {
    const dataDir = join(dir, durability);
    const gw = await serve(dataDir, durability);
    const caPem = await readFile(join(dataDir, "tls", "ca.crt"), "utf8");
    const admin = (await readFile(join(dataDir, "admin.token"), "utf8")).trim();
    const created = await call(`${gw.url}/airlock/v1/identities`, "POST", admin, caPem, {
      name: "crash-agent",
      kind: "agent",
      groups: [],
    });
    assert.equal(created.code, 201, created.text);
    const token = /token: (\S+)/.exec((JSON.parse(created.text) as { kubeconfig: string }).kubeconfig)?.[1];
    assert.ok(token);

    upstreamSaw = [];
    victim = gw.child;
    const exited = once(gw.child, "exit");
    const name = `probe-${durability}`;
    await call(`${gw.url}/api/v1/namespaces/default/configmaps/${name}`, "GET", token, caPem).catch(
      () => undefined,
    );
    const [, signal] = await exited;
    assert.equal(signal, "SIGKILL");
    assert.equal(upstreamSaw.length, 1, "the request was forwarded before the kill");

    const store = await openStore({ kind: "sqlite", path: join(dataDir, "airlock.db"), readOnly: true });
    try {
      const events = (await store.audit.list({ identityName: "crash-agent" })).filter((e) => e.name === name);
      assert.equal(events.length, 1, "the write-ahead record survived the crash");
      assert.equal(events[0]?.completedAt ?? null, null, "and it was never completed");
    } finally {
      await store.close();
    }
  });
}

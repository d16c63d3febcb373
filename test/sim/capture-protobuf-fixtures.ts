// Regenerates test/sim/fixtures/protobuf-create.json: for each typed `kubectl create` command, the raw protobuf
// body kubectl POSTs (captured by a recording proxy in front of a simulator) and the JSON form of the same object
// that kubectl itself prints with `--dry-run=client -o json`, which the decoder's output must equal.
//   npx node test/sim/capture-protobuf-fixtures.ts && npx biome format --write test/sim/fixtures
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { kubectl } from "../helpers/kubectl.ts";
import { startTestSimulator } from "../helpers/sim.ts";
import { startCaptureProxy } from "./protobuf-capture.ts";

/** name → kubectl create arguments (after "create"). */
export const CREATE_COMMANDS: Record<string, string[]> = {
  configmap: ["configmap", "pc-cm", "--from-literal=a=b", "--from-literal=greeting=hello world"],
  secretGeneric: ["secret", "generic", "pc-secret", "--from-literal=password=s3cr3t", "--type=Opaque"],
  secretDocker: [
    "secret",
    "docker-registry",
    "pc-docker",
    "--docker-username=u",
    "--docker-password=p",
    "--docker-server=registry.example",
  ],
  namespace: ["namespace", "pc-ns"],
  serviceaccount: ["serviceaccount", "pc-sa"],
  deployment: ["deployment", "pc-deploy", "--image=nginx:1.27", "--replicas=2", "--port=80"],
  serviceClusterIP: ["service", "clusterip", "pc-svc", "--tcp=80:8080", "--tcp=443:https"],
  serviceNodePort: ["service", "nodeport", "pc-np", "--tcp=80:8080", "--node-port=30080"],
  serviceExternalName: ["service", "externalname", "pc-ext", "--external-name=example.com"],
  job: ["job", "pc-job", "--image=busybox", "--", "echo", "hi"],
  cronjob: ["cronjob", "pc-cron", "--image=busybox", "--schedule=*/5 * * * *", "--", "date"],
  role: ["role", "pc-role", "--verb=get,list", "--resource=pods,deployments.apps", "--resource-name=web"],
  rolebinding: [
    "rolebinding",
    "pc-rb",
    "--role=pc-role",
    "--user=alice",
    "--group=devs",
    "--serviceaccount=default:pc-sa",
  ],
  clusterrole: ["clusterrole", "pc-cr", "--verb=get", "--resource=nodes", "--non-resource-url=/healthz"],
  clusterrolebinding: ["clusterrolebinding", "pc-crb", "--clusterrole=pc-cr", "--user=bob"],
  priorityclass: ["priorityclass", "pc-high", "--value=1000", "--description=high priority"],
  quota: ["quota", "pc-quota", "--hard=pods=10,requests.cpu=2"],
  pdb: ["poddisruptionbudget", "pc-pdb", "--selector=app=web", "--min-available=50%"],
  ingress: ["ingress", "pc-ing", "--rule=foo.com/bar=pc-svc:80", "--class=nginx"],
};

async function main() {
  const sim = await startTestSimulator();
  const dir = await mkdtemp(join(tmpdir(), "airlock-protobuf-capture-"));
  const proxy = await startCaptureProxy(sim, dir);
  const fixtures: Record<string, { args: string[]; body: string; json: unknown }> = {};
  try {
    for (const [name, args] of Object.entries(CREATE_COMMANDS)) {
      // Flags go before any "--": what follows it is the container command.
      const dry = await kubectl(sim.kubeconfigPath, ["create", "--dry-run=client", "-o", "json", ...args]);
      if (dry.code !== 0) throw new Error(`${name}: dry run failed: ${dry.stderr}`);
      const before = proxy.captured.length;
      await kubectl(proxy.kubeconfigPath, ["create", ...args]);
      const body = proxy.captured[before];
      if (!body) throw new Error(`${name}: kubectl sent no protobuf body`);
      fixtures[name] = { args, body: body.body.toString("hex"), json: JSON.parse(dry.stdout) };
    }
  } finally {
    await proxy.close();
    await sim.close();
    await rm(dir, { recursive: true, force: true });
  }
  const out = join(import.meta.dirname, "fixtures", "protobuf-create.json");
  await writeFile(out, `${JSON.stringify(fixtures, null, 1)}\n`);
  console.log(`wrote ${Object.keys(fixtures).length} fixtures to ${out}`);
}

if (import.meta.main) await main();

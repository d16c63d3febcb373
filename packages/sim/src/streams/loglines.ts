// What a simulated container "prints": a few realistic start-up lines (nginx's entrypoint for nginx images, a
// generic service otherwise), then one line per tick while someone is watching. Pure and deterministic from the pod
// and container names, so tests can predict the text.

export interface LogLine {
  time: Date;
  text: string;
}

export interface LogSubject {
  namespace: string;
  pod: string;
  container: string;
  image: string;
  podIP: string;
  port: number | undefined;
}

/** FNV-1a: a stable small hash to seed the per-container variation. */
export function seedOf(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** The n-th value of a tiny deterministic sequence (mulberry32 on seed+n). */
function pick(seed: number, n: number, modulo: number): number {
  let t = (seed + Math.imul(n + 1, 0x6d2b79f5)) >>> 0;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) % modulo;
}

export function isNginx(image: string): boolean {
  return /(^|\/)nginx([:@]|$)|nginx-unprivileged/.test(image);
}

function nginxTime(t: Date): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${t.getUTCFullYear()}/${p(t.getUTCMonth() + 1)}/${p(t.getUTCDate())} ${p(t.getUTCHours())}:${p(t.getUTCMinutes())}:${p(t.getUTCSeconds())}`;
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

function clfTime(t: Date): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${p(t.getUTCDate())}/${MONTHS[t.getUTCMonth()]}/${t.getUTCFullYear()}:${p(t.getUTCHours())}:${p(t.getUTCMinutes())}:${p(t.getUTCSeconds())} +0000`;
}

function imageVersion(image: string, fallback: string): string {
  const tag = /:([^/@]+)$/.exec(image)?.[1];
  return tag && /^\d/.test(tag) ? tag.replace(/-.*/, "") : fallback;
}

export function startupLines(s: LogSubject, start: Date): LogLine[] {
  const at = (ms: number) => new Date(start.getTime() + ms);
  if (isNginx(s.image)) {
    const ts = nginxTime(at(40));
    const worker = 20 + pick(seedOf(`${s.namespace}/${s.pod}`), 0, 20);
    const texts = [
      "/docker-entrypoint.sh: /docker-entrypoint.d/ is not empty, will attempt to perform configuration",
      "/docker-entrypoint.sh: Looking for shell scripts in /docker-entrypoint.d/",
      "/docker-entrypoint.sh: Launching /docker-entrypoint.d/10-listen-on-ipv6-by-default.sh",
      "10-listen-on-ipv6-by-default.sh: info: Getting the checksum of /etc/nginx/conf.d/default.conf",
      "10-listen-on-ipv6-by-default.sh: info: Enabled listen on IPv6 in /etc/nginx/conf.d/default.conf",
      "/docker-entrypoint.sh: Launching /docker-entrypoint.d/20-envsubst-on-templates.sh",
      "/docker-entrypoint.sh: Launching /docker-entrypoint.d/30-tune-worker-processes.sh",
      "/docker-entrypoint.sh: Configuration complete; ready for start up",
      `${ts} [notice] 1#1: using the "epoll" event method`,
      `${ts} [notice] 1#1: nginx/${imageVersion(s.image, "1.27.3")}`,
      `${ts} [notice] 1#1: OS: Linux 6.1.0-sim`,
      `${ts} [notice] 1#1: start worker processes`,
      `${ts} [notice] 1#1: start worker process ${worker}`,
    ];
    return texts.map((text, i) => ({ time: at(i < 8 ? i * 5 : 40), text }));
  }
  const iso = (ms: number) => at(ms).toISOString();
  const texts = [
    `${iso(0)} INFO  starting ${s.container} (image ${s.image || "unknown"})`,
    `${iso(3)} INFO  pod ${s.namespace}/${s.pod}, address ${s.podIP || "unknown"}`,
    `${iso(7)} INFO  loaded configuration from /etc/${s.container}/config.yaml`,
    `${iso(12)} INFO  listening on :${s.port ?? 8080}`,
    `${iso(15)} INFO  ready`,
  ];
  return texts.map((text, i) => ({ time: at([0, 3, 7, 12, 15][i] as number), text }));
}

const PATHS = [
  "/",
  "/index.html",
  "/healthz",
  "/api/items",
  "/api/items/42",
  "/static/app.js",
  "/favicon.ico",
];
const AGENTS = ["kube-probe/1.32", "curl/8.5.0", "Mozilla/5.0 (X11; Linux x86_64)", "Go-http-client/1.1"];

/** The n-th line the container prints after start-up. */
export function liveLine(s: LogSubject, n: number, time: Date): string {
  const seed = seedOf(`${s.namespace}/${s.pod}/${s.container}`);
  const path = PATHS[pick(seed, n * 3, PATHS.length)] as string;
  const client = `10.244.0.${2 + pick(seed, n * 3 + 1, 250)}`;
  const status = path === "/favicon.ico" ? 404 : 200;
  if (isNginx(s.image)) {
    const agent = AGENTS[pick(seed, n * 3 + 2, AGENTS.length)] as string;
    const bytes = status === 404 ? 153 : 615;
    return `${client} - - [${clfTime(time)}] "GET ${path} HTTP/1.1" ${status} ${bytes} "-" "${agent}" "-"`;
  }
  const ms = 1 + pick(seed, n * 3 + 2, 40);
  return `${time.toISOString()} INFO  request method=GET path=${path} status=${status} duration_ms=${ms} client=${client}`;
}

/** RFC 3339 with nanoseconds, as the kubelet prefixes lines when `timestamps=true`. */
export function kubeletTimestamp(t: Date): string {
  return t.toISOString().replace(/\.(\d{3})Z$/, ".$1000000Z");
}

// The console's only way to the server: the admin API (/airlock/v1/) and sign-in (/ui/api/), same origin, with the
// session cookie the browser holds (HttpOnly: this code never sees it) and the CSRF token the session hands out.
export interface SessionInfo {
  name: string;
  kind: string;
  groups: string[];
  csrfToken: string;
}

/** A failed call: the Kubernetes Status the server answered, or a network failure. */
export class ApiError extends Error {
  readonly code: number;
  readonly reason: string;
  constructor(code: number, reason: string, message: string) {
    super(message);
    this.code = code;
    this.reason = reason;
  }
}

let csrfToken = "";
let onSignedOut: () => void = () => {};

export function setSession(session: SessionInfo | undefined): void {
  csrfToken = session?.csrfToken ?? "";
}

export function whenSignedOut(callback: () => void): void {
  onSignedOut = callback;
}

async function call(path: string, init: RequestInit = {}): Promise<Response> {
  const method = init.method ?? "GET";
  const headers = new Headers(init.headers);
  if (method !== "GET" && method !== "HEAD") headers.set("x-airlock-csrf", csrfToken);
  if (init.body !== undefined) headers.set("content-type", "application/json");
  let res: Response;
  try {
    res = await fetch(path, { ...init, method, headers, credentials: "same-origin", cache: "no-store" });
  } catch (err) {
    throw new ApiError(0, "NetworkError", `the gateway cannot be reached (${(err as Error).message})`);
  }
  if (res.ok) return res;
  let reason = res.statusText;
  let message = `${res.status} ${res.statusText}`;
  try {
    const status = (await res.json()) as { reason?: string; message?: string };
    reason = status.reason ?? reason;
    message = status.message ?? message;
  } catch {
    // not a Status body; keep the HTTP status line
  }
  if (res.status === 401 && !path.startsWith("/ui/api/login")) onSignedOut();
  throw new ApiError(res.status, reason, message);
}

export async function getJson<T>(path: string): Promise<T> {
  return (await (await call(path)).json()) as T;
}

export async function getText(path: string): Promise<string> {
  return (await call(path)).text();
}

export async function postJson<T>(path: string, body: unknown = {}): Promise<T> {
  return (await (await call(path, { method: "POST", body: JSON.stringify(body) })).json()) as T;
}

export async function signIn(token: string): Promise<SessionInfo> {
  const session = await postJson<SessionInfo>("/ui/api/login", { token });
  setSession(session);
  return session;
}

export async function currentSession(): Promise<SessionInfo | undefined> {
  try {
    const session = await getJson<SessionInfo>("/ui/api/session");
    setSession(session);
    return session;
  } catch (err) {
    if (err instanceof ApiError && err.code === 401) return undefined;
    throw err;
  }
}

export async function signOut(): Promise<void> {
  await postJson("/ui/api/logout");
  setSession(undefined);
}

/** Query string from the non-empty values. */
export function query(params: Record<string, string | number | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== "") q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : "";
}

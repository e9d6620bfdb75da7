// Every call to the semcat API goes through here, so the caller's key or token is sent the same
// way everywhere (YASGUI included) and RFC 9457 problems become one error type the pages can show.

const KEY = "semcat.apiKey";

export function apiKey(): string | null {
  return sessionStorage.getItem(KEY);
}

export function setApiKey(key: string | null): void {
  if (key) sessionStorage.setItem(KEY, key);
  else sessionStorage.removeItem(KEY);
}

// The access token of a single sign-on (./oidc.ts keeps it in session storage and sets it here).
let bearer: string | null = null;

export function setBearer(token: string | null): void {
  bearer = token;
}

export function signedIn(): "key" | "sso" | null {
  return apiKey() ? "key" : bearer ? "sso" : null;
}

export function authHeaders(): Record<string, string> {
  const key = apiKey();
  if (key) return { "X-API-Key": key };
  return bearer ? { Authorization: `Bearer ${bearer}` } : {};
}

/** What /ui/config.json says before anyone signs in. */
export interface UiConfig {
  open: boolean;
  oidc: { issuer: string; clientId: string; scope: string } | null;
}

export interface Problem {
  status: number;
  title?: string;
  detail?: string;
  errors?: { field?: string; path?: string; message?: string; detail?: string }[];
  [k: string]: unknown;
}

export class ApiError extends Error {
  constructor(public status: number, public problem: Problem, public etag?: string) {
    super(problem.detail || problem.title || `HTTP ${status}`);
  }
}

export interface Reply<T> {
  body: T;
  etag: string | null;
  status: number;
}

export async function request<T = any>(
  method: string, path: string, body?: unknown, headers: Record<string, string> = {},
): Promise<Reply<T>> {
  const h: Record<string, string> = { Accept: "application/json", ...authHeaders(), ...headers };
  let payload: BodyInit | undefined;
  if (body !== undefined) {
    payload = JSON.stringify(body);
    h["Content-Type"] = h["Content-Type"] ?? "application/json";
  }
  const r = await fetch(path, { method, headers: h, body: payload });
  const text = await r.text();
  let parsed: any = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = { detail: text };
  }
  if (!r.ok) throw new ApiError(r.status, parsed ?? { status: r.status }, r.headers.get("ETag") ?? undefined);
  return { body: parsed as T, etag: r.headers.get("ETag"), status: r.status };
}

export async function get<T = any>(path: string, params?: Record<string, unknown>): Promise<T> {
  return (await request<T>("GET", path + query(params))).body;
}

export function query(params?: Record<string, unknown>): string {
  if (!params) return "";
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === "") continue;
    for (const one of Array.isArray(v) ? v : [v]) q.append(k, String(one));
  }
  const s = q.toString();
  return s ? "?" + s : "";
}

export function enc(key: string): string {
  // asset keys contain slashes that the API routes take as a path
  return key.split("/").map(encodeURIComponent).join("/");
}

export interface Me {
  subject: string;
  via: string;
  groups: string[];
  grants: { workspace: string; role: string }[];
  admin: boolean;
  keyId: string | null;
}

export function mayWrite(me: Me | null): boolean {
  if (!me) return false;
  return me.admin || me.grants.some((g) => g.role !== "viewer" && g.role !== "reader");
}

/**
 * The page's calls to the daemon: by route id from the shared routes table (the same
 * paths and methods the server dispatches by), with the session cookie the browser sends
 * by itself, and for changes the JSON body and CSRF header the server requires.
 */
import { CSRF_HEADER, CSRF_VALUE } from '../http/dashboard.js';
import { buildPath, routeById } from '../http/routes.js';

/** A refusal or failure from the API, with the message berth gives a person. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Options of one call. */
export interface CallOptions {
  readonly query?: Readonly<Record<string, string | number | boolean | undefined>>;
  readonly body?: unknown;
}

/** The address of route `id` with its path parameters and query. */
export function routeUrl(id: string, params: Readonly<Record<string, string | number>> = {}, query: CallOptions['query'] = {}): string {
  const route = routeById(id);
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) q.set(k, String(v));
  return buildPath(route.path, params) + (q.size > 0 ? `?${q}` : '');
}

/** Calls route `id` with its path parameters; resolves with the parsed answer. */
export async function call<T>(id: string, params: Readonly<Record<string, string | number>> = {}, opts: CallOptions = {}): Promise<T> {
  const route = routeById(id);
  const path = routeUrl(id, params, opts.query);
  const headers: Record<string, string> = { Accept: 'application/json' };
  let body: string | undefined;
  if (route.mutates) {
    headers['Content-Type'] = 'application/json';
    headers[CSRF_HEADER] = CSRF_VALUE;
    body = JSON.stringify(opts.body ?? {});
  }
  let res: Response;
  try {
    res = await fetch(path, { method: route.method, headers, body, credentials: 'same-origin', cache: 'no-store' });
  } catch {
    throw new ApiError(0, 'unreachable', 'the berth daemon does not answer: is it still running? (`berth daemon status`)');
  }
  const text = await res.text();
  let value: unknown = text;
  try {
    value = JSON.parse(text);
  } catch {
    // Not JSON (plain text routes): the text is the answer.
  }
  if (!res.ok) {
    const problem = (typeof value === 'object' && value !== null ? value : {}) as { code?: string; message?: string; detail?: string };
    throw new ApiError(res.status, problem.code ?? 'error', problem.message ?? problem.detail ?? `HTTP ${res.status}`);
  }
  return value as T;
}

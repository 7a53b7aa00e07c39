/**
 * Finding the route of a request: method and path against the route table, with the
 * path's parameters decoded.
 */
import { ROUTES, pathParams, type Route } from './routes.js';

interface Compiled {
  readonly route: Route;
  readonly pattern: RegExp;
  readonly names: readonly string[];
}

const COMPILED: readonly Compiled[] = ROUTES.map((route) => ({
  route,
  // A parameter is one path segment: anything but `/` (a scope's `/` arrives as %2F). It may
  // be empty: an empty scope or name reaches the engine, which refuses it as bad input.
  pattern: new RegExp(`^${route.path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\\\{\w+\\\}|\{\w+\}/g, '([^/]*)')}$`),
  names: pathParams(route.path),
}));

/** What a request path matched. */
export type Match =
  | { readonly kind: 'route'; readonly route: Route; readonly params: Readonly<Record<string, string>> }
  | { readonly kind: 'method-not-allowed'; readonly allowed: readonly string[] }
  | { readonly kind: 'not-found' }
  | { readonly kind: 'bad-encoding' };

/** Matches `method` and `pathname` (not decoded) against the routes. Literal routes win over parameters. */
export function matchRoute(method: string, pathname: string): Match {
  const allowed: string[] = [];
  let found: { route: Route; values: string[]; names: readonly string[] } | null = null;
  for (const c of COMPILED) {
    const m = c.pattern.exec(pathname);
    if (!m) continue;
    if (c.route.method !== method) {
      allowed.push(c.route.method);
      continue;
    }
    const literal = c.names.length === 0;
    if (found === null || (literal && found.names.length > 0)) found = { route: c.route, values: m.slice(1), names: c.names };
  }
  if (found === null) return allowed.length > 0 ? { kind: 'method-not-allowed', allowed: [...new Set(allowed)] } : { kind: 'not-found' };
  const params: Record<string, string> = {};
  try {
    found.names.forEach((name, i) => (params[name] = decodeURIComponent(found!.values[i]!)));
  } catch {
    return { kind: 'bad-encoding' };
  }
  return { kind: 'route', route: found.route, params };
}

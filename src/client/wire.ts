/**
 * Engine calls as requests, built from the route table (src/http/routes.ts): the route's
 * path with its parameters, the caller's scope context as `dir`/`config`/`as`, the route's
 * own query parameters written by their declared type, and a JSON body for mutations.
 *
 * Values keep their meaning on the wire: a number is sent as digits, but a value of the
 * wrong type (a port given as text, say) is sent so that the daemon refuses it as bad
 * input, as the engine would, never quietly converted.
 */
import type { ScopeContext } from '../engine/index.js';
import { buildPath, CONTEXT_QUERY, FROM_CONTEXT, routeById, type ParamType, type Route } from '../http/routes.js';
import type { Transport } from './transport.js';

/** Where a call's scope travels: the route's `{scope}`, its `scope` query or body field, or `as` (the context). */
export type ScopePlace = 'path' | 'query' | 'body' | 'context';

/** What one engine call sends besides its scope context. */
export interface CallSpec {
  /** Path parameters other than `{scope}`, as text. */
  readonly params?: Readonly<Record<string, string>>;
  /** The route's own query parameters (undefined ones are left out). */
  readonly query?: Readonly<Record<string, unknown>>;
  /** The JSON body of a mutation (undefined fields are left out). */
  readonly body?: Readonly<Record<string, unknown>>;
  /** Where the context's scope goes (default: `as`). */
  readonly scope?: ScopePlace;
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** An integer parameter: digits for a number; anything else as JSON, which the daemon refuses as it refuses non-numbers. */
export function integerText(value: unknown): string {
  return typeof value === 'number' ? String(value) : (JSON.stringify(value) ?? String(value));
}

/** A port range as the wire writes it, `A-B`; anything but {start, end} numbers as JSON, which the daemon refuses. */
export function rangeText(value: unknown): string {
  if (isObject(value) && typeof value.start === 'number' && typeof value.end === 'number') return `${value.start}-${value.end}`;
  return JSON.stringify(value) ?? String(value);
}

/** One allocation request with its range written as `A-B`; other values are the daemon's to refuse. */
export function requestOnWire(value: unknown): unknown {
  return isObject(value) && value.range !== undefined ? { ...value, range: rangeText(value.range) } : value;
}

/** A query value as text by its declared type; null leaves it out (false for a flag). */
function queryText(type: ParamType, value: unknown): string | null {
  if (type === 'integer') return integerText(value);
  if (type === 'boolean') return value ? 'true' : null;
  return typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
}

/**
 * A scope as a path segment: the scope itself when it can be one, else `-` with the scope
 * in `as` (an empty scope, or one that is no valid name, which the daemon then refuses).
 */
function pathScope(scope: unknown): string {
  return typeof scope === 'string' && /^[A-Za-z0-9]/.test(scope) ? scope : FROM_CONTEXT;
}

/** Sends engine calls as requests over one transport. */
export class Wire {
  /** `cwd`: the directory sent for contexts that name none, as LocalEngine's own working directory. */
  constructor(
    private readonly transport: Transport,
    private readonly cwd: string | undefined,
  ) {}

  /** Calls route `id` for `ctx`; resolves with the answer's data. */
  call<T>(id: string, ctx: ScopeContext, spec: CallSpec = {}): Promise<T> {
    const route = routeById(id);
    const context: ScopeContext = typeof ctx === 'object' && ctx !== null ? ctx : {};
    const params: Record<string, string> = { ...spec.params };
    const query: Record<string, unknown> = { ...spec.query, dir: context.dir ?? this.cwd, config: context.config, base: context.base, scopeDir: context.scopeDir };
    const body: Record<string, unknown> | undefined = route.mutates ? { ...spec.body } : undefined;
    const place = spec.scope ?? 'context';
    let placed: unknown = FROM_CONTEXT;
    if (place === 'path') placed = params.scope = pathScope(context.scope);
    if (place === 'query') placed = query.scope = context.scope;
    if (place === 'body' && body !== undefined) placed = body.scope = context.scope === undefined ? FROM_CONTEXT : context.scope;
    // Where the route's own place says "the context's" (`-`), the scope itself travels as `as`.
    if (placed === FROM_CONTEXT) query.as = context.scope;
    const path = `${buildPath(route.path, params)}${queryString(route, query)}`;
    return this.transport.send({ method: route.method, path, body, actor: context.actor }) as Promise<T>;
  }
}

/** `?a=1&b=2` of the defined values, each written by the route's declared type. */
function queryString(route: Route, values: Readonly<Record<string, unknown>>): string {
  const types: Readonly<Record<string, ParamType>> = { ...route.query, ...CONTEXT_QUERY };
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(values)) {
    if (value === undefined) continue;
    const type = types[name];
    // A programming error in this client, not the caller's: the route table says what a route takes.
    if (type === undefined) throw new Error(`route ${route.id} takes no query parameter ${name}`);
    const text = queryText(type, value);
    if (text !== null) search.append(name, text);
  }
  const text = search.toString();
  return text === '' ? '' : `?${text}`;
}

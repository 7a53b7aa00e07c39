/**
 * The daemon's HTTP API as data: every route once, with its method, path, parameters and
 * body. The server dispatches by it, the remote client and the dashboard build requests
 * from it, and the OpenAPI document is generated from it, so they cannot drift apart.
 *
 * Body fields and query parameters are named as the CLI's flags (`port`, `prefer`,
 * `range: "A-B"`, `category`, `strategy`, `protocol`, `purpose`). Every route but
 * `/v1/health` needs a token; routes with `mutates` need a write token, JSON bodies and a
 * same-origin (or no) Origin.
 */

/** HTTP methods the API uses. */
export type Method = 'GET' | 'PUT' | 'POST' | 'DELETE';

/** A query parameter's type: values arrive as text and are converted before the engine sees them. */
export type ParamType = 'string' | 'integer' | 'boolean';

/** A JSON Schema fragment (OpenAPI 3.1 uses JSON Schema 2020-12). */
export type JsonSchema = Readonly<Record<string, unknown>>;

/** One route. */
export interface Route {
  /** Stable operation id, e.g. `leases.allocate`: the server's handler and the client's call name. */
  readonly id: string;
  readonly method: Method;
  /** Path template; `{scope}` and the like are URL-encoded path segments (a scope may contain `/`). */
  readonly path: string;
  readonly summary: string;
  /** Query parameters beyond the scope context (`dir`, `config`), which every route takes. */
  readonly query?: Readonly<Record<string, ParamType>>;
  /** The JSON body of a mutation. */
  readonly body?: JsonSchema;
  /** What a success returns: JSON (the schema), plain text, or a server-sent event stream. */
  readonly response: JsonSchema | 'text' | 'event-stream';
  /** Changes state: needs a write token, `application/json`, and no foreign Origin. */
  readonly mutates: boolean;
  /** Answers without a token: the health check, and the dashboard login (its secret is the proof). */
  readonly public?: boolean;
}

/**
 * Query parameters every route takes: the caller's scope context. `dir` and `config` say
 * where berth.yaml is looked for; `as` is the scope the caller acts as (its `--scope`),
 * for routes that carry no scope of their own (machine-wide calls still refuse an empty
 * or invalid one). `-` as a path's `{scope}` (a body's `scope`, or an omitted `scope` query)
 * stands for that context: `as` when given, else the scope derived from dir/config.
 */
export const CONTEXT_QUERY: Readonly<Record<string, ParamType>> = { dir: 'string', config: 'string', as: 'string', base: 'integer', scopeDir: 'string' };

/** A path's `{scope}` or `{pool}` that stands for the context's: the caller's scope, or berth.yaml's only pool. */
export const FROM_CONTEXT = '-';

const ref = (name: string): JsonSchema => ({ $ref: `#/components/schemas/${name}` });
const list = (item: JsonSchema): JsonSchema => ({ type: 'array', items: item });
const obj = (properties: Record<string, JsonSchema>, required: string[] = []): JsonSchema => ({ type: 'object', properties, required, additionalProperties: false });
const str: JsonSchema = { type: 'string' };
const int: JsonSchema = { type: 'integer' };
const bool: JsonSchema = { type: 'boolean' };
const port: JsonSchema = { type: 'integer', minimum: 1, maximum: 65535 };
const anyObject: JsonSchema = { type: 'object' };
/**
 * The id of an environment the caller's berth left in the daemon's state directory (0600),
 * which services start from; never the variables themselves, which no route takes.
 */
const callerEnv: JsonSchema = { type: 'string', pattern: '^[0-9a-f]{32}$', description: 'the id of an environment berth left in the state directory' };

/** What allocate accepts for one lease, beyond its name: the CLI's flags. */
const requestFields: Record<string, JsonSchema> = {
  port,
  prefer: port,
  range: { type: 'string', pattern: '^\\d+-\\d+$', description: 'A-B, inclusive' },
  category: str,
  strategy: { enum: ['fixed', 'preferred', 'sequential', 'range', 'hash'] },
  protocol: { enum: ['tcp', 'udp'] },
  purpose: str,
};
const ownerFields: Record<string, JsonSchema> = { ephemeral: bool, pid: int, force: bool };

/** Every route of the API, in documentation order. */
export const ROUTES: readonly Route[] = [
  { id: 'health', method: 'GET', path: '/v1/health', summary: 'Liveness: the daemon answers (no token needed)', response: anyObject, mutates: false, public: true },
  { id: 'openapi', method: 'GET', path: '/v1/openapi.json', summary: 'This API as an OpenAPI 3.1 document', response: anyObject, mutates: false },
  { id: 'info', method: 'GET', path: '/v1/info', summary: "The daemon's store and machine", response: anyObject, mutates: false },
  { id: 'project', method: 'GET', path: '/v1/project', summary: 'What a scope context resolves to: scope, project directory, berth.yaml', query: { scope: 'string' }, response: anyObject, mutates: false },

  { id: 'leases.list', method: 'GET', path: '/v1/leases', summary: "This machine's leases, every scope unless filtered", query: { scope: 'string', pool: 'string', allMachines: 'boolean' }, response: list(ref('Lease')), mutates: false },
  { id: 'leases.get', method: 'GET', path: '/v1/leases/{scope}/{name}', summary: "A scope's lease", response: ref('Lease'), mutates: false },
  { id: 'leases.put', method: 'PUT', path: '/v1/leases/{scope}/{name}', summary: 'Get or allocate one lease', body: obj({ ...requestFields, ...ownerFields }), response: ref('Lease'), mutates: true },
  {
    id: 'leases.allocate',
    method: 'POST',
    path: '/v1/leases/{scope}/allocate',
    summary: "Get or allocate several leases, all or none (none named: every service of the context's berth.yaml)",
    body: obj({ requests: list(obj({ name: str, ...requestFields }, ['name'])), ...ownerFields }),
    response: list(ref('Lease')),
    mutates: true,
  },
  { id: 'leases.delete', method: 'DELETE', path: '/v1/leases/{scope}/{name}', summary: 'Release one lease (a pool role releases its whole slot)', response: list(ref('Lease')), mutates: true },
  { id: 'leases.release', method: 'POST', path: '/v1/leases/{scope}/release', summary: 'Release the named leases, or with no body the whole scope', body: obj({ names: list(str) }), response: list(ref('Lease')), mutates: true },
  { id: 'leases.reassign', method: 'POST', path: '/v1/leases/{scope}/{name}/reassign', summary: 'Move a lease to a free port (next: true instead of port: the next free port of its category)', body: obj({ port, next: bool, force: bool, dryRun: bool }), response: ref('Lease'), mutates: true },
  { id: 'leases.kill', method: 'POST', path: '/v1/leases/{scope}/{name}/kill', summary: "Kill what listens on a lease's port", body: obj({ signal: str, graceMs: int, force: bool, stopContainer: bool }), response: anyObject, mutates: true },
  { id: 'leases.handOver', method: 'POST', path: '/v1/leases/{scope}/hand-over', summary: 'Hand ephemeral leases to another pid', body: obj({ names: list(str), from: { ...int, description: 'the pid that owns them now' }, to: { ...int, description: 'the pid to own them' } }, ['names', 'from', 'to']), response: list(ref('Lease')), mutates: true },
  { id: 'leases.releaseOwned', method: 'POST', path: '/v1/leases/{scope}/release-owned', summary: 'Release ephemeral leases one of these pids owns', body: obj({ names: list(str), pids: list(int) }, ['names', 'pids']), response: list(ref('Lease')), mutates: true },

  { id: 'pools.status', method: 'GET', path: '/v1/pools', summary: 'Every pool with its slots used and free', response: list(anyObject), mutates: false },
  { id: 'pools.definition', method: 'GET', path: '/v1/pools/{pool}', summary: "A pool's definition", response: anyObject, mutates: false },
  { id: 'pools.urls', method: 'GET', path: '/v1/pools/{pool}/urls', summary: "Every URL a pool's templates give, in slot order", response: list(anyObject), mutates: false },
  { id: 'pools.reserve', method: 'POST', path: '/v1/pools/{pool}/reserve', summary: 'Reserve one whole slot for a scope ("-": the context\'s)', body: obj({ scope: str, ephemeral: bool, pid: int }, ['scope']), response: list(ref('Lease')), mutates: true },

  { id: 'registry.export', method: 'GET', path: '/v1/export', summary: "A snapshot of this machine's leases (one scope's with scope=)", query: { scope: 'string' }, response: anyObject, mutates: false },
  { id: 'registry.import', method: 'POST', path: '/v1/import', summary: 'Import a snapshot, all or none', body: obj({ snapshot: anyObject, replace: bool, source: { type: 'string', description: 'what the snapshot came from (a file name), for messages' } }, ['snapshot']), response: anyObject, mutates: true },
  { id: 'registry.gc', method: 'POST', path: '/v1/gc', summary: 'Release dead ephemeral leases and scopes whose directory is gone', body: obj({ dryRun: bool }), response: anyObject, mutates: true },
  { id: 'registry.reset', method: 'POST', path: '/v1/reset', summary: "Forget every lease of this machine (needs {\"yes\": true})", body: obj({ yes: bool }, ['yes']), response: anyObject, mutates: true },
  { id: 'registry.history', method: 'GET', path: '/v1/history', summary: 'Changes, newest first', query: { name: 'string', port: 'integer', scope: 'string', since: 'string', limit: 'integer' }, response: list(ref('Event')), mutates: false },

  { id: 'reality.ports', method: 'GET', path: '/v1/ports', summary: 'Every listener, with its holder, container and lease', query: { protocol: 'string' }, response: list(anyObject), mutates: false },
  { id: 'reality.who', method: 'GET', path: '/v1/ports/{port}', summary: 'Who holds a port', query: { protocol: 'string' }, response: anyObject, mutates: false },
  { id: 'reality.kill', method: 'POST', path: '/v1/ports/{port}/kill', summary: 'Kill what listens on a port (all holders or none), then confirm it is free', body: obj({ signal: str, graceMs: int, force: bool, protocol: { enum: ['tcp', 'udp'] }, stopContainer: bool }), response: anyObject, mutates: true },
  { id: 'reality.check', method: 'GET', path: '/v1/conflicts', summary: 'Conflicts between registry, berth.yaml and the OS', query: { scope: 'string', all: 'boolean' }, response: list(anyObject), mutates: false },
  { id: 'reality.status', method: 'GET', path: '/v1/status', summary: "A scope's leases with their live state (names=a,b: only those)", query: { scope: 'string', all: 'boolean', names: 'string' }, response: list(anyObject), mutates: false },
  { id: 'reality.free', method: 'GET', path: '/v1/free', summary: 'The first free ports (takes no lease)', query: { from: 'integer', count: 'integer', range: 'string', protocol: 'string' }, response: anyObject, mutates: false },

  {
    id: 'wiring.env',
    method: 'GET',
    path: '/v1/env',
    summary: "A scope's variables: format=json (default) the object `berth env --json` prints, vars each variable with the lease it came from, dotenv or shell text",
    query: { scope: 'string', format: 'string', urls: 'boolean', host: 'string', prefix: 'string' },
    response: { oneOf: [{ type: 'object', additionalProperties: str }, list(anyObject)] },
    mutates: false,
  },
  { id: 'wiring.urls', method: 'GET', path: '/v1/urls', summary: "A scope's service and pool URLs", query: { scope: 'string', host: 'string' }, response: list(anyObject), mutates: false },

  {
    id: 'events.stream',
    method: 'GET',
    path: '/v1/events',
    summary: "Server-sent events: a snapshot, then every change; Last-Event-ID resumes. reality=true: also a `ports` event (every listener, as GET /v1/ports) at the start and whenever the machine's listeners change",
    query: { reality: 'boolean' },
    response: 'event-stream',
    mutates: false,
  },
  { id: 'events.after', method: 'GET', path: '/v1/events/after/{id}', summary: 'Events after an id, oldest first', query: { limit: 'integer' }, response: list(ref('Event')), mutates: false },
  { id: 'events.last', method: 'GET', path: '/v1/events/last', summary: 'The highest event id so far', response: obj({ id: int }), mutates: false },

  // The dashboard's logins (server/sessions.ts): a token holder asks for a one-time link, the page trades it for a session cookie.
  { id: 'session.link', method: 'POST', path: '/v1/session/links', summary: 'A one-time dashboard login link (with a token, not a session; readOnly: a read-only login)', body: obj({ readOnly: bool }), response: obj({ url: str, access: str, expiresInMs: int }), mutates: true },
  { id: 'session.login', method: 'POST', path: '/v1/session', summary: "Trade a login link's secret for a dashboard session cookie (HttpOnly, SameSite=Strict)", body: obj({ secret: str }, ['secret']), response: obj({ access: str }), mutates: true, public: true },
  // Public so a read-only login can end itself too; it ends only the session its own cookie names.
  { id: 'session.logout', method: 'DELETE', path: '/v1/session', summary: "End this dashboard session: the daemon forgets it (other tabs with its cookie are refused) and the cookie is cleared", response: obj({ ended: bool }), mutates: true, public: true },
  { id: 'session.get', method: 'GET', path: '/v1/session', summary: "What this request's credentials may do: access write or read, via token or session", response: obj({ access: str, via: str }), mutates: false },
  { id: 'services.list', method: 'GET', path: '/v1/services', summary: "The services of the daemon's stacks with their states (one scope's with scope=)", query: { scope: 'string' }, response: list(anyObject), mutates: false },
  { id: 'services.start', method: 'POST', path: '/v1/services/{scope}/{name}/start', summary: 'Start one service of a running stack (berth.yaml defines what)', body: obj({}), response: list(anyObject), mutates: true },
  { id: 'services.stop', method: 'POST', path: '/v1/services/{scope}/{name}/stop', summary: 'Stop one service (and what depends on it), its tree gone and its port free', body: obj({}), response: list(anyObject), mutates: true },
  { id: 'services.restart', method: 'POST', path: '/v1/services/{scope}/{name}/restart', summary: 'Stop, then start one service', body: obj({}), response: list(anyObject), mutates: true },
  { id: 'services.logs', method: 'GET', path: '/v1/services/{scope}/{name}/logs', summary: "A service's last lines (name '-': every service of the stack). follow=true: text/event-stream instead, a `log` event {name, stream, text, time} per line, the tail/since lines first, then each new line until the stack is removed or the client leaves", query: { tail: 'integer', since: 'string', follow: 'boolean' }, response: list(anyObject), mutates: false },
  { id: 'stacks.list', method: 'GET', path: '/v1/stacks', summary: 'Every stack this state directory has run, with its berth.yaml and whether it runs (up starts a down one again)', response: list(anyObject), mutates: false },
  {
    id: 'stacks.up',
    method: 'POST',
    path: '/v1/stacks/{scope}/up',
    summary: "Start the context's berth.yaml stack in dependency order; answers once every service is up or one failed",
    body: obj({ services: list(str), noDeps: bool, killStrangers: bool, timeoutMs: int, callerEnv: callerEnv }),
    response: anyObject,
    mutates: true,
  },
  {
    id: 'stacks.attach',
    method: 'POST',
    path: '/v1/stacks/{scope}/attach',
    summary:
      'Start the stack as stacks.up does, attached to this connection (a foreground berth up): a text/event-stream of `started` {scope, services}, `log` {name, stream, text, time}, `service` (state changes), `settled` (as stacks.up answers) and, once the stack is stopped whole (stacks.down from anyone), `end` {stopped, problems}. When the client leaves first, the daemon stops the stack',
    body: obj({ services: list(str), noDeps: bool, killStrangers: bool, timeoutMs: int, callerEnv: callerEnv }),
    response: 'event-stream',
    mutates: true,
  },
  { id: 'stacks.down', method: 'POST', path: '/v1/stacks/{scope}/down', summary: 'Stop a stack in reverse dependency order: every process gone, every port free. services: only those and what depends on them; the rest runs on', body: obj({ services: list(str) }), response: anyObject, mutates: true },

  { id: 'metrics', method: 'GET', path: '/metrics', summary: 'Prometheus metrics: leases, pool slots, listeners, conflicts', response: 'text', mutates: false },

  // The uDOS port manager's routes, for its users' scripts (scope from ?scope=, else the daemon's project).
  { id: 'udos.status', method: 'GET', path: '/api/ports/status', summary: 'uDOS: every service with status, conflicts, start and stop order', query: { scope: 'string' }, response: anyObject, mutates: false },
  { id: 'udos.services', method: 'GET', path: '/api/ports/services', summary: 'uDOS: every service', query: { scope: 'string' }, response: anyObject, mutates: false },
  { id: 'udos.service', method: 'GET', path: '/api/ports/services/{name}', summary: 'uDOS: one service', query: { scope: 'string' }, response: anyObject, mutates: false },
  { id: 'udos.conflicts', method: 'GET', path: '/api/ports/conflicts', summary: 'uDOS: conflicts', query: { scope: 'string' }, response: anyObject, mutates: false },
  { id: 'udos.killService', method: 'POST', path: '/api/ports/services/{name}/kill', summary: "uDOS: kill what listens on a service's port", query: { scope: 'string' }, body: obj({}), response: anyObject, mutates: true },
  { id: 'udos.killPort', method: 'POST', path: '/api/ports/ports/{port}/kill', summary: 'uDOS: kill what listens on a port', body: obj({}), response: anyObject, mutates: true },
  { id: 'udos.report', method: 'GET', path: '/api/ports/report', summary: 'uDOS: a text report', query: { scope: 'string' }, response: 'text', mutates: false },
  { id: 'udos.env', method: 'GET', path: '/api/ports/env', summary: 'uDOS: the variables as a shell script', query: { scope: 'string' }, response: 'text', mutates: false },
];

/** Shared schemas the routes refer to. */
export const SCHEMAS: Readonly<Record<string, JsonSchema>> = {
  Lease: obj(
    {
      host: str,
      scope: str,
      name: str,
      port,
      protocol: { enum: ['tcp', 'udp'] },
      purpose: { type: ['string', 'null'] },
      pool: { type: ['string', 'null'] },
      slot: { type: ['integer', 'null'] },
      /** The strategy that chose the port (fixed, preferred, sequential, range, hash, pool); null when not recorded. */
      strategy: { type: ['string', 'null'] },
      ephemeral: bool,
      pid: { type: ['integer', 'null'] },
      createdAt: str,
      updatedAt: str,
    },
    ['host', 'scope', 'name', 'port', 'protocol', 'ephemeral', 'createdAt', 'updatedAt'],
  ),
  Event: { type: 'object', required: ['id', 'time', 'host', 'action', 'change', 'scope', 'name', 'port', 'protocol', 'actor'] },
  Problem: obj({ type: str, title: str, status: int, detail: str, code: str }, ['title', 'status', 'detail', 'code']),
};

/** The route with `id`; throws for an unknown id (a programming error). */
export function routeById(id: string): Route {
  const route = ROUTES.find((r) => r.id === id);
  if (!route) throw new Error(`no route ${id}`);
  return route;
}

/** The names of a path template's parameters, in order: `/v1/leases/{scope}/{name}` → scope, name. */
export function pathParams(path: string): string[] {
  return [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
}

/** Fills a path template, URL-encoding each parameter (a scope's `/` becomes %2F). */
export function buildPath(path: string, params: Readonly<Record<string, string | number>>): string {
  return path.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = params[name];
    if (value === undefined) throw new Error(`path ${path} needs ${name}`);
    return encodeURIComponent(String(value));
  });
}

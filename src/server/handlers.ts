/**
 * Each route's engine call: the request's parameters, query and body, already checked
 * for shape (request.ts), turned into one call of the engine contract. The engine
 * validates values itself, as it does for the CLI and the library.
 */
import { UsageError } from '../errors.js';
import { parseRange } from '../config/ports.js';
import type { PortRange } from '../types.js';
import type { AllocationRequest, ScopeContext } from '../engine/index.js';
import type { Call, Reply } from './call.js';
import { renderDotenv } from '../wiring/dotenv.js';
import { renderJson } from '../wiring/json.js';
import { renderShell } from '../wiring/shell.js';
import { openApiDocument } from '../http/openapi.js';
import { FROM_CONTEXT } from '../http/routes.js';
import { udosHandlers } from './udos.js';
import { stackHandlers } from './stack-handlers.js';

export type { Call, Reply } from './call.js';

type Handler = (call: Call) => Promise<Reply>;

const json = (value: unknown): Reply => ({ json: value });
const str = (value: unknown): string | undefined => (value === undefined ? undefined : String(value));
const num = (value: unknown): number | undefined => (value === undefined ? undefined : Number(value));

/** `A-B` as the CLI writes it, parsed by the one range parser (config/ports.ts). */
export function rangeOf(value: unknown, what = 'range'): PortRange | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new UsageError(`invalid ${what} ${JSON.stringify(value)}: write it as "START-END", e.g. "5000-5999".`);
  return parseRange(value, what);
}

/** The request fields of allocate, as the engine takes them. */
function requestOf(name: unknown, body: Readonly<Record<string, unknown>>): AllocationRequest {
  const { port, prefer, range, category, strategy, protocol, purpose } = body;
  const req: Record<string, unknown> = { name, port, prefer, range: rangeOf(range), category, strategy, protocol, purpose };
  for (const key of Object.keys(req)) if (req[key] === undefined) delete req[key];
  return req as unknown as AllocationRequest;
}

/** The context with the route's scope; an omitted one or `-` leaves the context's (`as`, else derived). */
const scoped = (call: Call, scope: unknown): ScopeContext => (scope === undefined || scope === FROM_CONTEXT ? call.ctx : { ...call.ctx, scope: String(scope) });
/** A `{pool}` path parameter; `-` means berth.yaml's only pool. */
const poolParam = (pool: string | undefined): string | undefined => (pool === FROM_CONTEXT ? undefined : pool);
const owner = (body: Readonly<Record<string, unknown>>) => ({ ephemeral: body.ephemeral as boolean | undefined, pid: body.pid as number | undefined, force: body.force as boolean | undefined });

/** Every route's handler, by route id. */
export const HANDLERS: Readonly<Record<string, Handler>> = {
  health: async () => json({ ok: true }),
  openapi: async (c) => json(openApiDocument(c.version)),
  info: async (c) => json(await c.engine.info()),
  project: async (c) => json(await c.engine.project(scoped(c, c.query.scope))),

  'leases.list': async (c) => json(await c.engine.leases.list(c.ctx, { scope: str(c.query.scope), pool: str(c.query.pool), allMachines: c.query.allMachines === true })),
  'leases.get': async (c) => json(await c.engine.leases.get(scoped(c, c.params.scope), c.params.name!)),
  'leases.put': async (c) => {
    const [lease] = await c.engine.leases.allocate(scoped(c, c.params.scope), [requestOf(c.params.name, c.body)], owner(c.body));
    return json(lease);
  },
  'leases.allocate': async (c) => {
    const requests = c.body.requests;
    if (requests !== undefined && !Array.isArray(requests)) throw new UsageError('requests must be a list of {name, ...} objects.');
    const reqs = (requests ?? []).map((r: unknown) => {
      if (typeof r !== 'object' || r === null || Array.isArray(r)) throw new UsageError(`invalid request ${JSON.stringify(r)}: expected {name, ...}.`);
      const fields = r as Record<string, unknown>;
      return requestOf(fields.name, fields);
    });
    return json(await c.engine.leases.allocate(scoped(c, c.params.scope), reqs, owner(c.body)));
  },
  'leases.delete': async (c) => json(await c.engine.leases.release(scoped(c, c.params.scope), [c.params.name!])),
  'leases.release': async (c) => json(await c.engine.leases.release(scoped(c, c.params.scope), c.body.names as string[] | undefined)),
  'leases.reassign': async (c) => json(await c.engine.leases.reassign(scoped(c, c.params.scope), c.params.name!, reassignTarget(c.body), { force: c.body.force as boolean | undefined, dryRun: c.body.dryRun as boolean | undefined })),
  'leases.kill': async (c) =>
    json(await c.engine.reality.kill(scoped(c, c.params.scope), c.params.name!, { signal: str(c.body.signal), graceMs: c.body.graceMs as number | undefined, force: c.body.force as boolean | undefined, stopContainer: c.body.stopContainer as boolean | undefined })),
  'leases.handOver': async (c) => json(await c.engine.leases.handOver(scoped(c, c.params.scope), c.body.names as string[], c.body.from as number, c.body.to as number)),
  'leases.releaseOwned': async (c) => json(await c.engine.leases.releaseOwned(scoped(c, c.params.scope), c.body.names as string[], c.body.pids as number[])),

  'pools.status': async (c) => json(await c.engine.pools.status(c.ctx)),
  'pools.definition': async (c) => json(await c.engine.pools.definition(c.ctx, poolParam(c.params.pool))),
  'pools.urls': async (c) => json(await c.engine.pools.urls(c.ctx, poolParam(c.params.pool))),
  'pools.reserve': async (c) => {
    if (typeof c.body.scope !== 'string') throw new UsageError('reserve needs {"scope": "NAME"}: the scope that gets the slot ("-" for the context\'s).');
    return json(await c.engine.pools.reserve(scoped(c, c.body.scope), { pool: poolParam(c.params.pool), ephemeral: c.body.ephemeral as boolean | undefined, pid: c.body.pid as number | undefined }));
  },

  'registry.export': async (c) => json(await c.engine.registry.export(c.ctx, { scope: str(c.query.scope) })),
  'registry.import': async (c) =>
    json(await c.engine.registry.import(c.ctx, c.body.snapshot, { replace: c.body.replace as boolean | undefined, source: c.body.source === undefined ? 'the request body' : String(c.body.source) })),
  'registry.gc': async (c) => json(await c.engine.registry.gc(c.ctx, { dryRun: c.body.dryRun as boolean | undefined })),
  'registry.reset': async (c) => {
    if (c.body.yes !== true) throw new UsageError('reset forgets every lease of this machine: send {"yes": true} to confirm.');
    return json(await c.engine.registry.reset(c.ctx));
  },
  'registry.history': async (c) =>
    json(await c.engine.registry.history(c.ctx, { name: str(c.query.name), port: num(c.query.port), scope: str(c.query.scope), since: str(c.query.since), limit: num(c.query.limit) })),

  'reality.ports': async (c) => json(await c.engine.reality.ports(c.ctx, { protocol: c.query.protocol as 'tcp' | 'udp' | undefined })),
  'reality.who': async (c) => json(await c.engine.reality.who(c.ctx, portParam(c.params.port), c.query.protocol as 'tcp' | 'udp' | undefined)),
  'reality.kill': async (c) =>
    json(
      await c.engine.reality.kill(c.ctx, portParam(c.params.port), {
        signal: str(c.body.signal),
        graceMs: c.body.graceMs as number | undefined,
        force: c.body.force as boolean | undefined,
        protocol: c.body.protocol as 'tcp' | 'udp' | undefined,
        stopContainer: c.body.stopContainer as boolean | undefined,
      }),
    ),
  'reality.check': async (c) => json(await c.engine.reality.check(scoped(c, c.query.scope), { all: c.query.all === true })),
  'reality.status': async (c) =>
    json(await c.engine.reality.status(scoped(c, c.query.scope), { all: c.query.all === true, names: c.query.names === undefined ? undefined : String(c.query.names).split(',') })),
  'reality.free': async (c) =>
    json(await c.engine.reality.free(c.ctx, { from: num(c.query.from), count: num(c.query.count), range: rangeOf(c.query.range), protocol: c.query.protocol as 'tcp' | 'udp' | undefined })),

  'wiring.env': async (c) => {
    const vars = await c.engine.wiring.env(scoped(c, c.query.scope), { urls: c.query.urls === true, host: str(c.query.host), prefix: str(c.query.prefix) });
    const format = str(c.query.format) ?? 'json';
    // json: what `berth env --json` prints; vars: the engine's list, with each variable's lease (RemoteEngine reads this).
    if (format === 'json') return { text: renderJson(vars), type: 'application/json; charset=utf-8' };
    if (format === 'vars') return json(vars);
    if (format === 'dotenv') return { text: renderDotenv(vars), type: 'text/plain; charset=utf-8' };
    if (format === 'shell') return { text: renderShell(vars), type: 'text/plain; charset=utf-8' };
    throw new UsageError(`unknown format '${format}': use json, vars, dotenv or shell.`);
  },
  'wiring.urls': async (c) => json(await c.engine.wiring.urls(scoped(c, c.query.scope), { host: str(c.query.host) })),

  'events.after': async (c) => json(await c.engine.events.after(idParam(c.params.id), num(c.query.limit))),
  'events.last': async (c) => json({ id: await c.engine.events.lastId() }),

  ...udosHandlers,
  ...stackHandlers,
};

/** A port path segment: digits only (the engine checks the range). */
function portParam(text: string | undefined): number {
  if (text === undefined || !/^\d{1,5}$/.test(text)) throw new UsageError(`invalid port '${text ?? ''}' in the path: a port is a whole number from 1 to 65535.`);
  return Number(text);
}

function idParam(text: string | undefined): number {
  if (text === undefined || !/^\d{1,15}$/.test(text)) throw new UsageError(`invalid event id '${text ?? ''}': a whole number, 0 or more.`);
  return Number(text);
}

/** A reassign body's target: `port`, or null for `next: true`; neither is bad input (an empty body must not move anything). */
function reassignTarget(body: Readonly<Record<string, unknown>>): number | null {
  if (body.port !== undefined) return body.port as number;
  if (body.next === true) return null;
  throw new UsageError('invalid body: give port (the port to move to), or next: true for the next free port of its category.', { field: 'port' });
}

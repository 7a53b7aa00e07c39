/**
 * The uDOS port manager's routes (`/api/ports/...`), with the shapes its users' scripts
 * read, over the engine: a scope's leases as services, their live state, conflicts, kill,
 * a text report and a shell script of variables. The scope is `?scope=`, else the project
 * the daemon was started in.
 */
import { NotFoundError } from '../errors.js';
import type { LeaseStatus, ScopeContext } from '../engine/index.js';
import { renderShell } from '../wiring/shell.js';
import { describeHolder, printable } from '../wiring/describe.js';
import type { Call, Reply } from './call.js';
import { startOrder } from '../config/graph.js';

/** One service as uDOS listed it. */
interface UdosService {
  readonly name: string;
  readonly port: number;
  readonly protocol: string;
  readonly description: string | null;
  readonly environment: string | null;
  /** running (its expected holder listens), stopped (nobody does), conflict (someone else does). */
  readonly status: 'running' | 'stopped' | 'conflict';
  readonly enabled: boolean;
  readonly pid: number | null;
  readonly process: string | null;
}

const STATUS_OF: Readonly<Record<LeaseStatus['state'], UdosService['status']>> = { listening: 'running', idle: 'stopped', foreign: 'conflict' };

function ctxOf(c: Call): ScopeContext {
  return { ...c.ctx, scope: c.query.scope === undefined ? undefined : String(c.query.scope) };
}

function serviceOf(s: LeaseStatus): UdosService {
  const holder = s.holders[0] ?? null;
  return {
    name: s.lease.name,
    port: s.lease.port,
    protocol: s.lease.protocol,
    description: s.lease.purpose,
    environment: null,
    status: STATUS_OF[s.state],
    enabled: true,
    pid: holder?.pid ?? null,
    process: holder?.process ?? null,
  };
}

async function services(c: Call): Promise<UdosService[]> {
  return (await c.engine.reality.status(ctxOf(c))).map(serviceOf);
}

/** Service names in dependency order (start: depends_on first, else berth.yaml order), and reversed (stop). */
async function order(c: Call, names: readonly string[]): Promise<{ startup: string[]; shutdown: string[] }> {
  const services = (await c.engine.project(ctxOf(c))).config.services;
  const configured = startOrder(services.map((s) => ({ name: s.name, needs: s.launch?.dependsOn.map((d) => d.name) ?? [] })));
  const startup = [...configured.filter((n) => names.includes(n)), ...names.filter((n) => !configured.includes(n))];
  return { startup, shutdown: [...startup].reverse() };
}

async function conflicts(c: Call) {
  return (await c.engine.reality.check(ctxOf(c))).map((k) => ({ kind: k.kind, port: k.port, message: k.message, service: k.lease?.name ?? null, holders: k.holders.map(describeHolder) }));
}

const json = (value: unknown): Reply => ({ json: value });

/** The uDOS routes' handlers, by route id. */
export const udosHandlers: Readonly<Record<string, (c: Call) => Promise<Reply>>> = {
  'udos.status': async (c) => {
    const list = await services(c);
    const { startup, shutdown } = await order(c, list.map((s) => s.name));
    return json({ timestamp: new Date().toISOString(), services: Object.fromEntries(list.map((s) => [s.name, s])), conflicts: await conflicts(c), startup_order: startup, shutdown_order: shutdown });
  },
  'udos.services': async (c) => json({ services: await services(c) }),
  'udos.service': async (c) => {
    const found = (await services(c)).find((s) => s.name === c.params.name);
    if (!found) throw new NotFoundError(`no service '${c.params.name}' in this scope. See GET /api/ports/services.`);
    return json(found);
  },
  'udos.conflicts': async (c) => json({ conflicts: await conflicts(c) }),
  'udos.killService': async (c) => json(await c.engine.reality.kill(ctxOf(c), c.params.name!)),
  'udos.killPort': async (c) => {
    const port = c.params.port ?? '';
    return json(await c.engine.reality.kill(c.ctx, /^\d{1,5}$/.test(port) ? Number(port) : `:${port}`));
  },
  'udos.report': async (c) => {
    const list = await services(c);
    const found = await conflicts(c);
    const lines = [`berth port report ${new Date().toISOString()}`, ''];
    for (const s of list) lines.push(`${s.status === 'running' ? '[up]  ' : s.status === 'conflict' ? '[!!]  ' : '[--]  '}${printable(s.name)}  port ${s.port}  ${s.status}${s.pid === null ? '' : ` (pid ${s.pid})`}`);
    if (list.length === 0) lines.push('no services leased in this scope');
    lines.push('', found.length === 0 ? 'no conflicts' : `${found.length} conflict(s):`, ...found.map((k) => `  ${printable(k.message)}`), '');
    return { text: lines.join('\n'), type: 'text/plain; charset=utf-8' };
  },
  'udos.env': async (c) => {
    const vars = await c.engine.wiring.env(ctxOf(c), { urls: true });
    return { text: `#!/bin/sh\n# berth: the scope's ports, generated ${new Date().toISOString()}\n${renderShell(vars)}`, type: 'text/x-shellscript; charset=utf-8' };
  },
};

/**
 * One run of a service's health check (`http`, `tcp`, `exec`, `log`), and the question
 * the popular launchers never ask: is the process answering on the port the service's
 * own? A check that passes while a stranger holds the port is never counted healthy.
 */
import { spawn } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import { portHolding, serviceMembers } from '../os/index.js';
import type { HealthSpec, Listener } from '../types.js';

/** The result of one check. */
export interface ProbeResult {
  readonly ok: boolean;
  /** What happened, for people: `GET /health → 503`, `connection refused`. */
  readonly detail: string;
}

/** What one probe needs besides the spec. */
export interface ProbeContext {
  readonly port: number;
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  /** For `log:` checks: whether a line of this start matched. */
  readonly logMatched: boolean;
}

/** Loopback address the checks connect to: services listen on loopback or the wildcard. */
const CHECK_HOST = '127.0.0.1';

/** Runs the check once, bounded by its timeout. */
export function probe(spec: HealthSpec, ctx: ProbeContext): Promise<ProbeResult> {
  switch (spec.kind) {
    case 'http':
      return httpProbe(spec.target.startsWith('/') ? `http://${CHECK_HOST}:${ctx.port}${spec.target}` : spec.target, spec.timeoutMs);
    case 'tcp':
      return tcpProbe(ctx.port, spec.timeoutMs);
    case 'exec':
      return execProbe(spec.target, spec.timeoutMs, ctx);
    case 'log':
      return Promise.resolve({ ok: ctx.logMatched, detail: ctx.logMatched ? `a line matched /${spec.target}/` : `no line matched /${spec.target}/ yet` });
  }
}

function httpProbe(url: string, timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const req = http.get(url, { timeout: timeoutMs, agent: false }, (res) => {
      res.resume();
      const status = res.statusCode ?? 0;
      resolve({ ok: status >= 200 && status < 400, detail: `GET ${url} → ${status}` });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (error: NodeJS.ErrnoException) => resolve({ ok: false, detail: `GET ${url}: ${error.code ?? error.message}` }));
  });
}

function tcpProbe(port: number, timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: CHECK_HOST, port, timeout: timeoutMs });
    socket.once('connect', () => {
      socket.destroy();
      resolve({ ok: true, detail: `port ${port} accepts connections` });
    });
    socket.once('timeout', () => socket.destroy(new Error(`no connection within ${timeoutMs} ms`)));
    socket.once('error', (error: NodeJS.ErrnoException) => resolve({ ok: false, detail: `port ${port}: ${error.code ?? error.message}` }));
  });
}

function execProbe(command: string, timeoutMs: number, ctx: ProbeContext): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const child = spawn('/bin/sh', ['-c', command], { env: ctx.env, cwd: ctx.cwd, stdio: 'ignore', timeout: timeoutMs, killSignal: 'SIGKILL' });
    child.once('error', (error) => resolve({ ok: false, detail: `${command}: ${error.message}` }));
    child.once('exit', (code, signal) => resolve({ ok: code === 0, detail: signal !== null ? `${command}: killed after ${timeoutMs} ms` : `${command} exited ${code}` }));
  });
}

/** Describes a process holding a port the way people look for it: `pid 4242 (node) of user ann`. */
export function describeHolder(l: Listener): string {
  if (l.container !== null) return `container ${l.container.name} (${l.container.image})`;
  if (l.pid === null) return 'a process berth cannot see (another user\'s?)';
  return `pid ${l.pid} (${l.process ?? '?'})${l.user === null ? '' : ` of user ${l.user}`}`;
}

/** Who holds a service's port, set against its own processes. */
export interface Ownership {
  /** A process of the service's tree listens on the port. */
  readonly own: boolean;
  /** Holders outside the tree, described; empty when none. */
  readonly strangers: readonly string[];
}

/** Splits the port's holders into the service's own processes and strangers. */
export function ownership(holders: readonly Listener[], members: ReadonlySet<number>): Ownership {
  const own = holders.some((h) => h.pid !== null && members.has(h.pid));
  const strangers = [...new Set(holders.filter((h) => h.pid === null || !members.has(h.pid)).map(describeHolder))];
  return { own, strangers };
}

/** A service's tree as the holder check needs it. */
export interface Tree {
  /** The tracked live pids. */
  readonly pids: readonly number[];
  readonly pgid: number | null;
  readonly marker: string | null;
}

/**
 * Who holds `port`, set against the service's tree: first the cheap look (our pids'
 * sockets and /proc/net only); every holder is found and named only when someone outside
 * the tracked pids listens, and a holder that carries the tree's marker (forked since the
 * last scan) is still ours.
 */
export async function holding(port: number, tree: Tree, holders: (port: number) => Promise<readonly Listener[]>): Promise<Ownership> {
  const quick = portHolding(tree.pids, port);
  // Only our tree (or nobody) listens: no need to name anyone.
  if (quick !== null && !quick.others) return { own: quick.ours, strangers: [] };
  const found = await holders(port).catch(() => []);
  let members = new Set(tree.pids);
  if (found.some((h) => h.pid !== null && !members.has(h.pid))) members = new Set(serviceMembers({ pids: tree.pids, pgid: tree.pgid, marker: tree.marker }));
  return ownership(found, members);
}

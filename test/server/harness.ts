/**
 * A real daemon for the server tests, started as a user starts it: `node bin/berth.js
 * serve --port P` with its own BERTH_STATE_DIR and BERTH_DB in a temp directory. Requests
 * go over loopback TCP (node:http, so the Host header and the raw path are the test's) or
 * the unix socket. Every daemon is SIGTERMed (then SIGKILLed) by its stop().
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { BERTH_BIN, berth, cliEnv, tempDir, type CliOptions, type CliResult } from '../helpers/cli.js';
export { freePort } from '../helpers/ports.js';
import { freePort } from '../helpers/ports.js';

/** How long a daemon may take to write its lockfile. */
const START_TIMEOUT_MS = 20_000;
/** How long a daemon may take to exit after SIGTERM before it is SIGKILLed. */
const STOP_TIMEOUT_MS = 10_000;
/** How long one request may take before the test gives up on it. */
const REQUEST_TIMEOUT_MS = 20_000;


/** A started `berth serve`. */
export interface Daemon {
  readonly dir: string;
  readonly state: string;
  readonly db: string;
  readonly port: number;
  readonly token: string;
  readonly readToken: string;
  readonly socket: string;
  readonly child: ChildProcess;
  /** What the daemon wrote to stdout and stderr so far. */
  output(): string;
  /** The CLI run against this daemon's store and state directory, from its directory. */
  cli(args: readonly string[], opts?: CliOptions): CliResult;
  /** SIGTERM, wait for the exit (SIGKILL after STOP_TIMEOUT_MS); resolves to the exit code. */
  stop(): Promise<number | null>;
}

/** The env of a CLI run (or a daemon) on `state` and `db`. */
export function daemonEnv(state: string, db: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { BERTH_STATE_DIR: state, BERTH_DB: db, ...extra };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Waits for `child` to exit, at most `ms`; its exit code, or undefined when it still runs. */
export function waitExit(child: ChildProcess, ms: number): Promise<number | null | undefined> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.off('exit', onExit);
      resolve(undefined);
    }, ms);
    const onExit = (code: number | null): void => {
      clearTimeout(timer);
      resolve(code);
    };
    child.once('exit', onExit);
  });
}

/** Options of {@link startDaemon}. */
export interface StartOptions {
  /** The directory to run in (its berth.yaml is the daemon's project); default a new temp dir. */
  readonly dir?: string;
  /** A state directory other than `<dir>/state`. */
  readonly state?: string;
  readonly extraArgs?: readonly string[];
  /** Without --port: the daemon takes the port berth leases to itself. */
  readonly leasedPort?: boolean;
  /** The store (a path or a postgres:// URL); default `<dir>/berth.db`. */
  readonly db?: string;
  /** More environment for the daemon and its cli() (BERTH_MACHINE on a shared registry). */
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * Starts `berth serve --port P` in `dir` (state in `<dir>/state`, store `<dir>/berth.db`)
 * and waits until its lockfile names it. The caller stops it (in `after`).
 */
export async function startDaemon(opts: StartOptions = {}): Promise<Daemon> {
  const dir = opts.dir ?? tempDir('berth-server-').dir;
  // The probed port may be taken by someone else before the daemon binds it: try again.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(dir, opts);
    } catch (error) {
      if (attempt >= 3 || opts.leasedPort || !/EADDRINUSE/.test(String(error))) throw error;
    }
  }
}

async function startOnce(dir: string, opts: StartOptions): Promise<Daemon> {
  const state = opts.state ?? path.join(dir, 'state');
  const db = opts.db ?? path.join(dir, 'berth.db');
  const portArgs = opts.leasedPort ? [] : ['--port', String(await freePort())];
  const child = spawn(process.execPath, [BERTH_BIN, 'serve', ...portArgs, ...(opts.extraArgs ?? [])], {
    cwd: dir,
    env: cliEnv({ env: daemonEnv(state, db, opts.env) }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const lockFile = path.join(state, 'daemon.json');
  const stop = async (): Promise<number | null> => {
    if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
    child.kill('SIGTERM');
    const code = await waitExit(child, STOP_TIMEOUT_MS);
    if (code !== undefined) return code;
    child.kill('SIGKILL');
    await waitExit(child, STOP_TIMEOUT_MS);
    return null;
  };
  const deadline = Date.now() + START_TIMEOUT_MS;
  let port = 0;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`berth serve exited (${child.exitCode ?? child.signalCode}) before listening:\n${out}`);
    try {
      const lock = JSON.parse(fs.readFileSync(lockFile, 'utf8')) as { pid?: number; port: number };
      if (lock.pid === child.pid) {
        port = lock.port;
        break;
      }
    } catch {
      // Not written yet (or half-written): keep waiting.
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`berth serve wrote no lockfile within ${START_TIMEOUT_MS} ms:\n${out}`);
    }
    await sleep(25);
  }
  return {
    dir,
    state,
    db,
    port,
    token: fs.readFileSync(path.join(state, 'api-token'), 'utf8').trim(),
    readToken: fs.readFileSync(path.join(state, 'api-token-read'), 'utf8').trim(),
    socket: path.join(state, 'berth.sock'),
    child,
    output: () => out,
    cli: (args, cliOpts = {}) => berth(args, { cwd: dir, ...cliOpts, env: { ...daemonEnv(state, db, opts.env), ...cliOpts.env } }),
    stop,
  };
}

/** One answer. */
export interface Res {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly text: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  readonly json: any;
}

/** A request. Headers are sent as given; `token: null` sends none, a string sends it as Bearer. */
export interface Req {
  readonly method?: string;
  readonly path: string;
  /** A JSON value (sent as application/json unless headers say otherwise), or raw text/bytes. */
  readonly body?: unknown;
  readonly raw?: string | Buffer;
  readonly token?: string | null;
  readonly headers?: Readonly<Record<string, string>>;
  /** Over the unix socket instead of TCP. */
  readonly socket?: boolean;
  /** An http.Agent (keep-alive); default none. */
  readonly agent?: http.Agent;
}

/** Sends `req` to `d` and reads the whole answer. */
export function request(d: Pick<Daemon, 'port' | 'token' | 'socket'>, req: Req): Promise<Res> {
  const headers: Record<string, string> = { Host: `127.0.0.1:${d.port}` };
  const token = req.token === undefined ? d.token : req.token;
  if (token !== null) headers.Authorization = `Bearer ${token}`;
  let payload: Buffer | undefined;
  if (req.raw !== undefined) payload = Buffer.isBuffer(req.raw) ? req.raw : Buffer.from(req.raw);
  else if (req.body !== undefined) {
    payload = Buffer.from(JSON.stringify(req.body));
    headers['Content-Type'] = 'application/json';
  }
  if (payload !== undefined) headers['Content-Length'] = String(payload.length);
  Object.assign(headers, req.headers);
  for (const [k, v] of Object.entries(headers)) if (v === '') delete headers[k];
  return new Promise((resolve, reject) => {
    const r = http.request(
      {
        ...(req.socket ? { socketPath: d.socket } : { host: '127.0.0.1', port: d.port }),
        method: req.method ?? 'GET',
        path: req.path,
        headers,
        agent: req.agent ?? false,
        timeout: REQUEST_TIMEOUT_MS,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            // Not JSON (text routes, or a broken answer): callers check `text`.
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
      },
    );
    r.on('timeout', () => r.destroy(new Error(`no answer to ${req.method ?? 'GET'} ${req.path} within ${REQUEST_TIMEOUT_MS} ms`)));
    r.on('error', reject);
    r.end(payload);
  });
}

/** The store's leases and scopes as comparable text (export time left out). */
export function exportState(d: Daemon): string {
  const res = d.cli(['export']);
  if (res.code !== 0) throw new Error(`berth export failed (exit ${res.code}): ${res.stderr}`);
  const snap = JSON.parse(res.stdout) as Record<string, unknown>;
  delete snap.exportedAt;
  return JSON.stringify(snap);
}

/** The number of events in the store so far (history changes with every write too). */
export async function lastEventId(d: Daemon): Promise<number> {
  const res = await request(d, { path: '/v1/events/last' });
  if (res.status !== 200) throw new Error(`GET /v1/events/last: ${res.status} ${res.text}`);
  return (res.json as { id: number }).id;
}

/** Asserts `res` is a problem+json answer with `status` and `code`; returns its body. */
export function problemOf(res: Res): { code: string; status: number; title: string; detail: string; message: string } {
  const type = String(res.headers['content-type'] ?? '');
  if (!type.startsWith('application/problem+json')) throw new Error(`expected application/problem+json, got ${type} (${res.status}): ${res.text.slice(0, 300)}`);
  const body = res.json as { code?: unknown; status?: unknown; title?: unknown; detail?: unknown; message?: unknown } | undefined;
  if (!body || typeof body.code !== 'string' || body.status !== res.status || typeof body.detail !== 'string' || typeof body.title !== 'string') {
    throw new Error(`malformed problem (${res.status}): ${res.text.slice(0, 300)}`);
  }
  return body as { code: string; status: number; title: string; detail: string; message: string };
}

/** A process of our own listening on 127.0.0.1:`port` (for kill and who); resolves once it listens. */
export async function listener(port: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['-e', `require('net').createServer().listen(${port}, '127.0.0.1', () => console.log('up'))`], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`listener on ${port} did not start`)), START_TIMEOUT_MS);
    child.stdout!.once('data', () => {
      clearTimeout(timer);
      resolve();
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`listener on ${port} exited ${code}`));
    });
  });
  return child;
}

/** Kills what the test started, if still running. */
export function killQuietly(child: ChildProcess | undefined): void {
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

/** One server-sent event. */
export interface SseEvent {
  readonly id: number | null;
  readonly event: string;
  readonly data: any;
  /** performance.now() when it was parsed. */
  readonly at: number;
}

/** An open event stream. */
export interface Stream {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly events: SseEvent[];
  /** The first event (from the start) matching `pred`, waiting at most `ms`. */
  next(pred: (e: SseEvent) => boolean, ms: number): Promise<SseEvent>;
  close(): void;
}

/** Opens GET /v1/events (or `path`; POST with `body`) with `headers`; resolves once the answer's head arrived. */
export function openStream(d: Pick<Daemon, 'port' | 'token' | 'socket'>, headers: Readonly<Record<string, string>> = {}, path = '/v1/events', body?: unknown): Promise<Stream> {
  return new Promise((resolve, reject) => {
    const json = body === undefined ? {} : { 'Content-Type': 'application/json' };
    const r = http.request({ host: '127.0.0.1', port: d.port, path, method: body === undefined ? 'GET' : 'POST', agent: false, headers: { Host: `127.0.0.1:${d.port}`, Authorization: `Bearer ${d.token}`, ...json, ...headers } }, (res) => {
      const events: SseEvent[] = [];
      const waiters = new Set<() => void>();
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let cut: number;
        while ((cut = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          let id: number | null = null;
          let event = 'message';
          const data: string[] = [];
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) continue;
            const colon = line.indexOf(':');
            const field = colon < 0 ? line : line.slice(0, colon);
            const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
            if (field === 'id') id = Number(value);
            else if (field === 'event') event = value;
            else if (field === 'data') data.push(value);
          }
          if (data.length === 0) continue;
          let parsed: unknown = data.join('\n');
          try {
            parsed = JSON.parse(parsed as string);
          } catch {
            // Not JSON: kept as text for the assertion to show.
          }
          events.push({ id, event, data: parsed, at: performance.now() });
          for (const w of [...waiters]) w();
        }
      });
      res.on('error', () => undefined);
      resolve({
        status: res.statusCode ?? 0,
        headers: res.headers,
        events,
        next(pred, ms) {
          return new Promise((ok, fail) => {
            const check = (): boolean => {
              const found = events.find(pred);
              if (!found) return false;
              clearTimeout(timer);
              waiters.delete(waiter);
              ok(found);
              return true;
            };
            const waiter = (): void => void check();
            const timer = setTimeout(() => {
              waiters.delete(waiter);
              fail(new Error(`no matching event within ${ms} ms; got: ${JSON.stringify(events).slice(0, 500)}`));
            }, ms);
            waiters.add(waiter);
            check();
          });
        },
        close: () => r.destroy(),
      });
    });
    r.on('error', reject);
    r.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

/**
 * The daemon: the composition root of a LocalEngine and the HTTP API, one per state
 * directory. It takes the lockfile, makes its tokens, listens on a unix socket (0600, in
 * the 0700 state directory) and on loopback TCP, on a port berth leases to itself (scope
 * `berth`, name `daemon`) unless told. Stopping closes both listeners, ends the event
 * streams, removes the lockfile and socket, and closes the store.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isIP } from 'node:net';
import { chmodSync, rmSync } from 'node:fs';
import { RefusedError, UsageError } from '../errors.js';
import type { Engine } from '../engine/index.js';
import { openEngine } from '../open.js';
import { localMachine } from '../os/machine.js';
import { createApi, type Api } from './app.js';
import { ensureStateDir, ensureToken, readLock, removeLock, stateDir, statePaths, writeLock, type DaemonLock, type StatePaths } from './state.js';

/** The daemon's version, as `berth --version` says. */
export const DAEMON_VERSION = '0.1.0';

/** How to start the daemon. */
export interface DaemonOptions {
  /** TCP port; 0 for one the OS picks (tests; `url` and `port` report it); default: the port leased to scope `berth`, name `daemon`. */
  readonly port?: number;
  /** Loopback address to listen on (default 127.0.0.1). */
  readonly host?: string;
  /** Allow a non-loopback --host (the token is always required). */
  readonly allowRemote?: boolean;
  /** Extra Host header names to answer to. */
  readonly allowHosts?: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  /** The engine to serve (tests); default a LocalEngine over BERTH_DB and this machine. */
  readonly engine?: Engine;
  /** Where berth.yaml is looked for when a request names no directory. */
  readonly cwd?: string;
}

/** A running daemon. */
export interface RunningDaemon {
  readonly url: string;
  readonly port: number;
  readonly paths: StatePaths;
  readonly token: string;
  readonly engine: Engine;
  /** The lockfile of a daemon that died without cleaning up, which this one replaced. */
  readonly staleLock: DaemonLock | null;
  /** Stops everything; resolves when the listeners are closed and the store is closed. */
  stop(): Promise<void>;
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}

function listen(server: Server, target: { port: number; host: string } | { path: string }): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(target, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
  });
}

/** Starts the daemon for the state directory of `opts.env`. */
export async function startDaemon(opts: DaemonOptions = {}): Promise<RunningDaemon> {
  const env = opts.env ?? process.env;
  const host = opts.host ?? '127.0.0.1';
  if (isIP(host) === 0 && host !== 'localhost') throw new UsageError(`--host ${host} is not an IP address: give 127.0.0.1, ::1 or another address of this machine.`);
  if (!isLoopback(host) && !opts.allowRemote) {
    throw new UsageError(
      `--host ${host} is not a loopback address: anyone who can reach it could try the API, which can kill processes. ` +
        'Pass --allow-remote as well if you mean it (the token is required on every request either way).',
    );
  }
  const paths = statePaths(stateDir(env));
  ensureStateDir(paths.dir);
  const held = readLock(paths.lock);
  if (held !== null && held.pid !== process.pid && localMachine.isAlive(held.pid)) {
    throw new RefusedError(`a berth daemon already runs for ${paths.dir}: pid ${held.pid}, ${held.url}. Stop it with \`berth daemon stop\`, or use another BERTH_STATE_DIR.`, { pid: held.pid, url: held.url });
  }
  const stale = held !== null && held.pid !== process.pid;
  const token = ensureToken(paths.token);
  const readToken = (() => {
    try {
      return ensureToken(paths.readToken);
    } catch (error) {
      if (error instanceof RefusedError) throw error;
      return null;
    }
  })();
  const engine = opts.engine ?? openEngine({ env, cwd: opts.cwd });
  try {
    const wanted = opts.port ?? (await engine.leases.allocate({ scope: 'berth' }, [{ name: 'daemon', purpose: 'the berth daemon (API and dashboard)' }]))[0]!.port;
    // The API is made once the port is known (port 0: the OS picks it), since Host headers
    // name it. No request is read before: connections are served on a later turn of the loop.
    let api: Api | null = null;
    const tcp = createServer((req, res) => api!.handle(req, res, false));
    const unix = createServer((req, res) => api!.handle(req, res, true));
    // A lockfile whose pid is gone left its socket behind: replace both.
    if (stale) rmSync(paths.socket, { force: true });
    await listen(tcp, { port: wanted, host });
    const port = (tcp.address() as AddressInfo).port;
    const served = createApi({ engine, version: DAEMON_VERSION, guard: { token, readToken, allowedHosts: opts.allowHosts ?? [], port } });
    api = served;
    try {
      await listen(unix, { path: paths.socket });
      chmodSync(paths.socket, 0o600);
    } catch (error) {
      await closeServer(tcp);
      throw error;
    }
    const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
    const lock: DaemonLock = { pid: process.pid, socket: paths.socket, url, port, version: DAEMON_VERSION, startedAt: new Date().toISOString() };
    writeLock(paths.lock, lock);
    let stopping: Promise<void> | null = null;
    const daemon: RunningDaemon = {
      url,
      port,
      paths,
      token,
      engine,
      staleLock: stale ? held : null,
      stop() {
        stopping ??= (async () => {
          served.close();
          await Promise.all([closeServer(tcp), closeServer(unix)]);
          removeLock(paths, process.pid);
          await engine.close();
        })();
        return stopping;
      },
    };
    return daemon;
  } catch (error) {
    await engine.close();
    throw error;
  }
}

/** What `berth daemon status` finds: the lockfile, and whether its pid lives. */
export interface DaemonStatus {
  readonly stateDir: string;
  readonly lock: DaemonLock | null;
  readonly running: boolean;
}

/** The daemon of the state directory of `env`, as its lockfile and the process table say. */
export function daemonStatus(env: NodeJS.ProcessEnv = process.env): DaemonStatus {
  const paths = statePaths(stateDir(env));
  const lock = readLock(paths.lock);
  return { stateDir: paths.dir, lock, running: lock !== null && localMachine.isAlive(lock.pid) };
}

/** How long stopDaemon waits for the daemon to exit after SIGTERM. */
export const STOP_WAIT_MS = 10_000;

/** Sends SIGTERM to the running daemon and waits until it is gone; false when it outlived STOP_WAIT_MS. */
export async function stopDaemon(lock: DaemonLock): Promise<boolean> {
  process.kill(lock.pid, 'SIGTERM');
  const deadline = Date.now() + STOP_WAIT_MS;
  while (localMachine.isAlive(lock.pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  return !localMachine.isAlive(lock.pid);
}

/**
 * The daemon: the composition root of a LocalEngine and the HTTP API, one per state
 * directory. It takes the lockfile, makes its tokens, listens on a unix socket (0600, in
 * the 0700 state directory) and on loopback TCP, on a port berth leases to itself (scope
 * `berth`, name `daemon`) unless told. Stopping closes both listeners, ends the event
 * streams, removes the lockfile and socket, and closes the store.
 */
import { parse as parsePath } from 'node:path';
import { createServer, type Server } from 'node:http';
import { connect, isIP, type AddressInfo } from 'node:net';
import { chmodSync, rmSync } from 'node:fs';
import { RefusedError, UsageError } from '../errors.js';
import type { Engine } from '../engine/index.js';
import { openEngine } from '../open.js';
import { localMachine } from '../os/machine.js';
import { createApi, type Api } from './app.js';
import { StackHost } from './stacks.js';
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
  /** Bytes an event stream may keep for a client that does not read (default MAX_UNREAD_BYTES; tests lower it). */
  readonly maxUnreadBytes?: number;
}

/** A running daemon. */
export interface RunningDaemon {
  readonly url: string;
  readonly port: number;
  readonly paths: StatePaths;
  readonly token: string;
  readonly engine: Engine;
  /** The stacks it launched. */
  readonly stacks: StackHost;
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

/** How long a stop waits for requests in flight before it closes their connections too. */
export const STOP_GRACE_MS = 5_000;

/**
 * Closes `server`: idle keep-alive connections at once, requests in flight after
 * STOP_GRACE_MS at the latest, so a client that keeps a connection busy cannot hold the
 * daemon up (a stop must end).
 */
function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    const force = setTimeout(() => server.closeAllConnections(), STOP_GRACE_MS);
    server.close(() => {
      clearTimeout(force);
      resolve();
    });
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
  if (held !== null && held.pid !== process.pid && lockAlive(held)) {
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
    // The daemon's own lease belongs to no project: looked up from the root, so a berth.yaml
    // above the directory it was started in (a project with a service named `daemon`) does
    // not hand the daemon that service's port.
    const own = { scope: 'berth', dir: parsePath(process.cwd()).root };
    let wanted = opts.port ?? (await engine.leases.allocate(own, [{ name: 'daemon', purpose: 'the berth daemon (API and dashboard)' }]))[0]!.port;
    // The API is made once the port is known (port 0: the OS picks it), since Host headers
    // name it. No request is read before: connections are served on a later turn of the loop.
    let api: Api | null = null;
    const tcp = createServer((req, res) => api!.handle(req, res, false));
    const unix = createServer((req, res) => api!.handle(req, res, true));
    // The socket is the mutex between daemons of one state directory: bound first, so two
    // starting at once cannot both win; a socket file nobody answers on is a dead daemon's.
    await listenSocket(unix, paths.socket);
    for (let attempt = 1; ; attempt++) {
      try {
        await listen(tcp, { port: wanted, host });
        break;
      } catch (error) {
        // The leased port was free when leased, but another process (another state
        // directory's daemon starting at the same moment, most often) bound it first: the
        // lease moves to the next free port. A port the user chose is theirs to change.
        if (opts.port === undefined && (error as NodeJS.ErrnoException).code === 'EADDRINUSE' && attempt < LEASED_PORT_ATTEMPTS) {
          const free = await engine.reality.free(own, { from: wanted + 1 });
          wanted = (await engine.leases.reassign(own, 'daemon', free.ports[0]!)).port;
          continue;
        }
        await closeServer(unix);
        throw portError(error, wanted, host);
      }
    }
    const port = (tcp.address() as AddressInfo).port;
    // The bound address answers too (127.0.0.2, or a remote address with --allow-remote).
    const allowedHosts = [...(opts.allowHosts ?? []), ...(host === '127.0.0.1' || host === 'localhost' ? [] : [host.includes(':') ? `[${host}]` : host])];
    const stacks = new StackHost(engine, paths.dir);
    const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
    const served = createApi({ engine, version: DAEMON_VERSION, guard: { token, readToken, allowedHosts, port }, url, maxUnreadBytes: opts.maxUnreadBytes, stacks });
    api = served;
    const lock: DaemonLock = { pid: process.pid, identity: localMachine.processIdentity(process.pid), socket: paths.socket, url, port, version: DAEMON_VERSION, startedAt: new Date().toISOString() };
    writeLock(paths.lock, lock);
    let stopping: Promise<void> | null = null;
    const daemon: RunningDaemon = {
      url,
      port,
      paths,
      token,
      engine,
      stacks,
      staleLock: stale ? held : null,
      stop() {
        stopping ??= (async () => {
          // The stacks stop first, in order, as berth down would: nothing may outlive the daemon.
          await stacks.close();
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
  return { stateDir: paths.dir, lock, running: lock !== null && lockAlive(lock) };
}

/** How long stopDaemon waits for the daemon to exit after SIGTERM. */
export const STOP_WAIT_MS = 10_000;

/** Sends SIGTERM to the running daemon and waits until it is gone; false when it outlived STOP_WAIT_MS. */
export async function stopDaemon(lock: DaemonLock): Promise<boolean> {
  // Through the one kill of berth, with the identity the daemon recorded: a pid reused by
  // another process after a crash is never signalled. SIGKILL follows after STOP_WAIT_MS.
  const expect = lock.identity === null ? undefined : new Map([[lock.pid, lock.identity]]);
  const [result] = await localMachine.killProcesses([lock.pid], { signal: 'SIGTERM', graceMs: STOP_WAIT_MS, expect });
  return result?.exited ?? !lockAlive(lock);
}

/** How many ports the daemon tries when the one leased to it is taken before it binds (each try moves the lease). */
const LEASED_PORT_ATTEMPTS = 4;

/** Whether the process a lockfile names is still that daemon (same pid and start time). */
function lockAlive(lock: DaemonLock): boolean {
  if (!localMachine.isAlive(lock.pid)) return false;
  return lock.identity === undefined || lock.identity === null || localMachine.processIdentity(lock.pid) === lock.identity;
}

/** Listens on the unix socket; a leftover socket file that nobody answers on is removed first. */
async function listenSocket(server: Server, socket: string): Promise<void> {
  try {
    await listen(server, { path: socket });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    if (await answers(socket)) throw new RefusedError(`another berth daemon answers on ${socket}. Stop it with \`berth daemon stop\`, or use another BERTH_STATE_DIR.`);
    rmSync(socket, { force: true });
    await listen(server, { path: socket });
  }
  chmodSync(socket, 0o600);
}

/** Whether something accepts connections on the unix socket `path`. */
function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = connect(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
}

/** The error for a TCP port the daemon cannot listen on, saying what to do. */
function portError(error: unknown, port: number, host: string): unknown {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE') {
    return new RefusedError(`port ${port} on ${host} is taken by another process, so the daemon cannot listen there. See who with \`berth who ${port}\`; start with --port P, or move the daemon's lease: \`berth reassign daemon PORT --scope berth\`.`, { port });
  }
  if (code === 'EACCES') return new RefusedError(`listening on port ${port} needs privileges berth does not have: choose --port above 1023.`, { port });
  return error;
}

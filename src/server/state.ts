/**
 * The daemon's files in the state directory: its API tokens (0600), its lockfile (who
 * runs, where it listens) and its unix socket, in a directory only its user can enter.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, existsSync, lstatSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { RefusedError, UsageError } from '../errors.js';

export { stateDir } from '../fs/state-dir.js';

/** Where the daemon's files are. */
export interface StatePaths {
  readonly dir: string;
  readonly token: string;
  readonly readToken: string;
  readonly lock: string;
  readonly socket: string;
  /** The page `berth dashboard --open` sends the browser to (0600): it forwards to the login link. */
  readonly dashboardOpen: string;
}

/** The daemon's paths in `dir`. */
export function statePaths(dir: string): StatePaths {
  return {
    dir,
    token: path.join(dir, 'api-token'),
    readToken: path.join(dir, 'api-token-read'),
    lock: path.join(dir, 'daemon.json'),
    socket: path.join(dir, 'berth.sock'),
    dashboardOpen: path.join(dir, 'dashboard-open.html'),
  };
}

/** Creates the state directory (0700), or narrows an existing one of ours to 0700. */
export function ensureStateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const info = statSync(dir);
  if (!info.isDirectory()) throw new UsageError(`the state directory ${dir} is not a directory. Set BERTH_STATE_DIR to another place.`);
  if ((info.mode & 0o077) !== 0) {
    if (typeof process.getuid === 'function' && info.uid !== process.getuid()) {
      throw new RefusedError(`the state directory ${dir} belongs to another user and others can enter it; the daemon keeps its token and socket there. Set BERTH_STATE_DIR to a directory of your own.`);
    }
    chmodSync(dir, 0o700);
  }
}

/**
 * The token in `file`, created (256 random bits, hex, mode 0600) when absent. A token file
 * others can read is refused: anyone who reads it can kill processes through the API.
 */
export function ensureToken(file: string): string {
  if (!existsSync(file)) {
    let fd: number | null = null;
    try {
      fd = openSync(file, 'wx', 0o600);
      writeSync(fd, `${randomBytes(32).toString('hex')}\n`);
    } catch (error) {
      // Another daemon starting at the same moment made it first: use that one.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    } finally {
      if (fd !== null) closeSync(fd);
    }
  }
  return readToken(file);
}

/** Reads a token file, refusing one that is not a regular file or that others may read. */
export function readToken(file: string): string {
  const info = lstatSync(file);
  if (!info.isFile()) throw new RefusedError(`${file} is not a regular file; refusing to use it as the API token.`);
  if ((info.mode & 0o077) !== 0) {
    throw new RefusedError(`${file} can be read by other users (mode ${(info.mode & 0o777).toString(8)}); anyone who reads it controls the daemon. Run \`chmod 600 ${file}\`, or delete it for a new one.`);
  }
  const token = readFileSync(file, 'utf8').trim();
  if (!/^[A-Za-z0-9._~+/=-]{32,}$/.test(token)) throw new RefusedError(`${file} does not hold a usable token (32 or more letters and digits). Delete it for a new one.`);
  return token;
}

/** What the lockfile says about a running daemon. */
export interface DaemonLock {
  readonly pid: number;
  /** The daemon's process identity (pid and start time): a pid reused after a crash is not the daemon. */
  readonly identity: string | null;
  readonly socket: string;
  readonly url: string;
  readonly port: number;
  readonly version: string;
  readonly startedAt: string;
}

/** The lockfile's content, or null when there is none or it is unreadable. */
export function readLock(file: string): DaemonLock | null {
  try {
    const value = JSON.parse(readFileSync(file, 'utf8')) as DaemonLock;
    return Number.isInteger(value.pid) && typeof value.url === 'string' ? value : null;
  } catch {
    // Absent or half-written: no daemon is described there.
    return null;
  }
}

/** Writes the lockfile atomically (0600). */
export function writeLock(file: string, lock: DaemonLock): void {
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, `${JSON.stringify(lock, null, 2)}\n`, { mode: 0o600 });
  renameSync(temp, file);
}

/** Removes the lockfile and socket if they are still this process's. */
export function removeLock(paths: StatePaths, pid: number): void {
  if (readLock(paths.lock)?.pid !== pid) return;
  rmSync(paths.lock, { force: true });
  rmSync(paths.socket, { force: true });
}

/**
 * A caller's environment for the daemon, handed over through the state directory rather
 * than in a request: the API never takes variables (PATH, LD_PRELOAD...) over HTTP, where
 * anyone holding a token could choose what a service runs with. Only this user can write
 * the 0700 directory, so an id names an environment this user's own shell left there. The
 * daemon takes it once (read, then removed).
 */
export function leaveCallerEnv(dir: string, env: NodeJS.ProcessEnv): string {
  const id = randomBytes(16).toString('hex');
  const folder = path.join(dir, 'caller-env');
  mkdirSync(folder, { recursive: true, mode: 0o700 });
  sweepCallerEnvs(folder);
  const vars: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) vars[k] = v;
  writeFileSync(path.join(folder, `${id}.json`), JSON.stringify(vars), { mode: 0o600, flag: 'wx' });
  return id;
}

/**
 * How old an environment nobody took may get: one is taken within moments of being left,
 * so an older one was left by a berth up killed before it asked (it holds the user's
 * variables, secrets perhaps, and must not pile up).
 */
export const CALLER_ENV_STALE_MS = 10 * 60_000;

/** Removes the environments in `folder` older than CALLER_ENV_STALE_MS. */
function sweepCallerEnvs(folder: string): void {
  for (const name of readdirSync(folder)) {
    const file = path.join(folder, name);
    try {
      if (Date.now() - statSync(file).mtimeMs > CALLER_ENV_STALE_MS) rmSync(file, { force: true });
    } catch {
      // Taken (removed) by the daemon meanwhile.
    }
  }
}

/** The environment `id` names (see leaveCallerEnv), removed as it is read; a UsageError when there is none. */
export function takeCallerEnv(dir: string, id: string): Record<string, string> {
  if (!/^[0-9a-f]{32}$/.test(id)) throw new UsageError('callerEnv must be the id berth left in the state directory (32 hex digits).', { field: 'callerEnv' });
  const file = path.join(dir, 'caller-env', `${id}.json`);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new UsageError(`no caller environment ${id} in ${path.dirname(file)}: it is left there by berth up just before it asks, and taken once.`, { field: 'callerEnv' });
  } finally {
    rmSync(file, { force: true });
  }
  const value = JSON.parse(text) as Record<string, unknown>;
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) if (typeof v === 'string') env[k] = v;
  return env;
}

/** Removes an environment left for a request that was never made or failed before taking it. */
export function dropCallerEnv(dir: string, id: string): void {
  if (/^[0-9a-f]{32}$/.test(id)) rmSync(path.join(dir, 'caller-env', `${id}.json`), { force: true });
}

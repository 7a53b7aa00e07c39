/**
 * The library's composition root: builds a LocalEngine over the default store (SQLite at
 * BERTH_DB or the state directory, or a shared PostgreSQL registry when that is a
 * postgres:// URL) and this machine, and the scope-bound `Berth` face. The CLI opens its
 * engine through here too.
 */
import path from 'node:path';
import type { ScopeContext } from './engine/index.js';
import { LocalEngine } from './core/local-engine.js';
import { localMachine, type Machine } from './os/machine.js';
import { UsageError } from './errors.js';
import { DeferredStore } from './store/deferred.js';
import { isPostgresUrl, machineName, redactUrl } from './store/postgres/names.js';
import { defaultDbPath, openSqliteStore, SQLITE_HOST } from './store/sqlite-store.js';
import { retentionFromEnv } from './store/retention.js';
import { DEFAULT_RETENTION, type Store } from './store/store.js';
import { Berth } from './workflows/berth.js';
import type { PortWatchSources } from './workflows/port-watch.js';

/** How to open berth. Every field is optional; defaults follow the environment. */
export interface OpenOptions {
  /** Working directory for finding berth.yaml and the project (default process.cwd()). */
  readonly cwd?: string;
  /** Store file, or a postgres:// URL of a shared registry (default BERTH_DB, else $XDG_STATE_HOME/berth/berth.db). */
  readonly db?: string;
  /**
   * On a shared registry, the machine to act as (default BERTH_MACHINE, else the host
   * name). A SQLite store describes one machine only and refuses another name.
   */
  readonly machineName?: string;
  /** Config file (default BERTH_CONFIG, else berth.yaml found upward). */
  readonly config?: string;
  /** Scope (default BERTH_SCOPE, else the project name). */
  readonly scope?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** An already open store (another backend, or tests); closed with the engine. */
  readonly store?: Store;
  /** The machine to ask (default: this one). */
  readonly machine?: Machine;
}

/** The port check of `berth run`, read from `machine`. */
export function portSourcesOf(machine: Machine): PortWatchSources {
  return { listListeners: () => machine.listeners(), parentOf: (pid) => machine.processInfo(pid)?.ppid ?? null };
}

/** A LocalEngine over the store and machine `opts` name (defaults: BERTH_DB's store, this machine). */
export function openEngine(opts: OpenOptions = {}): LocalEngine {
  const env = opts.env ?? process.env;
  const store = opts.store ?? openStore(opts.db ?? (env.BERTH_DB || defaultDbPath(env)), env, opts.machineName);
  return new LocalEngine({ store, machine: opts.machine ?? localMachine, cwd: opts.cwd, env });
}

/**
 * The store `db` names: a shared PostgreSQL registry for a postgres:// URL (its driver
 * loaded, and the connection made, on the first transaction), else a SQLite file.
 */
function openStore(db: string, env: NodeJS.ProcessEnv, machine: string | undefined): Store {
  const retention = retentionFromEnv(env, DEFAULT_RETENTION);
  if (isPostgresUrl(db)) {
    const host = machine ?? machineName(env);
    if (host === '') throw new UsageError('the machine name is empty: give --machine NAME or BERTH_MACHINE a name.');
    const open = async () => (await import('./store/postgres/open.js')).openPostgresStore(db, { host, retention });
    return new DeferredStore({ kind: 'postgres', location: redactUrl(db), host }, open);
  }
  if (machine !== undefined && machine !== SQLITE_HOST) {
    throw new UsageError(`--machine ${machine}: a SQLite store describes this machine only. Acting for another machine needs a shared registry (--db postgres://...).`);
  }
  return openSqliteStore(db, { retention });
}

/** The scope context `opts` describe: scope from BERTH_SCOPE, config from BERTH_CONFIG when not given. */
export function contextOf(opts: OpenOptions = {}): ScopeContext {
  const env = opts.env ?? process.env;
  return {
    scope: opts.scope ?? (env.BERTH_SCOPE || undefined),
    dir: path.resolve(opts.cwd ?? process.cwd()),
    config: opts.config ?? (env.BERTH_CONFIG || undefined),
  };
}

/** Opens berth: the engine and the scope context, bound into one `Berth`. */
export async function openBerth(opts: OpenOptions = {}): Promise<Berth> {
  const engine = openEngine(opts);
  const berth = new Berth(engine, contextOf(opts), { portSources: portSourcesOf(opts.machine ?? localMachine) });
  try {
    // Fail now, not on the first call, when berth.yaml or the scope is invalid.
    await engine.project(berth.context);
  } catch (error) {
    await engine.close();
    throw error;
  }
  return berth;
}

/**
 * The library's composition root: builds a LocalEngine over the default store (SQLite at
 * BERTH_DB or the state directory) and this machine, and the scope-bound `Berth` face.
 * The CLI opens its engine through here too.
 */
import path from 'node:path';
import type { ScopeContext } from './engine/index.js';
import { LocalEngine } from './core/local-engine.js';
import { localMachine, type Machine } from './os/machine.js';
import { defaultDbPath, openSqliteStore } from './store/sqlite-store.js';
import { retentionFromEnv } from './store/retention.js';
import { DEFAULT_RETENTION, type Store } from './store/store.js';
import { Berth } from './workflows/berth.js';
import type { PortWatchSources } from './workflows/port-watch.js';

/** How to open berth. Every field is optional; defaults follow the environment. */
export interface OpenOptions {
  /** Working directory for finding berth.yaml and the project (default process.cwd()). */
  readonly cwd?: string;
  /** Store file (default BERTH_DB, else $XDG_STATE_HOME/berth/berth.db). */
  readonly db?: string;
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

/** A LocalEngine over the store and machine `opts` name (defaults: BERTH_DB's SQLite file, this machine). */
export function openEngine(opts: OpenOptions = {}): LocalEngine {
  const env = opts.env ?? process.env;
  const store = opts.store ?? openSqliteStore(opts.db ?? (env.BERTH_DB || defaultDbPath(env)), { retention: retentionFromEnv(env, DEFAULT_RETENTION) });
  return new LocalEngine({ store, machine: opts.machine ?? localMachine, cwd: opts.cwd, env });
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

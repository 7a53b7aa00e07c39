/**
 * The engine: the one interface the CLI, the server and the dashboard go through.
 * It binds a store, a config and a scope, and runs every operation in a store transaction.
 */
import path from 'node:path';
import { NotFoundError, RefusedError, UsageError } from '../errors.js';
import type { Lease } from '../types.js';
import { openSqliteStore, defaultDbPath } from '../store/sqlite-store.js';
import type { Store, StoreTx } from '../store/store.js';
import { claim, unavailableReason, type AllocContext, type Owner } from './allocate.js';
import { Exclusions, type PortOracle } from './availability.js';
import { loadConfig } from './config/load.js';
import type { BerthConfig, PoolConfig } from './config/types.js';
import { collectGarbage, type GcResult } from './gc.js';
import { osOracle, processIsAlive } from './os-oracle.js';
import { poolStatus, reserveSlot, type PoolStatus } from './pools.js';
import { checkLeaseName, checkScopeName, projectDir, resolveScope } from './scope.js';
import { applySnapshot, takeSnapshot, type ImportResult, type Snapshot } from './snapshot.js';
import { planFor, type AllocationRequest } from './strategy.js';

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
  /** An already open store (for another backend, or tests). */
  readonly store?: Store;
  /** The OS view of port availability (default: real bind probes). */
  readonly oracle?: PortOracle;
}

/** Options of one allocate call that are not about which port. */
export interface AllocateOptions {
  readonly ephemeral?: boolean;
  /** Owner pid of ephemeral leases. */
  readonly pid?: number;
  /** Lease a fixed port even if a process holds it. */
  readonly force?: boolean;
}

/** Which leases `list` shows. */
export interface ListFilter {
  /** Only this scope; default: every scope. */
  readonly scope?: string;
  readonly pool?: string;
}

/** The engine. Create it with {@link openBerth}; close it when done. */
export class Berth {
  constructor(
    readonly store: Store,
    readonly config: BerthConfig,
    /** The scope commands act for. */
    readonly scope: string,
    /** Whether the scope was named (--scope, BERTH_SCOPE) rather than derived. */
    readonly scopeExplicit: boolean,
    /** The directory the scope belongs to (for gc). */
    readonly directory: string,
    private readonly oracle: PortOracle,
  ) {}

  private context(tx: StoreTx): AllocContext {
    return {
      tx,
      host: this.store.host,
      scope: this.scope,
      oracle: this.oracle,
      exclusions: new Exclusions(this.config.reserved, this.oracle.ephemeralRange()),
    };
  }

  private owner(opts: AllocateOptions): Owner {
    if (!opts.ephemeral) return { ephemeral: false, pid: null };
    if (opts.pid === undefined || !Number.isInteger(opts.pid) || opts.pid < 1) {
      throw new UsageError('an ephemeral lease needs the pid that owns it: pass --pid PID (a whole number above 0).');
    }
    return { ephemeral: true, pid: opts.pid };
  }

  /**
   * Get-or-allocate: returns the scope's existing lease for each name, allocating the
   * missing ones. With no requests, every service in berth.yaml. All or none.
   */
  async allocate(requests?: readonly AllocationRequest[], opts: AllocateOptions = {}): Promise<Lease[]> {
    const reqs = requests && requests.length > 0 ? requests : this.config.services.map((s) => ({ name: s.name }));
    if (reqs.length === 0) {
      throw new UsageError('nothing to allocate: name the services (berth allocate web api), or list them under services: in berth.yaml.');
    }
    const seen = new Set<string>();
    const plans = reqs.map((req) => {
      checkLeaseName(req.name);
      if (seen.has(req.name)) throw new UsageError(`'${req.name}' is named twice.`);
      seen.add(req.name);
      const svc = this.config.services.find((s) => s.name === req.name) ?? null;
      return { name: req.name, plan: planFor(req, svc, this.config, this.scope) };
    });
    const owner = this.owner(opts);
    return this.store.transaction('write', async (tx) => {
      await tx.ensureScope(this.store.host, this.scope, this.directory);
      const ctx = this.context(tx);
      const leases: Lease[] = [];
      for (const { name, plan } of plans) {
        leases.push((await tx.getLease(ctx.host, this.scope, name)) ?? (await claim(ctx, name, plan, owner, opts.force)));
      }
      return leases;
    });
  }

  /** The scope's lease called `name`; NotFoundError when there is none. */
  async get(name: string): Promise<Lease> {
    const lease = await this.store.transaction('read', (tx) => tx.getLease(this.store.host, this.scope, name));
    if (!lease) throw new NotFoundError(`no lease '${name}' in scope ${this.scope}. Allocate one with \`berth allocate ${name}\`, or see \`berth list\`.`);
    return lease;
  }

  /** Releases the named leases of the scope, or with no names the whole scope. */
  async release(names?: readonly string[]): Promise<Lease[]> {
    return this.store.transaction('write', async (tx) => {
      const host = this.store.host;
      if (!names || names.length === 0) return tx.deleteScope(host, this.scope);
      const missing = [];
      for (const name of names) if (!(await tx.getLease(host, this.scope, name))) missing.push(name);
      if (missing.length > 0) {
        throw new NotFoundError(`no lease ${missing.map((n) => `'${n}'`).join(', ')} in scope ${this.scope}; nothing was released. See \`berth list --scope ${this.scope}\`.`);
      }
      const released: Lease[] = [];
      for (const name of names) released.push((await tx.deleteLease(host, this.scope, name))!);
      return released;
    });
  }

  /** Leases, every scope unless filtered. */
  async list(filter: ListFilter = {}): Promise<Lease[]> {
    if (filter.pool !== undefined) this.pool(filter.pool);
    const scope = filter.scope === undefined ? undefined : checkScopeName(filter.scope);
    return this.store.transaction('read', (tx) => tx.listLeases({ host: this.store.host, scope, pool: filter.pool }));
  }

  /** The pool called `name`, or the only pool when `name` is omitted. */
  pool(name?: string): PoolConfig {
    const pools = this.config.pools;
    const where = this.config.file ?? 'berth.yaml (none was found)';
    if (name === undefined) {
      if (pools.length === 1) return pools[0]!;
      throw new UsageError(
        pools.length === 0 ? `no pools are defined in ${where}; add one under pools:.` : `several pools are defined (${pools.map((p) => p.name).join(', ')}): pass --pool NAME.`,
      );
    }
    const pool = pools.find((p) => p.name === name);
    if (!pool) throw new UsageError(`unknown pool '${name}'. Pools in ${where}: ${pools.map((p) => p.name).join(', ') || 'none'}.`);
    return pool;
  }

  /** Reserves one whole slot of a pool for the scope (idempotent). */
  async reserve(poolName?: string, opts: AllocateOptions = {}): Promise<Lease[]> {
    const pool = this.pool(poolName);
    const owner = this.owner(opts);
    return this.store.transaction('write', async (tx) => {
      await tx.ensureScope(this.store.host, this.scope, this.directory);
      return reserveSlot(this.context(tx), pool, owner);
    });
  }

  /** Every pool with its slots used and free. */
  async pools(): Promise<PoolStatus[]> {
    return this.store.transaction('read', async (tx) => {
      const out: PoolStatus[] = [];
      for (const pool of this.config.pools) out.push(await poolStatus(tx, this.store.host, pool));
      return out;
    });
  }

  /** Moves the scope's lease `name` to `port`, which must be free (or held by a process, with force). */
  async reassign(name: string, port: number, force = false): Promise<Lease> {
    return this.store.transaction('write', async (tx) => {
      const ctx = this.context(tx);
      const lease = await tx.getLease(ctx.host, this.scope, name);
      if (!lease) throw new NotFoundError(`no lease '${name}' in scope ${this.scope}. See \`berth list\`.`);
      if (lease.port === port) return lease;
      const holder = await tx.leaseAt(ctx.host, lease.protocol, port);
      if (holder) {
        throw new RefusedError(`port ${port} is leased to ${holder.scope}/${holder.name}; ${this.scope}/${name} stays on ${lease.port}. Release that lease first or pick another port.`);
      }
      const reason = await unavailableReason(ctx, port, lease.protocol, true);
      if (reason === 'in-use' && !force) {
        throw new RefusedError(`port ${port} is in use by another process; ${this.scope}/${name} stays on ${lease.port}. See \`berth who ${port}\`, or pass --force.`);
      }
      if (reason === 'reserved' && !force) {
        throw new RefusedError(`port ${port} is reserved in ${this.config.file}; ${this.scope}/${name} stays on ${lease.port}. Pass --force to use it anyway.`);
      }
      return tx.updateLease(ctx.host, this.scope, name, { port });
    });
  }

  /** A snapshot of the whole store. */
  async exportSnapshot(): Promise<Snapshot> {
    return this.store.transaction('read', takeSnapshot);
  }

  /** Imports a snapshot, all or none. */
  async importSnapshot(snap: Snapshot, replace = false): Promise<ImportResult> {
    return this.store.transaction('write', (tx) => applySnapshot(tx, snap, replace));
  }

  /** Reclaims dead ephemeral leases and scopes whose directory is gone. */
  async gc(dryRun = false): Promise<GcResult> {
    return this.store.transaction(dryRun ? 'read' : 'write', (tx) => collectGarbage(tx, this.store.host, dryRun, processIsAlive));
  }

  /** Forgets every lease and scope. */
  async reset(): Promise<void> {
    await this.store.transaction('write', (tx) => tx.reset());
  }

  async close(): Promise<void> {
    await this.store.close();
  }
}

/** Opens the engine: reads the config, resolves the scope, opens the store. */
export async function openBerth(opts: OpenOptions = {}): Promise<Berth> {
  const env = opts.env ?? process.env;
  const cwd = path.resolve(opts.cwd ?? process.cwd());
  const config = await loadConfig(cwd, opts.config ?? (env.BERTH_CONFIG || undefined));
  const explicitScope = opts.scope ?? (env.BERTH_SCOPE || undefined);
  const scope = resolveScope(explicitScope, config, cwd);
  const store = opts.store ?? openSqliteStore(opts.db ?? (env.BERTH_DB || defaultDbPath(env)));
  return new Berth(store, config, scope, explicitScope !== undefined, projectDir(cwd, config), opts.oracle ?? osOracle);
}

/**
 * The engine: the one interface the CLI, the server and the dashboard go through.
 * It binds a store, a config and a scope, and runs every operation in a store transaction.
 */
import path from 'node:path';
import { NotFoundError, RefusedError, UsageError } from '../errors.js';
import type { Lease, Protocol } from '../types.js';
import { openSqliteStore, defaultDbPath } from '../store/sqlite-store.js';
import type { Store, StoreTx } from '../store/store.js';
import { checkNamedPort, claim, reuse, type AllocContext, type Owner } from './allocate.js';
import { Exclusions, type PortOracle } from './availability.js';
import { loadConfig } from '../config/load.js';
import type { BerthConfig, PoolConfig } from '../types.js';
import { collectGarbage, type GcResult } from './gc.js';
import { osOracle } from './os-oracle.js';
import { poolStatus, reserveSlot, type PoolStatus } from './pools.js';
import { checkLeaseName, checkScopeName, projectDir, resolveScope } from './scope.js';
import { applySnapshot, takeSnapshot, type ImportResult, type Snapshot } from './snapshot.js';
import { planFor, type AllocationRequest } from './strategy.js';
import { parsePort } from '../config/ports.js';
import {
  ListenerIndex,
  annotateListeners,
  findConflicts,
  findFreePorts,
  freeSearch,
  killPort,
  leaseStatus,
  liveParents,
  observeListeners,
  parseKillTarget,
  parseSignal,
  serviceOf,
  type Conflict,
  type FreeOptions,
  type FreeResult,
  type KillReport,
  type LeaseRef,
  type LeaseStatus,
  type PortEntry,
  type PortKillOptions,
  type RealityFilter,
  type WhoResult,
} from './reality/index.js';
import type { ComposeOverrideOptions, ComposeOverrideResult } from '../workflows/compose-build.js';
import { writeEnvOutput, type EnvFormat, type EnvOptions, type EnvWriteResult } from '../workflows/env-format.js';
import { serviceHost, urlHost } from '../wiring/hosts.js';
import { httpUrl } from '../wiring/http.js';
import { runLeased, type RunOptions, type RunOutcome } from '../workflows/run-leased.js';
import { listPoolUrls, scopeUrls, type PoolUrl, type ScopeUrl } from '../wiring/urls.js';
import { leaseVariables, type EnvVar } from '../wiring/variables.js';

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
    /**
     * The project directory the scope belongs to (gc releases the scope when it is gone);
     * null when the scope was named (--scope, BERTH_SCOPE): a named scope is not tied to
     * wherever the command happened to run.
     */
    readonly directory: string | null,
    private readonly oracle: PortOracle,
  ) {}

  /** Built once: the reserved list and the kernel's ephemeral range do not change under us. */
  private exclusionsCache: Exclusions | null = null;

  private context(tx: StoreTx): AllocContext {
    this.exclusionsCache ??= new Exclusions(this.config.reserved, this.oracle.ephemeralRange());
    return { tx, host: this.store.host, scope: this.scope, oracle: this.oracle, exclusions: this.exclusionsCache };
  }

  /**
   * Records the scope (and its directory) once per engine: after a write transaction that
   * did it commits, later allocations in the same process skip the lookup. Releasing the
   * whole scope forgets that it was recorded.
   */
  private scopeRecorded = false;

  private async ensureScope(tx: StoreTx): Promise<void> {
    if (this.scopeRecorded) return;
    await tx.ensureScope(this.store.host, this.scope, this.directory);
  }

  private owner(opts: AllocateOptions): Owner {
    if (!opts.ephemeral) return { ephemeral: false, pid: null };
    if (opts.pid === undefined || !Number.isInteger(opts.pid) || opts.pid < 1) {
      throw new UsageError('an ephemeral lease needs the pid that owns it: pass --pid PID (a whole number above 0).');
    }
    if (!this.oracle.isAlive(opts.pid)) {
      throw new UsageError(`pid ${opts.pid} is not running: an ephemeral lease needs a live owner (it would be reclaimed at once).`);
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
    const leases = await this.store.transaction('write', async (tx) => {
      await this.ensureScope(tx);
      const ctx = this.context(tx);
      const got: Lease[] = [];
      for (const { name, plan } of plans) {
        const existing = await tx.getLease(ctx.host, this.scope, name);
        got.push(existing ? await reuse(ctx, existing, plan, owner) : await claim(ctx, name, plan, owner, opts.force));
      }
      return got;
    });
    this.scopeRecorded = true;
    return leases;
  }

  /** The scope's lease called `name`; NotFoundError when there is none. */
  async get(name: string): Promise<Lease> {
    const lease = await this.store.transaction('read', (tx) => tx.getLease(this.store.host, this.scope, name));
    if (!lease) throw new NotFoundError(`no lease '${name}' in scope ${this.scope}. Allocate one with \`berth allocate ${name}\`, or see \`berth list\`.`);
    return lease;
  }

  /**
   * Releases the named leases of the scope, or with no names the whole scope. Naming one
   * role of a pool slot releases the whole slot: a slot is held all or none.
   */
  async release(names?: readonly string[]): Promise<Lease[]> {
    return this.store.transaction('write', async (tx) => {
      const host = this.store.host;
      if (!names || names.length === 0) {
        this.scopeRecorded = false;
        return tx.deleteScope(host, this.scope);
      }
      const named = new Map<string, Lease>();
      const missing: string[] = [];
      for (const name of new Set(names)) {
        const lease = await tx.getLease(host, this.scope, name);
        if (lease) named.set(name, lease);
        else missing.push(name);
      }
      if (missing.length > 0) {
        throw new NotFoundError(`no lease ${missing.map((n) => `'${n}'`).join(', ')} in scope ${this.scope}; nothing was released. See \`berth list --scope ${this.scope}\`.`);
      }
      const doomed = new Map(named);
      for (const lease of named.values()) {
        if (lease.pool === null) continue;
        for (const role of await tx.listLeases({ host, scope: this.scope, pool: lease.pool })) if (role.slot === lease.slot) doomed.set(role.name, role);
      }
      const released: Lease[] = [];
      for (const name of doomed.keys()) released.push((await tx.deleteLease(host, this.scope, name))!);
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
    const slot = await this.store.transaction('write', async (tx) => {
      await this.ensureScope(tx);
      return reserveSlot(this.context(tx), pool, owner);
    });
    this.scopeRecorded = true;
    return slot;
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
      if (lease.pool !== null) {
        throw new RefusedError(`${this.scope}/${name} is role ${name} of pool ${lease.pool} slot ${lease.slot}, whose ports the pool fixes; it stays on ${lease.port}. Release the slot and reserve another instead.`);
      }
      const holder = await tx.leaseAt(ctx.host, lease.protocol, port);
      if (holder) {
        throw new RefusedError(`port ${port} is leased to ${holder.scope}/${holder.name}; ${this.scope}/${name} stays on ${lease.port}. Release that lease first or pick another port.`);
      }
      await checkNamedPort(ctx, port, lease.protocol, force, `${this.scope}/${name} (it stays on ${lease.port})`);
      return tx.updateLease(ctx.host, this.scope, name, { port });
    });
  }

  /** A snapshot of the whole store. */
  async exportSnapshot(): Promise<Snapshot> {
    return this.store.transaction('read', takeSnapshot);
  }

  /** Imports a snapshot, all or none. */
  async importSnapshot(snap: Snapshot, replace = false): Promise<ImportResult> {
    return this.store.transaction('write', (tx) => applySnapshot(tx, snap, replace, this.store.host));
  }

  /** Reclaims dead ephemeral leases and scopes whose directory is gone. */
  async gc(dryRun = false): Promise<GcResult> {
    return this.store.transaction(dryRun ? 'read' : 'write', (tx) => collectGarbage(tx, this.store.host, dryRun, (pid) => this.oracle.isAlive(pid)));
  }

  /** Forgets every lease and scope. */
  async reset(): Promise<void> {
    await this.store.transaction('write', (tx) => tx.reset());
  }

  // Reality: what the OS says, against the registry.

  /**
   * Every holder of `port`: each process holding the socket (a child that inherited it
   * too), with address, user and the container that publishes it; and the lease (any
   * scope) that owns the port. Empty holders and a null lease mean nobody has it.
   */
  async who(port: number, protocol: Protocol = 'tcp'): Promise<WhoResult> {
    parsePort(port);
    const [holders, lease] = await Promise.all([
      observeListeners({ port, protocol, everyHolder: true }),
      this.store.transaction('read', (tx) => tx.leaseAt(this.store.host, protocol, port)),
    ]);
    return { port, protocol, lease, holders };
  }

  /** Every listener on the machine, each with the lease (any scope) of its port when berth knows it. */
  async ports(opts: { readonly protocol?: Protocol } = {}): Promise<PortEntry[]> {
    const [listeners, leases] = await Promise.all([observeListeners({ protocol: opts.protocol }), this.store.transaction('read', (tx) => tx.listLeases({ host: this.store.host }))]);
    return annotateListeners(listeners, leases);
  }

  /**
   * The scope's leases (every scope with `all`), each with its live state: `listening`
   * by the expected holder, `idle`, or `foreign`. See leaseStatus.
   */
  async status(filter: RealityFilter = {}): Promise<LeaseStatus[]> {
    return (await this.observeLeases(filter)).statuses;
  }

  /**
   * Every conflict between registry, berth.yaml and reality for the scope's leases (every
   * scope with `all`) and berth.yaml's fixed ports. See findConflicts.
   */
  async check(filter: RealityFilter = {}): Promise<Conflict[]> {
    const seen = await this.observeLeases(filter);
    return findConflicts({
      ...seen,
      services: this.config.services,
      scope: this.scope,
      configFile: this.config.file,
      isAlive: (pid: number) => this.oracle.isAlive(pid),
    });
  }

  private async observeLeases(filter: RealityFilter) {
    const [listeners, allLeases] = await Promise.all([observeListeners(), this.store.transaction('read', (tx) => tx.listLeases({ host: this.store.host }))]);
    const listenersIndex = new ListenerIndex(listeners);
    const parentOf = liveParents();
    const leases = filter.all ? allLeases : allLeases.filter((l) => l.scope === this.scope);
    const statuses = leases.map((l) => leaseStatus(l, serviceOf(l, this.config, this.scope), listenersIndex.at(l.protocol, l.port), parentOf));
    return { statuses, allLeases, listeners: listenersIndex, parentOf };
  }

  /**
   * The first `count` ports that are free in the registry and the OS, by allocation's own
   * rules (reserved, browser-unsafe and ephemeral-range ports skipped); takes no lease.
   * ExhaustedError when there are fewer.
   */
  async free(opts: FreeOptions = {}): Promise<FreeResult> {
    const search = freeSearch(opts, this.config.base);
    return this.store.transaction('read', (tx) => findFreePorts(this.context(tx), search));
  }

  /**
   * Kills what listens on a port: `target` is `:PORT`, `PORT` or a lease name of the scope.
   * Every holder gets `signal` (SIGTERM), survivors SIGKILL after `graceMs`; then a bind
   * probe says whether the port is free. All or none: RefusedError when any holder is pid
   * 1, berth, an ancestor of berth, a container's port proxy (the message names the
   * container's stop command) or another user's process without `force`; NotFoundError
   * when nothing listens.
   */
  async kill(target: string | number, opts: PortKillOptions = {}): Promise<KillReport> {
    const aim = typeof target === 'number' ? { port: parsePort(target) } : parseKillTarget(target);
    const signal = parseSignal(opts.signal ?? 'SIGTERM');
    const graceMs = opts.graceMs;
    if (graceMs !== undefined && (!Number.isInteger(graceMs) || graceMs < 0)) throw new UsageError(`invalid grace ${String(graceMs)}: give whole milliseconds, 0 or more.`);
    let port: number;
    let protocol: Protocol;
    let lease: LeaseRef | null = null;
    if ('lease' in aim) {
      const held = await this.get(aim.lease);
      ({ port, protocol } = held);
      lease = { scope: held.scope, name: held.name };
    } else {
      port = aim.port;
      protocol = opts.protocol ?? 'tcp';
      const held = await this.store.transaction('read', (tx) => tx.leaseAt(this.store.host, protocol, port));
      if (held) lease = { scope: held.scope, name: held.name };
    }
    return killPort({ port, protocol, lease, signal, graceMs, force: opts.force, isFree: (p, proto) => this.oracle.isFree(p, proto) });
  }

  // Wiring: the files and environments services read.

  /** The scope's leases, in store order (pool slot, then port). */
  async scopeLeases(): Promise<Lease[]> {
    return this.store.transaction('read', (tx) => tx.listLeases({ host: this.store.host, scope: this.scope }));
  }

  /**
   * The scope's environment variables: `<NAME>_PORT` per lease (or the service's `env:`),
   * pool roles alike, and with `urls` also `<NAME>_URL` for services that speak HTTP, with
   * the host from `host`, else BERTH_HOST, else localhost. See leaseVariables.
   */
  async env(opts: EnvOptions = {}): Promise<EnvVar[]> {
    return leaseVariables(await this.scopeLeases(), this.config.services, { urls: opts.urls, host: urlHost(opts.host) });
  }

  /**
   * Writes the scope's variables to `file` atomically: `dotenv` (the default) merges into
   * the existing file, keeping every other line; other formats replace it. See writeEnvOutput.
   */
  async writeEnv(file: string, opts: EnvOptions & { readonly format?: EnvFormat } = {}): Promise<EnvWriteResult> {
    return writeEnvOutput(file, opts.format ?? 'dotenv', await this.env(opts));
  }

  /**
   * Service discovery: `http://HOST:PORT` for the scope's lease `name`, with HOST the first
   * non-empty of `opts.host`, `<NAME>_HOST` (e.g. `API_HOST` for `api`), `BERTH_HOST`, else
   * `localhost`, read from `opts.env` (default process.env). NotFoundError when there is no
   * such lease (nothing is allocated).
   */
  async url(name: string, opts: { readonly host?: string; readonly env?: NodeJS.ProcessEnv } = {}): Promise<string> {
    const lease = await this.get(name);
    return httpUrl(opts.host ?? serviceHost(name, opts.env ?? process.env), lease.port);
  }

  /** The scope's URLs: HTTP services' base URLs and its pool slots' `urls:` templates. See scopeUrls. */
  async urls(opts: { readonly host?: string } = {}): Promise<ScopeUrl[]> {
    return scopeUrls(await this.scopeLeases(), this.config.services, this.config.pools, { host: urlHost(opts.host) });
  }

  /**
   * Every URL a pool's `urls:` templates produce, in slot order: every slot of a bounded
   * pool, the held slots of an open-ended one. UsageError for an unknown pool. See listPoolUrls.
   */
  async poolUrls(poolName?: string): Promise<PoolUrl[]> {
    const pool = this.pool(poolName);
    const holders = await this.store.transaction('read', (tx) => tx.poolSlots(this.store.host, pool.name));
    return listPoolUrls(pool, new Map(holders.map((h) => [h.slot, h.scope])));
  }

  /**
   * A docker compose override that publishes each compose service's ports on the scope's
   * leased host ports (`ports: !override`), optionally leasing uncovered ports first
   * (`allocate`, all or none) and writing the file. The compose file is looked for in
   * `dirs` (default: the current directory, then the project directory).
   */
  async composeOverride(opts: ComposeOverrideOptions = {}): Promise<ComposeOverrideResult> {
    const dirs = opts.dirs && opts.dirs.length > 0 ? opts.dirs : [process.cwd(), ...(this.directory ? [this.directory] : [])];
    // Loaded on demand: the YAML library costs ~30 ms of start-up that only compose work needs.
    const { buildComposeOverride } = await import('../workflows/compose-build.js');
    return buildComposeOverride(this, { ...opts, dirs });
  }

  /**
   * Hands the scope's ephemeral leases `names` to pid `to`, each only if `from` owns it or
   * its owner is dead; returns the leases handed over. One transaction.
   */
  async handOver(names: readonly string[], from: number, to: number): Promise<Lease[]> {
    this.owner({ ephemeral: true, pid: to });
    return this.store.transaction('write', async (tx) => {
      const moved: Lease[] = [];
      for (const name of names) {
        const lease = await tx.getLease(this.store.host, this.scope, name);
        if (!lease || !lease.ephemeral) continue;
        if (lease.pid !== from && lease.pid !== null && this.oracle.isAlive(lease.pid)) continue;
        moved.push(await tx.updateLease(this.store.host, this.scope, name, { pid: to }));
      }
      return moved;
    });
  }

  /** Releases the scope's ephemeral leases `names` that one of `pids` owns; returns them. */
  async releaseEphemeral(names: readonly string[], pids: readonly number[]): Promise<Lease[]> {
    return this.store.transaction('write', async (tx) => {
      const released: Lease[] = [];
      for (const name of names) {
        const lease = await tx.getLease(this.store.host, this.scope, name);
        if (!lease || !lease.ephemeral || lease.pid === null || !pids.includes(lease.pid)) continue;
        released.push((await tx.deleteLease(this.store.host, this.scope, name))!);
      }
      return released;
    });
  }

  /**
   * Runs `command args` with the scope's ports in its environment (`berth run`): see
   * runLeased. Resolves with the command's outcome whatever its exit status.
   */
  async run(command: string, args: readonly string[], opts: RunOptions = {}): Promise<RunOutcome> {
    return runLeased(this, command, args, opts);
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
  return new Berth(store, config, scope, explicitScope !== undefined, explicitScope !== undefined ? null : projectDir(cwd, config), opts.oracle ?? osOracle);
}

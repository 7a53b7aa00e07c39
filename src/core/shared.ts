/**
 * What every service of the LocalEngine shares: the store, the machine, context
 * resolution, and the few things worth computing once per engine.
 */
import { createHash } from 'node:crypto';
import { ConflictError, NotFoundError, UsageError } from '../errors.js';
import type { ProjectInfo, ScopeContext } from '../engine/index.js';
import type { Machine } from '../os/machine.js';
import type { Store, StoreTx, WriteIntent } from '../store/store.js';
import type { EventAction, PoolConfig, PortRange } from '../types.js';
import type { AllocContext, Owner } from './allocate.js';
import { Exclusions } from './availability.js';
import { poolPortIndex } from './pools.js';
import { checkContext, type ProjectResolver } from './project.js';
import { checkName } from './validate.js';
import { didYouMean } from './suggest.js';

/** The engine's shared state. One per LocalEngine; services hold a reference. */
export class EngineCore {
  /** Read once: the kernel's ephemeral range does not change under a running engine. */
  private ephemeral: PortRange | null | undefined;

  constructor(
    readonly store: Store,
    readonly machine: Machine,
    private readonly resolver: ProjectResolver,
    readonly env: NodeJS.ProcessEnv,
  ) {}

  /** The machine (port namespace) this engine allocates on. */
  get host(): string {
    return this.store.host;
  }

  /**
   * The context resolved, with a scope derived from a directory made unique to that
   * directory: two repositories' `denver` worktrees must not share one scope (one port
   * set, and a gc after deleting one would free the other's ports). The first directory
   * keeps the plain name (so scopes stored before stay theirs); another directory whose
   * name is already a different directory's scope gets `NAME@HASH` of its path, for good.
   */
  async resolve(ctx: ScopeContext | undefined): Promise<ProjectInfo> {
    const info = await this.resolver.resolve(ctx ?? {});
    if (info.explicit || info.config.project !== null || info.directory === null) return info;
    const directory = info.directory;
    const own = directoryScope(info.scope, directory);
    const [plain, hashed] = await this.store.transaction('read', async (tx) => [await tx.getScope(this.host, info.scope), await tx.getScope(this.host, own)] as const);
    // Once a directory has its own NAME@HASH it keeps it, even after the plain name is freed.
    if (hashed !== null) return { ...info, scope: own };
    if (plain === null || plain.directory === null || plain.directory === directory) return info;
    return { ...info, scope: own };
  }

  /** What a write records in the history: its action, and who asked (the context's actor, else this process). */
  intent(ctx: ScopeContext | undefined, action: EventAction): WriteIntent {
    return ctx?.actor === undefined ? { action } : { action, actor: ctx.actor };
  }

  /** Checks a context that a machine-wide call does not need to resolve. */
  check(ctx: ScopeContext | undefined): void {
    checkContext(ctx ?? {});
  }

  /**
   * Static exclusions for allocations in `project`: berth.yaml's reserved ports, the
   * kernel's ephemeral range, and the ports of every pool (berth.yaml's and those recorded
   * by reserves in any project of this machine), which only their pool hands out.
   */
  exclusions(project: ProjectInfo): Promise<Exclusions> {
    return this.store.transaction('read', (tx) => this.exclusionsIn(tx, project));
  }

  /** exclusions() read in a transaction the caller already holds (an allocation's read phase: one transaction fewer). */
  async exclusionsIn(tx: StoreTx, project: ProjectInfo): Promise<Exclusions> {
    if (this.ephemeral === undefined) this.ephemeral = this.machine.ephemeralRange();
    const { config } = project;
    const recorded = await tx.listPools(this.host);
    const names = new Set(config.pools.map((p) => p.name));
    const poolPorts = await poolPortIndex(tx, this.host, [...config.pools, ...recorded.filter((p) => !names.has(p.name))]);
    return new Exclusions(config.reserved, this.ephemeral, poolPorts);
  }

  /** Everything one allocation transaction needs. */
  allocContext(tx: StoreTx, project: ProjectInfo, exclusions: Exclusions): AllocContext {
    return { tx, host: this.host, scope: project.scope, machine: this.machine, exclusions };
  }

  /** The owner of new leases: sticky, or ephemeral with a live pid. */
  owner(opts: { readonly ephemeral?: boolean; readonly pid?: number }): Owner {
    if (!opts.ephemeral) return { ephemeral: false, pid: null };
    if (opts.pid === undefined || !Number.isInteger(opts.pid) || opts.pid < 1) {
      throw new UsageError('an ephemeral lease needs the pid that owns it: pass --pid PID (a whole number above 0).');
    }
    if (opts.pid === 1) {
      throw new UsageError('pid 1 (init) never exits, so an ephemeral lease it owned would never be reclaimed: name the process that uses the port, or leave out --ephemeral for a sticky lease.');
    }
    if (!this.machine.isAlive(opts.pid)) {
      throw new UsageError(`pid ${opts.pid} is not running: an ephemeral lease needs a live owner (it would be reclaimed at once).`);
    }
    return { ephemeral: true, pid: opts.pid };
  }

  /**
   * Records the scope and its directory in `tx`, and returns the project to write for (a
   * derived scope whose plain name another directory took meanwhile becomes NAME@HASH).
   * Every write asks (one primary-key lookup): another process or engine may have released
   * the scope since this one last wrote it, and a lease must never outlive its scope row
   * (gc finds directories there).
   */
  async recordScope(tx: StoreTx, project: ProjectInfo): Promise<ProjectInfo> {
    const scope = await tx.ensureScope(this.host, project.scope, project.directory);
    if (!project.explicit && project.config.project === null && project.directory !== null && scope.directory !== null && scope.directory !== project.directory) {
      // Another directory of the same name recorded the plain name between resolve and this
      // write (two first runs at once): this directory takes its own NAME@HASH, as resolve would now.
      const own = { ...project, scope: directoryScope(project.scope, project.directory) };
      await tx.ensureScope(this.host, own.scope, own.directory);
      return own;
    }
    if (project.explicit && project.directory !== null && scope.directory !== project.directory) {
      // --dir on a scope already tied elsewhere: moving it silently would let gc free ports of the wrong directory.
      throw new ConflictError(
        `scope ${project.scope} is tied to ${scope.directory}, not ${project.directory}. ` +
          `Release it first (berth release --scope ${project.scope}) to tie it to another directory, or leave out --dir.`,
        { scope: project.scope, directory: scope.directory },
      );
    }
    return project;
  }

  /**
   * The pool called `name` (or the only pool when omitted): berth.yaml's definition, else
   * the one recorded in the store when a slot was reserved (so pools work from any
   * directory). UsageError when unknown.
   */
  async pool(project: ProjectInfo, name?: string): Promise<PoolConfig> {
    const pools = project.config.pools;
    const where = project.config.file ?? 'berth.yaml (none was found)';
    if (name === undefined) {
      if (pools.length === 1) return pools[0]!;
      throw new UsageError(
        pools.length === 0 ? `no pools are defined in ${where}; add one under pools:, or name a pool with --pool NAME.` : `several pools are defined (${pools.map((p) => p.name).join(', ')}): pass --pool NAME.`,
      );
    }
    const configured = pools.find((p) => p.name === name);
    if (configured) return configured;
    const recorded = await this.store.transaction('read', (tx) => tx.getPool(this.host, name));
    if (recorded) return recorded;
    const names = new Set(pools.map((p) => p.name));
    const others = (await this.recordedPools()).map((p) => p.name).filter((n) => !names.has(n));
    throw new UsageError(
      `unknown pool '${name}'. Pools in ${where}: ${[...names].join(', ') || 'none'}` +
        `${others.length > 0 ? `; recorded by earlier reserves: ${others.join(', ')}` : ''}.`,
      { pool: name },
    );
  }

  /** Pools recorded in the store for this machine. */
  recordedPools(): Promise<PoolConfig[]> {
    return this.store.transaction('read', (tx) => tx.listPools(this.host));
  }

  /**
   * Why a lease of `scope` named in `names` is missing here when it is another machine's on
   * a shared registry (' Machine B holds …'), else ''. Asked only on the not-found path.
   */
  async elsewhere(tx: StoreTx, scope: string, names: readonly string[]): Promise<string> {
    const theirs = (await tx.listLeases({ scope })).filter((l) => l.host !== this.host && names.includes(l.name));
    if (theirs.length === 0) return '';
    const hosts = [...new Set(theirs.map((l) => l.host))].sort();
    return ` ${hosts.length === 1 ? `Machine ${hosts[0]} holds` : `Machines ${hosts.join(', ')} hold`} ${theirs.length === 1 ? 'a lease' : 'leases'} of that name on this shared registry, read-only from here: berth changes only this machine's (${this.host}) leases, since only this machine's ports and processes can be checked. Run the command on ${hosts.join(' or ')}.`;
  }

  /** The scope's lease `name`, or NotFoundError saying how to get one. */
  async lease(project: ProjectInfo, name: string) {
    checkName(name);
    const [lease, others, elsewhere] = await this.store.transaction('read', async (tx) => {
      const lease = await tx.getLease(this.host, project.scope, name);
      return [lease, await tx.listLeases({ host: this.host, scope: project.scope }), lease ? '' : await this.elsewhere(tx, project.scope, [name])] as const;
    });
    if (!lease) {
      if (elsewhere !== '') throw new NotFoundError(`no lease '${name}' in scope ${project.scope} on this machine.${elsewhere}`, { scope: project.scope, name });
      const flag = project.explicit ? ` --scope ${project.scope}` : '';
      const hint = didYouMean(name, others.map((l) => l.name));
      throw new NotFoundError(`no lease '${name}' in scope ${project.scope}.${hint} Allocate one with \`berth allocate ${name}${flag}\`, or see \`berth list${flag}\`.`, {
        scope: project.scope,
        name,
      });
    }
    return lease;
  }
}

/** `NAME@HASH`: a derived scope name made unique to its directory (8 hex digits of the path's SHA-256). */
export function directoryScope(name: string, directory: string): string {
  return `${name}@${createHash('sha256').update(directory).digest('hex').slice(0, 8)}`;
}

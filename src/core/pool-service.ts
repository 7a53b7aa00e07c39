/**
 * Pools as an engine service: reserve a whole slot, the status of every pool, URL lists.
 * A reserve records the pool's definition in the store, so later calls work from any
 * directory, not only where berth.yaml is.
 */
import type { PoolStatus, PoolsApi, ReserveOptions, ScopeContext } from '../engine/index.js';
import type { Lease, PoolConfig, PoolUrl } from '../types.js';
import { listPoolUrls } from '../wiring/urls.js';
import { DEFAULT_RANGES } from '../config/categories.js';
import { poolStatus, reserveSlot } from './pools.js';
import type { EngineCore } from './shared.js';

/** The pool operations of the LocalEngine. */
export class PoolService implements PoolsApi {
  constructor(private readonly core: EngineCore) {}

  async reserve(ctx: ScopeContext, opts: ReserveOptions = {}): Promise<Lease[]> {
    const project = await this.core.resolve(ctx);
    const pool = await this.core.pool(project, opts.pool);
    const owner = this.core.owner(opts);
    const exclusions = await this.core.exclusions(project);
    const slot = await this.core.store.transaction(
      'write',
      async (tx) => {
        const mine = await this.core.recordScope(tx, project);
        const saved = await tx.getPool(this.core.host, pool.name);
        if (saved === null || JSON.stringify(saved) !== JSON.stringify(pool)) await tx.savePool(this.core.host, pool);
        // A fallback band of its own (fallback_range:), else the dynamic category's.
        const band = project.config.ranges.dynamic ?? DEFAULT_RANGES.dynamic!;
        return reserveSlot(this.core.allocContext(tx, mine, exclusions), pool, owner, band);
      },
      this.core.intent(ctx, 'reserve'),
    );
    return slot;
  }

  async status(ctx: ScopeContext): Promise<PoolStatus[]> {
    const project = await this.core.resolve(ctx);
    const pools = await this.known(ctx);
    const exclusions = await this.core.exclusions(project);
    return this.core.store.transaction('read', async (tx) => {
      const out: PoolStatus[] = [];
      for (const pool of pools) out.push(await poolStatus(this.core.allocContext(tx, project, exclusions), pool));
      return out;
    });
  }

  async urls(ctx: ScopeContext, name?: string): Promise<PoolUrl[]> {
    const pool = await this.definition(ctx, name);
    const holders = await this.core.store.transaction('read', (tx) => tx.poolSlots(this.core.host, pool.name));
    return listPoolUrls(pool, new Map(holders.map((h) => [h.slot, h.scope])));
  }

  async definition(ctx: ScopeContext, name?: string): Promise<PoolConfig> {
    return this.core.pool(await this.core.resolve(ctx), name);
  }

  /** berth.yaml's pools, then pools recorded by earlier reserves that berth.yaml does not define. */
  async known(ctx: ScopeContext): Promise<PoolConfig[]> {
    const project = await this.core.resolve(ctx);
    const configured = project.config.pools;
    const names = new Set(configured.map((p) => p.name));
    return [...configured, ...(await this.core.recordedPools()).filter((p) => !names.has(p.name))];
  }
}

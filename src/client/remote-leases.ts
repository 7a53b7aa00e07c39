/**
 * Leases and pools over the daemon's API: each engine call is one route of the table.
 */
import type { AllocateOptions, AllocationRequest, LeasesApi, ListFilter, PoolsApi, PoolStatus, ReassignOptions, ReserveOptions, ScopeContext } from '../engine/index.js';
import { FROM_CONTEXT } from '../http/routes.js';
import type { Lease, PoolConfig, PoolUrl } from '../types.js';
import { requestOnWire, type Wire } from './wire.js';

/** A `{pool}` path parameter: the pool named, or `-` for berth.yaml's only one. */
const poolParam = (pool: string | undefined): string => (pool === undefined ? FROM_CONTEXT : String(pool));

/** The lease operations of the RemoteEngine. */
export class RemoteLeases implements LeasesApi {
  constructor(private readonly wire: Wire) {}

  allocate(ctx: ScopeContext, requests?: readonly AllocationRequest[], opts: AllocateOptions = {}): Promise<Lease[]> {
    const onWire = Array.isArray(requests) ? requests.map(requestOnWire) : requests;
    return this.wire.call('leases.allocate', ctx, { scope: 'path', body: { requests: onWire, ephemeral: opts.ephemeral, pid: opts.pid, force: opts.force } });
  }

  get(ctx: ScopeContext, name: string): Promise<Lease> {
    return this.wire.call('leases.get', ctx, { scope: 'path', params: { name: String(name) } });
  }

  release(ctx: ScopeContext, names?: readonly string[]): Promise<Lease[]> {
    return this.wire.call('leases.release', ctx, { scope: 'path', body: { names } });
  }

  list(ctx: ScopeContext, filter: ListFilter = {}): Promise<Lease[]> {
    return this.wire.call('leases.list', ctx, { query: { scope: filter.scope, pool: filter.pool, allMachines: filter.allMachines } });
  }

  reassign(ctx: ScopeContext, name: string, port: number | null, opts: ReassignOptions = {}): Promise<Lease> {
    return this.wire.call('leases.reassign', ctx, { scope: 'path', params: { name: String(name) }, body: { ...(port === null ? { next: true } : { port }), force: opts.force, dryRun: opts.dryRun } });
  }

  handOver(ctx: ScopeContext, names: readonly string[], from: number, to: number): Promise<Lease[]> {
    return this.wire.call('leases.handOver', ctx, { scope: 'path', body: { names, from, to } });
  }

  releaseOwned(ctx: ScopeContext, names: readonly string[], pids: readonly number[]): Promise<Lease[]> {
    return this.wire.call('leases.releaseOwned', ctx, { scope: 'path', body: { names, pids } });
  }
}

/** The pool operations of the RemoteEngine. */
export class RemotePools implements PoolsApi {
  constructor(private readonly wire: Wire) {}

  reserve(ctx: ScopeContext, opts: ReserveOptions = {}): Promise<Lease[]> {
    return this.wire.call('pools.reserve', ctx, { scope: 'body', params: { pool: poolParam(opts.pool) }, body: { ephemeral: opts.ephemeral, pid: opts.pid } });
  }

  status(ctx: ScopeContext): Promise<PoolStatus[]> {
    return this.wire.call('pools.status', ctx);
  }

  urls(ctx: ScopeContext, pool?: string): Promise<PoolUrl[]> {
    return this.wire.call('pools.urls', ctx, { params: { pool: poolParam(pool) } });
  }

  definition(ctx: ScopeContext, name?: string): Promise<PoolConfig> {
    return this.wire.call('pools.definition', ctx, { params: { pool: poolParam(name) } });
  }
}

/**
 * A full pool's fallback (`fallback: hash`): the Conductor script gave a workspace stable
 * hash-based ports when no port set was free. berth leases every role a port in the
 * fallback band, starting at a hash of scope and role (the same scope gets the same ports
 * back), marked as the pool's with no slot; a later reserve moves them into a slot.
 */
import { ExhaustedError } from '../errors.js';
import type { Lease, PoolConfig, PortRange } from '../types.js';
import { formatRange } from '../config/ports.js';
import { candidatePorts, unavailableReason, type AllocContext, type Owner } from './allocate.js';
import { stableHash } from './strategy.js';

/** Whether `leases` (a scope's leases of one pool) are fallback ports rather than a slot. */
export function onFallback(leases: readonly Lease[]): boolean {
  return leases.length > 0 && leases.every((l) => l.slot === null);
}

/**
 * Leases every role of `pool` a free port of its `fallback_range` (else `dynamic`, the
 * dynamic category's band), walking up (and around) from the
 * stable hash of `scope/role`. All or none: the caller's transaction rolls back on an
 * ExhaustedError.
 */
export async function leaseFallback(ctx: AllocContext, pool: PoolConfig, dynamic: PortRange, owner: Owner): Promise<Lease[]> {
  // A fallback_range named in berth.yaml may lie in the kernel's ephemeral range, as a --range may.
  const explicit = pool.fallbackRange != null;
  const band = pool.fallbackRange ?? dynamic;
  const leases: Lease[] = [];
  for (const role of pool.roles) {
    const port = await hashPort(ctx, pool, band, role, explicit);
    if (port === null) {
      throw new ExhaustedError(
        `pool ${pool.name} has no free slot, and its fallback band ${formatRange(band)} has no free port for ${role}. ` +
          `Release a slot or a fallback scope, or widen fallback_range in berth.yaml.`,
        { pool: pool.name, range: formatRange(band) },
      );
    }
    leases.push(
      await ctx.tx.insertLease({
        host: ctx.host,
        scope: ctx.scope,
        name: role,
        port,
        protocol: pool.protocol,
        purpose: `pool ${pool.name} fallback (no slot was free)`,
        pool: pool.name,
        slot: null,
        // No slot was free: the port was hashed into the fallback band.
        strategy: 'hash',
        ephemeral: owner.ephemeral,
        pid: owner.pid,
      }),
    );
  }
  return leases;
}

/** The first claimable port of `band` from the hash of scope and role, wrapping once. */
async function hashPort(ctx: AllocContext, pool: PoolConfig, band: PortRange, role: string, explicit: boolean): Promise<number | null> {
  const at = band.start + (stableHash(`${ctx.scope}/${pool.name}/${role}`) % (band.end - band.start + 1));
  for (const [from, to] of [[at, band.end], [band.start, at - 1]] as const) {
    for (const port of candidatePorts(ctx.exclusions, explicit, from, to)) {
      // Never another pool's port, nor this pool's own slots (ownPool null): those stay for slots.
      if ((await unavailableReason(ctx, port, pool.protocol, explicit, null)) === null) return port;
    }
  }
  return null;
}

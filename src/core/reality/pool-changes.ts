/**
 * `berth check` on pools: slots held while berth.yaml changed the pool under them (`slots:`
 * lowered, base ports or sets moved). Their leases keep the ports they hold; the check says
 * which ones no longer match, so "-6 free of 5" never hides a held set.
 */
import type { Conflict } from '../../engine/index.js';
import type { Lease, PoolConfig } from '../../types.js';
import { slotCount, slotPorts } from '../../wiring/pool-slots.js';

/** One conflict per held pool lease whose port is not berth.yaml's for its slot and role. */
export function poolSlotChanges(pools: readonly PoolConfig[], leases: readonly Lease[]): Conflict[] {
  const out: Conflict[] = [];
  for (const pool of pools) {
    for (const lease of leases) {
      if (lease.pool !== pool.name || lease.slot === null) continue;
      const configured = slotPorts(pool, lease.slot);
      const now = configured?.[lease.name];
      if (configured !== null && now === lease.port) continue;
      const what =
        configured === null
          ? `berth.yaml now defines ${slotCount(pool)} slot(s), so slot ${lease.slot} is no longer one of them`
          : now === undefined
            ? `pool ${pool.name} has no role ${lease.name} any more`
            : `berth.yaml now puts slot ${lease.slot}'s ${lease.name} on ${now}`;
      out.push({
        kind: 'pool-slot-changed',
        port: lease.port,
        protocol: lease.protocol,
        message:
          `${lease.scope}/${lease.name} holds port ${lease.port} as ${lease.name} of pool ${pool.name} slot ${lease.slot}, but ${what}. ` +
          `Release the slot (berth release --scope ${lease.scope}) and reserve again, or restore the pool in berth.yaml.`,
        lease: { scope: lease.scope, name: lease.name },
        services: [],
        holders: [],
      });
    }
  }
  return out;
}

/**
 * The order people read a scope's wiring in: berth.yaml's, not the store's.
 */
import type { Lease, PoolConfig, ServiceConfig } from '../types.js';

/**
 * Leases in berth.yaml order: services by their place in `services:`, then each pool's
 * leases slot by slot with roles in the pool's order, then the rest in the given order.
 */
export function configOrder(leases: readonly Lease[], services: readonly ServiceConfig[], pools: readonly PoolConfig[]): Lease[] {
  const serviceAt = new Map(services.map((s, i) => [s.name, i]));
  const rank = (l: Lease, i: number): [number, number, number, number] => {
    if (l.pool === null) {
      const at = serviceAt.get(l.name);
      return at === undefined ? [2, 0, 0, i] : [0, at, 0, i];
    }
    const p = pools.findIndex((x) => x.name === l.pool);
    const role = p < 0 ? i : pools[p]!.roles.indexOf(l.name);
    return [1, p < 0 ? pools.length : p, l.slot ?? -1, role < 0 ? i : role];
  };
  return leases
    .map((l, i) => ({ l, key: rank(l, i) }))
    .sort((a, b) => a.key[0] - b.key[0] || a.key[1] - b.key[1] || a.key[2] - b.key[2] || a.key[3] - b.key[3])
    .map((x) => x.l);
}

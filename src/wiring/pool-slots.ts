/**
 * Pool geometry: which ports slot k of a pool has. Pure: allocation, status and URL
 * templates all read slots through here.
 */
import type { PoolConfig } from '../types.js';

/** How many slots a pool has, or null when it is open-ended. */
export function slotCount(pool: PoolConfig): number | null {
  return pool.kind === 'sets' ? pool.sets.length : pool.slots;
}

/** Role -> port of slot `k`, or null when the pool has no such slot. */
export function slotPorts(pool: PoolConfig, k: number): Record<string, number> | null {
  if (pool.kind === 'sets') return pool.sets[k] ?? null;
  if (pool.slots !== null && k >= pool.slots) return null;
  const ports: Record<string, number> = {};
  for (const role of pool.roles) {
    const port = pool.ports[role]! + k * pool.step;
    if (port > 65535) return null;
    ports[role] = port;
  }
  return ports;
}

/**
 * Leases set against listeners: which leases are in use, by whom, and which are held by
 * someone else. Pure.
 */
import type { Lease, Listener, Protocol } from '../../types.js';
import type { BerthConfig, ServiceConfig } from '../../types.js';
import { expectationOf, holderMatches, isComposeHolder, type ParentOf } from './expect.js';
import type { LeaseRef, LeaseStatus, PortEntry } from '../../engine/index.js';

const key = (protocol: Protocol, port: number): string => `${protocol}/${port}`;

/** Listeners grouped by protocol and port. */
export class ListenerIndex {
  private readonly byPort = new Map<string, Listener[]>();

  constructor(listeners: readonly Listener[]) {
    for (const l of listeners) {
      const list = this.byPort.get(key(l.protocol, l.port));
      if (list) list.push(l);
      else this.byPort.set(key(l.protocol, l.port), [l]);
    }
  }

  /** Everyone listening on exactly this port and protocol. */
  at(protocol: Protocol, port: number): readonly Listener[] {
    return this.byPort.get(key(protocol, port)) ?? [];
  }
}

/**
 * The service of berth.yaml a lease stands for: a lease of the config's own scope with a
 * service's name, outside any pool. Null for every other lease.
 */
export function serviceOf(lease: Lease, config: Pick<BerthConfig, 'services'>, scope: string): ServiceConfig | null {
  if (lease.scope !== scope || lease.pool !== null) return null;
  return config.services.find((s) => s.name === lease.name) ?? null;
}

/**
 * A lease's live state: `idle` when nobody listens on its port, `foreign` when anyone who
 * listens is neither the expected holder nor the lease's own compose container, else
 * `listening`.
 */
export function leaseStatus(lease: Lease, service: ServiceConfig | null, holders: readonly Listener[], parentOf: ParentOf): LeaseStatus {
  const expected = expectationOf(lease, service);
  const foreign = holders.filter((h) => !holderMatches(expected, h, parentOf) && !isComposeHolder(lease, service, h));
  const state = holders.length === 0 ? 'idle' : foreign.length > 0 ? 'foreign' : 'listening';
  return { lease, state, expected, holders, foreign };
}

/** Every listener, each with the lease (any scope) that owns its port, if berth knows one. */
export function annotateListeners(listeners: readonly Listener[], leases: readonly Lease[]): PortEntry[] {
  const owners = new Map<string, LeaseRef>();
  for (const l of leases) owners.set(key(l.protocol, l.port), { scope: l.scope, name: l.name });
  return listeners.map((l) => ({ ...l, lease: owners.get(key(l.protocol, l.port)) ?? null }));
}

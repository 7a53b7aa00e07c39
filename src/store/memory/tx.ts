/**
 * The StoreTx over the memory store's tables, for one transaction. It does what the SQLite
 * schema and statements do: the same uniqueness, the same errors, the same orders, one
 * event per changed lease.
 */
import type { EventChange, Lease, NewLease, PoolConfig, Protocol, RegistryEvent, Scope } from '../../types.js';
import { actionFor, actorFor, ownerPidOf } from '../events.js';
import { isLeasable, nameTaken, noLease, notLeasable, portTaken } from '../lease-errors.js';
import type { EventQuery, LeaseChanges, LeaseFilter, SlotHolder, StoreTx, WriteIntent } from '../store.js';
import { listEvents } from './events.js';
import { compareLeases, compareScopes, compareText } from './order.js';
import { keyOf, type MemoryState } from './state.js';

/** One transaction's view of the tables; made per transaction, as it carries the write's intent. */
export class MemoryTx implements StoreTx {
  constructor(
    private readonly state: MemoryState,
    private readonly intent: WriteIntent | undefined,
  ) {}

  async getLease(host: string, scope: string, name: string): Promise<Lease | null> {
    const lease = this.state.leases.get(keyOf(host, scope, name));
    return lease ? { ...lease } : null;
  }

  async leaseAt(host: string, protocol: Protocol, port: number): Promise<Lease | null> {
    const lease = this.holderOf(host, protocol, port);
    return lease ? { ...lease } : null;
  }

  private holderOf(host: string, protocol: Protocol, port: number): Lease | undefined {
    const key = this.state.ports.get(keyOf(host, protocol, port));
    return key === undefined ? undefined : this.state.leases.get(key);
  }

  async listLeases(filter: LeaseFilter = {}): Promise<Lease[]> {
    const out: Lease[] = [];
    for (const lease of this.state.leases.values()) {
      if (filter.host !== undefined && lease.host !== filter.host) continue;
      if (filter.scope !== undefined && lease.scope !== filter.scope) continue;
      if (filter.pool !== undefined && lease.pool !== filter.pool) continue;
      if (filter.protocol !== undefined && lease.protocol !== filter.protocol) continue;
      out.push({ ...lease });
    }
    return out.sort(compareLeases);
  }

  async insertLease(lease: NewLease): Promise<Lease> {
    const { host, scope, name, port, protocol, purpose, pool, slot, strategy, ephemeral, pid } = lease;
    const key = keyOf(host, scope, name);
    const byName = this.state.leases.get(key);
    if (byName) throw nameTaken(scope, name, byName.port);
    const byPort = this.holderOf(host, protocol, port);
    if (byPort) throw portTaken(port, protocol, byPort);
    if (!isLeasable(port, protocol)) throw notLeasable(port, protocol);
    const now = new Date().toISOString();
    // Field by field, as SQLite stores them: whatever else the object carries is not kept.
    const made: Lease = { host, scope, name, port, protocol, purpose, pool, slot, strategy, ephemeral, pid, createdAt: now, updatedAt: now };
    this.state.put(this.state.leases, key, made);
    this.state.put(this.state.ports, keyOf(host, protocol, port), key);
    this.record('created', made, null, now);
    return { ...made };
  }

  async updateLease(host: string, scope: string, name: string, changes: LeaseChanges): Promise<Lease> {
    const key = keyOf(host, scope, name);
    const before = this.state.leases.get(key);
    if (!before) throw noLease(scope, name);
    const port = changes.port ?? before.port;
    const moved = port !== before.port;
    if (moved) {
      const holder = this.holderOf(host, before.protocol, port);
      if (holder) throw portTaken(port, before.protocol, holder);
      if (!isLeasable(port, before.protocol)) throw notLeasable(port, before.protocol);
    }
    const now = new Date().toISOString();
    const after: Lease = {
      ...before,
      port,
      purpose: changes.purpose !== undefined ? changes.purpose : before.purpose,
      strategy: changes.strategy !== undefined ? changes.strategy : before.strategy,
      ephemeral: changes.ephemeral ?? before.ephemeral,
      pid: changes.pid !== undefined ? changes.pid : before.pid,
      updatedAt: now,
    };
    this.state.put(this.state.leases, key, after);
    if (moved) {
      this.state.remove(this.state.ports, keyOf(host, before.protocol, before.port));
      this.state.put(this.state.ports, keyOf(host, before.protocol, port), key);
      this.lowerHints(host, before.protocol, before.port);
    }
    this.record(moved ? 'moved' : 'updated', after, moved ? before.port : null, now);
    return { ...after };
  }

  async deleteLease(host: string, scope: string, name: string): Promise<Lease | null> {
    const key = keyOf(host, scope, name);
    const lease = this.state.leases.get(key);
    if (!lease) return null;
    this.state.remove(this.state.leases, key);
    this.state.remove(this.state.ports, keyOf(host, lease.protocol, lease.port));
    this.lowerHints(host, lease.protocol, lease.port);
    this.record('deleted', lease, null, new Date().toISOString());
    return { ...lease };
  }

  /** Lowers every hint of (host, protocol) that starts at or below `port` and points above it. */
  private lowerHints(host: string, protocol: Protocol, port: number): void {
    for (const [key, hint] of this.state.hints) {
      if (hint.host === host && hint.protocol === protocol && hint.start <= port && hint.next > port) {
        this.state.put(this.state.hints, key, { ...hint, next: port });
      }
    }
  }

  private record(change: EventChange, lease: Lease, oldPort: number | null, time: string): void {
    const { host, scope, name, port, protocol, pool, slot } = lease;
    this.state.addEvent({
      time,
      host,
      action: actionFor(this.intent, change),
      change,
      scope,
      name,
      port,
      protocol,
      pool,
      slot,
      oldPort,
      ownerPid: ownerPidOf(lease),
      actor: { ...actorFor(this.intent) },
    });
  }

  async poolSlots(host: string, pool: string): Promise<SlotHolder[]> {
    const holders = new Map<string, SlotHolder>();
    for (const lease of this.state.leases.values()) {
      if (lease.host !== host || lease.pool !== pool || lease.slot === null) continue;
      holders.set(keyOf(lease.slot, lease.scope), { slot: lease.slot, scope: lease.scope });
    }
    return [...holders.values()].sort((a, b) => a.slot - b.slot || compareText(a.scope, b.scope));
  }

  async getScope(host: string, name: string): Promise<Scope | null> {
    const scope = this.state.scopes.get(keyOf(host, name));
    return scope ? { ...scope } : null;
  }

  async ensureScope(host: string, name: string, directory: string | null): Promise<Scope> {
    const key = keyOf(host, name);
    const scope = this.state.scopes.get(key);
    if (!scope) this.state.put(this.state.scopes, key, { host, name, directory, createdAt: new Date().toISOString() });
    else if (scope.directory === null && directory !== null) this.state.put(this.state.scopes, key, { ...scope, directory });
    return { ...this.state.scopes.get(key)! };
  }

  async listScopes(host?: string): Promise<Scope[]> {
    const scopes = [...this.state.scopes.values()].filter((s) => host === undefined || s.host === host);
    return scopes.map((s) => ({ ...s })).sort(compareScopes);
  }

  async deleteScope(host: string, name: string): Promise<Lease[]> {
    const leases = await this.listLeases({ host, scope: name });
    for (const lease of leases) await this.deleteLease(host, name, lease.name);
    this.state.remove(this.state.scopes, keyOf(host, name));
    return leases;
  }

  async getScanHint(host: string, protocol: Protocol, start: number): Promise<number | null> {
    return this.state.hints.get(keyOf(host, protocol, start))?.next ?? null;
  }

  async setScanHint(host: string, protocol: Protocol, start: number, next: number): Promise<void> {
    this.state.put(this.state.hints, keyOf(host, protocol, start), { host, protocol, start, next });
  }

  async listEvents(query: EventQuery = {}): Promise<RegistryEvent[]> {
    return listEvents(this.state.events, query);
  }

  async lastEventId(): Promise<number> {
    return this.state.lastEventId;
  }

  async savePool(host: string, pool: PoolConfig): Promise<void> {
    this.state.put(this.state.pools, keyOf(host, pool.name), { host, name: pool.name, definition: JSON.stringify(pool) });
  }

  async getPool(host: string, name: string): Promise<PoolConfig | null> {
    const row = this.state.pools.get(keyOf(host, name));
    return row ? (JSON.parse(row.definition) as PoolConfig) : null;
  }

  async listPools(host: string): Promise<PoolConfig[]> {
    const rows = [...this.state.pools.values()].filter((p) => p.host === host).sort((a, b) => compareText(a.name, b.name));
    return rows.map((row) => JSON.parse(row.definition) as PoolConfig);
  }

  async reset(host: string): Promise<void> {
    const now = new Date().toISOString();
    const leases = (await this.listLeases({ host })).sort((a, b) => compareText(a.scope, b.scope) || compareText(a.name, b.name));
    for (const lease of leases) {
      this.state.remove(this.state.leases, keyOf(host, lease.scope, lease.name));
      this.state.remove(this.state.ports, keyOf(host, lease.protocol, lease.port));
      this.record('deleted', lease, null, now);
    }
    const { scopes, hints, pools } = this.state;
    for (const [key, scope] of scopes) if (scope.host === host) this.state.remove(scopes, key);
    for (const [key, hint] of hints) if (hint.host === host) this.state.remove(hints, key);
    for (const [key, pool] of pools) if (pool.host === host) this.state.remove(pools, key);
  }
}

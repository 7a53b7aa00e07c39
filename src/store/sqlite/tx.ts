/**
 * The StoreTx over one SQLite connection, for one transaction. Calls are synchronous
 * underneath; every change to a lease row records its event with the transaction's intent.
 */
import type { Lease, NewLease, PoolConfig, Protocol, RegistryEvent, Scope } from '../../types.js';
import { nameTaken, noLease, notLeasable, portTaken } from '../lease-errors.js';
import type { EventQuery, LeaseChanges, LeaseFilter, SlotHolder, StoreTx, WriteIntent } from '../store.js';
import { listEvents, recordEvent } from './events.js';
import { hasCode } from './files.js';
import { toLease, toScope, type LeaseRow, type ScopeRow } from '../rows.js';
import type { AdhocStatements, FixedStatements } from './statements.js';

const isConstraint = (err: unknown) => hasCode(err, 'SQLITE_CONSTRAINT');

/** One transaction's view of the connection; made per transaction, as it carries the write's intent. */
export class SqliteTx implements StoreTx {
  constructor(
    private readonly st: FixedStatements,
    private readonly adhoc: AdhocStatements,
    private readonly intent: WriteIntent | undefined,
  ) {}

  async getLease(host: string, scope: string, name: string): Promise<Lease | null> {
    const row = this.st.getLease.get(host, scope, name);
    return row ? toLease(row) : null;
  }

  async leaseAt(host: string, protocol: Protocol, port: number): Promise<Lease | null> {
    const row = this.st.leaseAt.get(host, protocol, port);
    return row ? toLease(row) : null;
  }

  async listLeases(filter: LeaseFilter = {}): Promise<Lease[]> {
    const where: string[] = [];
    const args: unknown[] = [];
    for (const key of ['host', 'scope', 'pool', 'protocol'] as const) {
      const value = filter[key];
      if (value !== undefined) {
        where.push(`${key} = ?`);
        args.push(value);
      }
    }
    const sql = `SELECT * FROM leases ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
                 ORDER BY host, scope, pool IS NOT NULL, pool, slot, port`;
    return this.adhoc.get<LeaseRow>(sql).all(...args).map(toLease);
  }

  async insertLease(lease: NewLease): Promise<Lease> {
    const now = new Date().toISOString();
    const { host, scope, name, port, protocol, purpose, pool, slot, strategy, ephemeral, pid } = lease;
    const row: LeaseRow = { host, scope, name, port, protocol, purpose, pool, slot, strategy, ephemeral: ephemeral ? 1 : 0, pid, created_at: now, updated_at: now };
    try {
      this.st.insertLease.run(host, scope, name, port, protocol, purpose, pool, slot, strategy, ephemeral ? 1 : 0, pid, now, now);
    } catch (err) {
      if (isConstraint(err)) throw this.conflictFor(lease);
      throw err;
    }
    recordEvent(this.st, this.intent, 'created', row, null, now);
    return { host, scope, name, port, protocol, purpose, pool, slot, strategy, ephemeral, pid, createdAt: now, updatedAt: now };
  }

  /** Why an insert hit a constraint, in words a person can act on. */
  private conflictFor(lease: NewLease): Error {
    const byName = this.st.getLease.get(lease.host, lease.scope, lease.name);
    if (byName) return nameTaken(lease.scope, lease.name, byName.port);
    return this.portConflict(lease.host, lease.protocol, lease.port);
  }

  /** The lease holding the port; none means the schema's CHECK refused the port or protocol. */
  private portConflict(host: string, protocol: Protocol, port: number): Error {
    const holder = this.st.leaseAt.get(host, protocol, port);
    return holder ? portTaken(port, protocol, holder) : notLeasable(port, protocol);
  }

  async updateLease(host: string, scope: string, name: string, changes: LeaseChanges): Promise<Lease> {
    const before = this.st.getLease.get(host, scope, name);
    if (!before) throw noLease(scope, name);
    const now = new Date().toISOString();
    const sets: string[] = ['updated_at = ?'];
    const args: unknown[] = [now];
    const set = (column: string, value: unknown) => (sets.push(`${column} = ?`), args.push(value));
    if (changes.port !== undefined) set('port', changes.port);
    if (changes.purpose !== undefined) set('purpose', changes.purpose);
    if (changes.strategy !== undefined) set('strategy', changes.strategy);
    if (changes.ephemeral !== undefined) set('ephemeral', changes.ephemeral ? 1 : 0);
    if (changes.pid !== undefined) set('pid', changes.pid);
    try {
      this.adhoc.get(`UPDATE leases SET ${sets.join(', ')} WHERE host = ? AND scope = ? AND name = ?`).run(...args, host, scope, name);
    } catch (err) {
      if (isConstraint(err)) throw this.portConflict(host, before.protocol, changes.port ?? before.port);
      throw err;
    }
    const after = this.st.getLease.get(host, scope, name)!;
    const moved = after.port !== before.port;
    if (moved) this.st.lowerHints.run({ host, protocol: before.protocol, port: before.port });
    recordEvent(this.st, this.intent, moved ? 'moved' : 'updated', after, moved ? before.port : null, now);
    return toLease(after);
  }

  async deleteLease(host: string, scope: string, name: string): Promise<Lease | null> {
    const row = this.st.getLease.get(host, scope, name);
    if (!row) return null;
    this.st.deleteLease.run(host, scope, name);
    this.st.lowerHints.run({ host, protocol: row.protocol, port: row.port });
    recordEvent(this.st, this.intent, 'deleted', row, null, new Date().toISOString());
    return toLease(row);
  }

  async poolSlots(host: string, pool: string): Promise<SlotHolder[]> {
    return this.st.poolSlots.all(host, pool);
  }

  async getScope(host: string, name: string): Promise<Scope | null> {
    const row = this.st.getScope.get(host, name);
    return row ? toScope(row) : null;
  }

  async ensureScope(host: string, name: string, directory: string | null): Promise<Scope> {
    const row = this.st.getScope.get(host, name);
    if (!row) this.st.insertScope.run(host, name, directory, new Date().toISOString());
    else if (row.directory === null && directory !== null) this.st.setScopeDir.run(directory, host, name);
    return toScope(this.st.getScope.get(host, name)!);
  }

  async listScopes(host?: string): Promise<Scope[]> {
    const rows = host === undefined
      ? this.adhoc.get<ScopeRow>('SELECT * FROM scopes ORDER BY host, name').all()
      : this.adhoc.get<ScopeRow>('SELECT * FROM scopes WHERE host = ? ORDER BY name').all(host);
    return rows.map(toScope);
  }

  async deleteScope(host: string, name: string): Promise<Lease[]> {
    const leases = await this.listLeases({ host, scope: name });
    for (const lease of leases) await this.deleteLease(host, name, lease.name);
    this.st.deleteScope.run(host, name);
    return leases;
  }

  async getScanHint(host: string, protocol: Protocol, start: number): Promise<number | null> {
    return this.st.getHint.get(host, protocol, start)?.next ?? null;
  }

  async setScanHint(host: string, protocol: Protocol, start: number, next: number): Promise<void> {
    this.st.setHint.run(host, protocol, start, next);
  }

  async listEvents(query: EventQuery = {}): Promise<RegistryEvent[]> {
    return listEvents(this.adhoc, query);
  }

  async lastEventId(): Promise<number> {
    return this.st.lastEventId.get()!;
  }

  async savePool(host: string, pool: PoolConfig): Promise<void> {
    this.st.savePool.run(host, pool.name, JSON.stringify(pool), new Date().toISOString());
  }

  async getPool(host: string, name: string): Promise<PoolConfig | null> {
    const definition = this.st.getPool.get(host, name);
    return definition === undefined ? null : (JSON.parse(definition) as PoolConfig);
  }

  async listPools(host: string): Promise<PoolConfig[]> {
    return this.st.listPools.all(host).map((definition) => JSON.parse(definition) as PoolConfig);
  }

  async reset(host: string): Promise<void> {
    const now = new Date().toISOString();
    for (const row of this.st.hostLeases.all(host)) recordEvent(this.st, this.intent, 'deleted', row, null, now);
    this.st.resetHost.run(host);
    this.st.resetScopes.run(host);
    this.st.resetHints.run(host);
    this.st.resetPools.run(host);
  }
}

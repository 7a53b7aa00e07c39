/**
 * The StoreTx over one PostgreSQL connection, for one transaction. Every change to a lease
 * row notes its event in the transaction's EventBuffer, recorded before COMMIT; a read of
 * the history inside a write records them first, so the write sees its own events.
 */
import type pg from 'pg';
import type { Lease, NewLease, PoolConfig, Protocol, RegistryEvent, Scope } from '../../types.js';
import { isLeasable, nameTaken, noLease, notLeasable, portTaken } from '../lease-errors.js';
import type { EventQuery, LeaseChanges, LeaseFilter, SlotHolder, StoreTx, WriteIntent } from '../store.js';
import { EventBuffer, lastPgEventId, listPgEvents } from './events.js';
import { pgCode } from './errors.js';
import type { PgSession } from './session.js';
import { toLease, toScope, type LeaseRow, type ScopeRow } from '../rows.js';
import { HINT_WINDOW, Seen } from './recall.js';

/** unique_violation and check_violation: the row breaks a rule the schema enforces. */
const isConstraint = (err: unknown) => pgCode(err) === '23505' || pgCode(err) === '23514';

/**
 * A scan hint ($1 host, $2 protocol, $3 start) and the leases of the $4 ports from where a
 * walk would begin, in one statement: one row with the hint alone when none is leased.
 * The window's bounds are scalar subqueries, computed once before the scan, so they are
 * always the bounds of its index range. Written as join conditions on the hint's row, the
 * session's generic plan (made once, from the statistics of a young registry) read every
 * lease of the machine and filtered them: 3,000 rows a call, which halved the registry's
 * throughput with 32 clients whenever a session had planned it so.
 */
export const hintWindowSql = (s: string): string =>
  `WITH h AS (SELECT max(next) AS hint FROM ${s}.scan_hints WHERE host = $1 AND protocol = $2 AND start = $3)
   SELECT h.hint, l.* FROM h LEFT JOIN ${s}.leases l ON l.host = $1 AND l.protocol = $2
     AND l.port >= (SELECT GREATEST(COALESCE(hint, $3), $3) FROM h) AND l.port < (SELECT GREATEST(COALESCE(hint, $3), $3) FROM h) + $4`;

/** One transaction's view of its connection. `s` is the quoted schema name. */
export class PgTx implements StoreTx {
  readonly events: EventBuffer;
  /**
   * A read-only transaction's answers so far (REPEATABLE READ: one snapshot, so an answer
   * once read stays the answer; a guess's store remembers them, recall.ts). Null in a
   * write, whose reads must see its own writes and the latest rows.
   */
  readonly seen: Seen | null;
  /**
   * Whether this transaction wrote a lease, a scan hint or a pool of a machine: what a
   * guess reads (recall.ts), so what raises the machine's version. Scopes are not among
   * them: claim() checks a scope's directory itself.
   */
  changed = false;

  constructor(
    private readonly session: PgSession,
    private readonly s: string,
    intent: WriteIntent | undefined,
    readOnly = false,
  ) {
    this.events = new EventBuffer(intent);
    this.seen = readOnly ? new Seen() : null;
  }

  /** Runs a statement of the transaction (see PgSession). */
  private async rows<R extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<R[]> {
    return this.session.query<R>(text, values);
  }

  private async leaseRow(host: string, scope: string, name: string): Promise<LeaseRow | undefined> {
    return (await this.rows<LeaseRow>(`SELECT * FROM ${this.s}.leases WHERE host = $1 AND scope = $2 AND name = $3`, [host, scope, name]))[0];
  }

  private async leaseRowAt(host: string, protocol: Protocol, port: number): Promise<LeaseRow | undefined> {
    return (await this.rows<LeaseRow>(`SELECT * FROM ${this.s}.leases WHERE host = $1 AND protocol = $2 AND port = $3`, [host, protocol, port]))[0];
  }

  async getLease(host: string, scope: string, name: string): Promise<Lease | null> {
    const row = await this.leaseRow(host, scope, name);
    const lease = row ? toLease(row) : null;
    this.seen?.setLease(host, scope, name, lease);
    return lease;
  }

  async leaseAt(host: string, protocol: Protocol, port: number): Promise<Lease | null> {
    const known = this.seen?.leaseAt(host, protocol, port);
    if (known !== undefined) return known;
    const row = await this.leaseRowAt(host, protocol, port);
    const lease = row ? toLease(row) : null;
    this.seen?.setLeaseAt(host, protocol, port, lease);
    return lease;
  }

  /** This machine's version (machines.version: raised by every write of the machine), 0 before its first write. */
  async machineVersion(host: string): Promise<number> {
    const rows = await this.rows<{ version: string | null }>(`SELECT (SELECT version FROM ${this.s}.machines WHERE host = $1) AS version`, [host]);
    return Number(rows[0]?.version ?? 0);
  }

  async listLeases(filter: LeaseFilter = {}): Promise<Lease[]> {
    const where: string[] = [];
    const args: unknown[] = [];
    for (const key of ['host', 'scope', 'pool', 'protocol'] as const) {
      const value = filter[key];
      if (value !== undefined) where.push(`${key} = $${args.push(value)}`);
    }
    // NULLS FIRST on slot as SQLite orders NULL first.
    const sql = `SELECT * FROM ${this.s}.leases ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
                 ORDER BY host, scope, pool IS NOT NULL, pool NULLS FIRST, slot NULLS FIRST, port`;
    return (await this.rows<LeaseRow>(sql, args)).map(toLease);
  }

  async insertLease(lease: NewLease): Promise<Lease> {
    this.changed = true;
    const now = new Date().toISOString();
    const { host, scope, name, port, protocol, purpose, pool, slot, strategy, ephemeral, pid } = lease;
    const row: LeaseRow = { host, scope, name, port, protocol, purpose, pool, slot, strategy, ephemeral, pid, created_at: now, updated_at: now };
    // The schema's CHECKs, checked first: a refused statement would abort the transaction,
    // whose caller may go on (try the next port), as it can on SQLite. ON CONFLICT DO
    // NOTHING does the same for the unique keys, without the cost of a savepoint.
    if (!isLeasable(port, protocol)) throw notLeasable(port, protocol);
    const inserted = await this.rows(
      `INSERT INTO ${this.s}.leases (host, scope, name, port, protocol, purpose, pool, slot, strategy, ephemeral, pid, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) ON CONFLICT DO NOTHING RETURNING 1 AS one`,
      [host, scope, name, port, protocol, purpose, pool, slot, strategy, ephemeral, pid, now, now],
    );
    if (inserted.length === 0) throw await this.conflictFor(lease);
    this.events.add('created', row, null, now);
    return { host, scope, name, port, protocol, purpose, pool, slot, strategy, ephemeral, pid, createdAt: now, updatedAt: now };
  }

  /** Runs one statement that may break a unique key in a savepoint, so that the transaction survives its refusal. */
  private async guarded<T>(statement: () => Promise<T>): Promise<T> {
    await this.rows('SAVEPOINT berth_row');
    try {
      const result = await statement();
      await this.rows('RELEASE SAVEPOINT berth_row');
      return result;
    } catch (err) {
      await this.rows('ROLLBACK TO SAVEPOINT berth_row');
      throw err;
    }
  }

  /** Why an insert hit a constraint, in words a person can act on. */
  private async conflictFor(lease: NewLease): Promise<Error> {
    const byName = await this.leaseRow(lease.host, lease.scope, lease.name);
    if (byName) return nameTaken(lease.scope, lease.name, byName.port);
    return this.portConflict(lease.host, lease.protocol, lease.port);
  }

  /** The lease holding the port; none means the schema's CHECK refused the port or protocol. */
  private async portConflict(host: string, protocol: Protocol, port: number): Promise<Error> {
    const holder = await this.leaseRowAt(host, protocol, port);
    return holder ? portTaken(port, protocol, holder) : notLeasable(port, protocol);
  }

  async updateLease(host: string, scope: string, name: string, changes: LeaseChanges): Promise<Lease> {
    this.changed = true;
    const before = await this.leaseRow(host, scope, name);
    if (!before) throw noLease(scope, name);
    const now = new Date().toISOString();
    const args: unknown[] = [now];
    const sets: string[] = ['updated_at = $1'];
    const set = (column: string, value: unknown) => sets.push(`${column} = $${args.push(value)}`);
    if (changes.port !== undefined) set('port', changes.port);
    if (changes.purpose !== undefined) set('purpose', changes.purpose);
    if (changes.strategy !== undefined) set('strategy', changes.strategy);
    if (changes.ephemeral !== undefined) set('ephemeral', changes.ephemeral);
    if (changes.pid !== undefined) set('pid', changes.pid);
    if (changes.port !== undefined && !isLeasable(changes.port, before.protocol)) throw notLeasable(changes.port, before.protocol);
    const at = args.length;
    const update = () =>
      this.rows<LeaseRow>(
        `UPDATE ${this.s}.leases SET ${sets.join(', ')} WHERE host = $${at + 1} AND scope = $${at + 2} AND name = $${at + 3} RETURNING *`,
        [...args, host, scope, name],
      );
    let after: LeaseRow;
    try {
      // Only a move can break a unique key: only a move pays for a savepoint.
      after = (changes.port !== undefined ? await this.guarded(update) : await update())[0]!;
    } catch (err) {
      if (isConstraint(err)) throw await this.portConflict(host, before.protocol, changes.port ?? before.port);
      throw err;
    }
    const moved = after.port !== before.port;
    if (moved) await this.lowerHints(host, before.protocol, before.port);
    this.events.add(moved ? 'moved' : 'updated', after, moved ? before.port : null, now);
    return toLease(after);
  }

  private async lowerHints(host: string, protocol: Protocol, port: number): Promise<void> {
    await this.rows(`UPDATE ${this.s}.scan_hints SET next = $3 WHERE host = $1 AND protocol = $2 AND start <= $3 AND next > $3`, [host, protocol, port]);
  }

  async deleteLease(host: string, scope: string, name: string): Promise<Lease | null> {
    this.changed = true;
    const row = (await this.rows<LeaseRow>(`DELETE FROM ${this.s}.leases WHERE host = $1 AND scope = $2 AND name = $3 RETURNING *`, [host, scope, name]))[0];
    if (!row) return null;
    await this.lowerHints(host, row.protocol, row.port);
    this.events.add('deleted', row, null, new Date().toISOString());
    return toLease(row);
  }

  async poolSlots(host: string, pool: string): Promise<SlotHolder[]> {
    const slots = await this.rows<SlotHolder>(
      `SELECT DISTINCT slot, scope FROM ${this.s}.leases WHERE host = $1 AND pool = $2 AND slot IS NOT NULL ORDER BY slot, scope`,
      [host, pool],
    );
    this.seen?.setSlots(host, pool, slots);
    return slots;
  }

  async getScope(host: string, name: string): Promise<Scope | null> {
    const row = (await this.rows<ScopeRow>(`SELECT * FROM ${this.s}.scopes WHERE host = $1 AND name = $2`, [host, name]))[0];
    return row ? toScope(row) : null;
  }

  async ensureScope(host: string, name: string, directory: string | null): Promise<Scope> {
    // One round trip for what is nearly always a scope already there, unchanged: insert it,
    // or fill in a directory it lacked, else read it; a row is written only when it changes.
    const [row] = await this.rows<ScopeRow>(
      `WITH changed AS (
         INSERT INTO ${this.s}.scopes AS s (host, name, directory, created_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (host, name) DO UPDATE SET directory = excluded.directory
           WHERE s.directory IS NULL AND excluded.directory IS NOT NULL
         RETURNING *)
       SELECT * FROM changed
       UNION ALL SELECT * FROM ${this.s}.scopes WHERE host = $1 AND name = $2 AND NOT EXISTS (SELECT 1 FROM changed)`,
      [host, name, directory, new Date().toISOString()],
    );
    // None: another transaction made the scope after this statement's snapshot was taken.
    return toScope(row ?? (await this.rows<ScopeRow>(`SELECT * FROM ${this.s}.scopes WHERE host = $1 AND name = $2`, [host, name]))[0]!);
  }

  async listScopes(host?: string): Promise<Scope[]> {
    const rows = host === undefined
      ? await this.rows<ScopeRow>(`SELECT * FROM ${this.s}.scopes ORDER BY host, name`)
      : await this.rows<ScopeRow>(`SELECT * FROM ${this.s}.scopes WHERE host = $1 ORDER BY name`, [host]);
    return rows.map(toScope);
  }

  async deleteScope(host: string, name: string): Promise<Lease[]> {
    const leases = await this.listLeases({ host, scope: name });
    for (const lease of leases) await this.deleteLease(host, name, lease.name);
    await this.rows(`DELETE FROM ${this.s}.scopes WHERE host = $1 AND name = $2`, [host, name]);
    return leases;
  }

  async getScanHint(host: string, protocol: Protocol, start: number): Promise<number | null> {
    if (this.seen === null) {
      const row = (await this.rows<{ next: number }>(`SELECT next FROM ${this.s}.scan_hints WHERE host = $1 AND protocol = $2 AND start = $3`, [host, protocol, start]))[0];
      return row?.next ?? null;
    }
    const known = this.seen.hint(host, protocol, start);
    if (known !== undefined) return known;
    const rows = await this.rows<{ hint: number | null } & Partial<LeaseRow>>(hintWindowSql(this.s), [host, protocol, start, HINT_WINDOW]);
    const hint = rows[0]?.hint ?? null;
    this.seen.setHint(host, protocol, start, hint);
    this.seen.addWindow(host, protocol, Math.max(hint ?? start, start));
    for (const { hint: _, ...row } of rows) if (row.port != null) this.seen.setLeaseAt(host, protocol, row.port, toLease(row as LeaseRow));
    return hint;
  }

  async setScanHint(host: string, protocol: Protocol, start: number, next: number): Promise<void> {
    this.changed = true;
    await this.rows(
      `INSERT INTO ${this.s}.scan_hints (host, protocol, start, next) VALUES ($1, $2, $3, $4)
       ON CONFLICT (host, protocol, start) DO UPDATE SET next = excluded.next`,
      [host, protocol, start, next],
    );
  }

  async listEvents(query: EventQuery = {}): Promise<RegistryEvent[]> {
    await this.events.flush(this.session, this.s);
    return listPgEvents(this.session, this.s, query);
  }

  async lastEventId(): Promise<number> {
    await this.events.flush(this.session, this.s);
    return lastPgEventId(this.session, this.s);
  }

  async savePool(host: string, pool: PoolConfig): Promise<void> {
    this.changed = true;
    await this.rows(
      `INSERT INTO ${this.s}.pools (host, name, definition, updated_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (host, name) DO UPDATE SET definition = excluded.definition, updated_at = excluded.updated_at`,
      [host, pool.name, JSON.stringify(pool), new Date().toISOString()],
    );
  }

  async getPool(host: string, name: string): Promise<PoolConfig | null> {
    const row = (await this.rows<{ definition: string }>(`SELECT definition FROM ${this.s}.pools WHERE host = $1 AND name = $2`, [host, name]))[0];
    return row === undefined ? null : (JSON.parse(row.definition) as PoolConfig);
  }

  async listPools(host: string): Promise<PoolConfig[]> {
    const rows = await this.rows<{ definition: string }>(`SELECT definition FROM ${this.s}.pools WHERE host = $1 ORDER BY name`, [host]);
    const pools = rows.map((r) => JSON.parse(r.definition) as PoolConfig);
    this.seen?.setPools(host, pools);
    return pools;
  }

  async reset(host: string): Promise<void> {
    this.changed = true;
    const now = new Date().toISOString();
    for (const row of await this.rows<LeaseRow>(`DELETE FROM ${this.s}.leases WHERE host = $1 RETURNING *`, [host])) this.events.add('deleted', row, null, now);
    for (const table of ['scopes', 'scan_hints', 'pools']) await this.rows(`DELETE FROM ${this.s}.${table} WHERE host = $1`, [host]);
  }
}

/**
 * The statements of one connection, each prepared when first used and then kept: a
 * command uses a few of them, and preparing all of them costs ~0.5 ms of every start.
 */
import type Database from 'better-sqlite3';
import type { Protocol } from '../../types.js';
import type { EventValues } from '../events.js';
import type { SlotHolder } from '../store.js';
import type { EventRow, LeaseRow, ScopeRow } from '../rows.js';

/**
 * Replaces each maker with its statement, made on first use and then kept.
 */
function onFirstUse<T extends Record<string, () => unknown>>(makers: T): { readonly [K in keyof T]: ReturnType<T[K]> } {
  const made = {} as { [K in keyof T]: ReturnType<T[K]> };
  for (const key of Object.keys(makers) as (keyof T)[]) {
    Object.defineProperty(made, key, {
      configurable: true,
      get: () => {
        const value = makers[key]!();
        Object.defineProperty(made, key, { value });
        return value;
      },
    });
  }
  return made;
}

/**
 * What berth uses of a prepared statement taking parameters P and returning rows R. Its
 * own interface, because better-sqlite3's Statement type cannot be named in declarations.
 */
export interface Stmt<P extends unknown[] = [], R = unknown> {
  run(...params: P): Database.RunResult;
  get(...params: P): R | undefined;
  all(...params: P): R[];
}

/** Rows are the first column's value alone. */
const PLUCK = true;

type Text = string | null;
type Int = number | null;

/** The connection's fixed statements, each prepared once, when first used. */
function prepare(db: Database.Database) {
  const make = <P extends unknown[] = [], R = unknown>(sql: string, pluck = false): Stmt<P, R> => {
    const statement = db.prepare<P, R>(sql);
    // pluck() throws on statements that return no rows, so only those that do are asked.
    return pluck ? statement.pluck() : statement;
  };
  return onFirstUse({
    getLease: () => make<[string, string, string], LeaseRow>('SELECT * FROM leases WHERE host = ? AND scope = ? AND name = ?'),
    leaseAt: () => make<[string, string, number], LeaseRow>('SELECT * FROM leases WHERE host = ? AND protocol = ? AND port = ?'),
    hostLeases: () => make<[string], LeaseRow>('SELECT * FROM leases WHERE host = ?'),
    // Positional parameters and no RETURNING: the lease is built in JS from what was bound,
    // which halves the cost of the hottest statement (19 µs -> 8 µs a row, measured here).
    insertLease: () => make<[string, string, string, number, Protocol, Text, Text, Int, Text, number, Int, string, string]>(
      `INSERT INTO leases (host, scope, name, port, protocol, purpose, pool, slot, strategy, ephemeral, pid, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    deleteLease: () => make<[string, string, string]>('DELETE FROM leases WHERE host = ? AND scope = ? AND name = ?'),
    lowerHints: () => make<[{ host: string; protocol: Protocol; port: number }]>(
      'UPDATE scan_hints SET next = @port WHERE host = @host AND protocol = @protocol AND start <= @port AND next > @port',
    ),
    poolSlots: () => make<[string, string], SlotHolder>(
      'SELECT DISTINCT slot, scope FROM leases WHERE host = ? AND pool = ? AND slot IS NOT NULL ORDER BY slot, scope',
    ),
    getScope: () => make<[string, string], ScopeRow>('SELECT * FROM scopes WHERE host = ? AND name = ?'),
    insertScope: () => make<[string, string, Text, string]>('INSERT INTO scopes (host, name, directory, created_at) VALUES (?, ?, ?, ?)'),
    setScopeDir: () => make<[string, string, string]>('UPDATE scopes SET directory = ? WHERE host = ? AND name = ?'),
    deleteScope: () => make<[string, string]>('DELETE FROM scopes WHERE host = ? AND name = ?'),
    getHint: () => make<[string, string, number], { next: number }>('SELECT next FROM scan_hints WHERE host = ? AND protocol = ? AND start = ?'),
    setHint: () => make<[string, string, number, number]>(
      `INSERT INTO scan_hints (host, protocol, start, next) VALUES (?, ?, ?, ?)
       ON CONFLICT (host, protocol, start) DO UPDATE SET next = excluded.next`,
    ),
    // One positional insert per changed lease: the cost of history on every write.
    insertEvent: () => make<EventValues>(
      `INSERT INTO events (time, host, action, change, scope, name, port, protocol, pool, slot, old_port, owner_pid, actor_pid, actor_user, actor_command)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    // The highest id ever given, pruned or not: AUTOINCREMENT keeps it in sqlite_sequence.
    lastEventId: () => make<[], number>("SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'events'), 0)", PLUCK),
    // Three subqueries, because min() and max() each use an index only when alone in a query.
    eventBounds: () => make<[], { first: number | null; last: number | null; oldest: string | null }>(
      'SELECT (SELECT min(id) FROM events) AS first, (SELECT max(id) FROM events) AS last, (SELECT min(time) FROM events) AS oldest',
    ),
    pruneUpTo: () => make<[number]>('DELETE FROM events WHERE id <= ?'),
    pruneOlder: () => make<[string, number]>('DELETE FROM events WHERE time < ? AND id <= ?'),
    savePool: () => make<[string, string, string, string]>(
      `INSERT INTO pools (host, name, definition, updated_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (host, name) DO UPDATE SET definition = excluded.definition, updated_at = excluded.updated_at`,
    ),
    getPool: () => make<[string, string], string>('SELECT definition FROM pools WHERE host = ? AND name = ?', PLUCK),
    listPools: () => make<[string], string>('SELECT definition FROM pools WHERE host = ? ORDER BY name', PLUCK),
    resetHost: () => make<[string]>('DELETE FROM leases WHERE host = ?'),
    resetScopes: () => make<[string]>('DELETE FROM scopes WHERE host = ?'),
    resetHints: () => make<[string]>('DELETE FROM scan_hints WHERE host = ?'),
    resetPools: () => make<[string]>('DELETE FROM pools WHERE host = ?'),
    begin: () => make('BEGIN'),
    beginImmediate: () => make('BEGIN IMMEDIATE'),
    // Reading the schema cookie starts the read transaction now, where SQLITE_BUSY can
    // still be waited out, rather than at the first read inside the caller's function.
    readSnapshot: () => make('PRAGMA schema_version', PLUCK),
    commit: () => make('COMMIT'),
    // One request of a group commit (connection.ts): its work is undone alone when it fails.
    savepoint: () => make('SAVEPOINT request'),
    releaseSavepoint: () => make('RELEASE request'),
    rollbackToSavepoint: () => make('ROLLBACK TO request'),
    rollback: () => make('ROLLBACK'),
  });
}

/** The fixed statements of one connection. */
export type FixedStatements = ReturnType<typeof prepare>;

/** The fixed statements of `db`, none prepared yet. */
export function fixedStatements(db: Database.Database): FixedStatements {
  return prepare(db);
}

/** Statements whose text depends on the call (filters, changed fields), kept by text. */
export class AdhocStatements {
  private readonly made = new Map<string, Database.Statement<unknown[], unknown>>();

  constructor(private readonly db: Database.Database) {}

  /** The statement for `sql`, prepared the first time this text is seen. */
  get<R = unknown>(sql: string): Stmt<unknown[], R> {
    let statement = this.made.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.made.set(sql, statement);
    }
    return statement as Stmt<unknown[], R>;
  }
}

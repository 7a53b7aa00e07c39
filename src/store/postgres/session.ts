/**
 * One transaction's conversation with its connection, in as few round trips as can be:
 * every round trip is a wake-up of the server process and of this one, and on a busy
 * machine that wait, not the work, is most of what an allocation costs.
 *
 * - BEGIN (with the machine's writer lock, for a write) travels with the transaction's
 *   first statement, whose values are then written into it as literals (the simple query
 *   protocol runs several statements at once, but takes no parameters).
 * - A transaction that sent nothing ends without a round trip.
 * - Later statements are prepared once per connection, under a name derived from their text.
 */
import type pg from 'pg';
import { statementName } from './names.js';

/** A value as a SQL literal. */
export function literal(client: pg.ClientBase, value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError(`cannot send ${value} to PostgreSQL`);
    return String(value);
  }
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  return client.escapeLiteral(typeof value === 'string' ? value : JSON.stringify(value));
}

/** `text` with each $n replaced by the literal of values[n - 1]. */
export function inline(client: pg.ClientBase, text: string, values: readonly unknown[]): string {
  return text.replace(/\$(\d+)/g, (_, n: string) => literal(client, values[Number(n) - 1]));
}

/** The connection of one transaction, begun with its first statement. */
export class PgSession {
  private pendingBegin: string | null;

  constructor(
    readonly client: pg.ClientBase,
    begin: string,
  ) {
    this.pendingBegin = begin;
  }

  /** Whether BEGIN has been sent (so there is a transaction to commit or roll back). */
  get begun(): boolean {
    return this.pendingBegin === null;
  }

  /** Runs one statement in the transaction; returns its rows. */
  async query<R extends pg.QueryResultRow>(text: string, values: readonly unknown[] = []): Promise<R[]> {
    if (this.pendingBegin !== null) {
      const sql = `${this.pendingBegin}; ${inline(this.client, text, values)}`;
      this.pendingBegin = null;
      // Several statements: pg answers with one result each; the rows are the last one's.
      const results = (await this.client.query(sql)) as unknown as pg.QueryResult<R>[];
      return results[results.length - 1]!.rows;
    }
    return (await this.client.query<R>({ name: statementName(text), text, values: values as unknown[] })).rows;
  }

  /** A value as a literal, for statements that must carry their values (see EventBuffer). */
  literal(value: unknown): string {
    return literal(this.client, value);
  }

  /** Commits, running `last` (a statement with literal values) in the same round trip; nothing to do when nothing was sent. */
  async commit(last: string | null): Promise<void> {
    if (!this.begun) return;
    await this.client.query(last === null ? 'COMMIT' : `${last}; COMMIT`);
  }

  /** Rolls back, if anything was begun. */
  async rollback(): Promise<void> {
    if (this.begun) await this.client.query('ROLLBACK');
  }
}

/**
 * One transaction's conversation with its connection, in as few round trips as can be:
 * every round trip is a wake-up of the server process and of this one, and on a busy
 * machine that wait, not the work, is most of what an allocation costs.
 *
 * - BEGIN (with the machine's writer lock, for a write) travels with the transaction's
 *   first statement, whose values are then written into it as literals (the simple query
 *   protocol runs several statements at once, but takes no parameters).
 * - Statements asked for in the same turn travel together, as one query string.
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

/** A statement waiting to be sent, and its caller. */
interface Queued {
  readonly text: string;
  readonly values: readonly unknown[];
  readonly resolve: (rows: pg.QueryResultRow[]) => void;
  readonly reject: (err: unknown) => void;
}

/** The connection of one transaction, begun with its first statement. */
export class PgSession {
  private pendingBegin: string | null;
  private queued: Queued[] = [];

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

  /**
   * Runs one statement in the transaction; returns its rows. Statements asked for in the
   * same turn (Promise.all over independent reads) travel together (see send).
   */
  query<R extends pg.QueryResultRow>(text: string, values: readonly unknown[] = []): Promise<R[]> {
    return new Promise<R[]>((resolve, reject) => {
      this.queued.push({ text, values, resolve: resolve as (rows: pg.QueryResultRow[]) => void, reject });
      if (this.queued.length === 1) queueMicrotask(() => this.send());
    });
  }

  /**
   * Sends the statements waiting: one alone as a prepared statement; several, or the first
   * of the transaction (with BEGIN), as one query string with their values written in
   * (pg answers with one result each, in order; a failure fails them all, the transaction
   * being aborted anyway). pg's client sends its queries in the order asked, so what is
   * sent here stays ahead of a COMMIT or ROLLBACK asked for later.
   */
  private send(): void {
    const batch = this.queued;
    if (batch.length === 0) return;
    this.queued = [];
    const begin = this.pendingBegin;
    this.pendingBegin = null;
    const fail = (err: unknown) => batch.forEach((q) => q.reject(err));
    if (begin === null && batch.length === 1) {
      const { text, values, resolve } = batch[0]!;
      this.client.query({ name: statementName(text), text, values: values as unknown[] }).then((r) => resolve(r.rows), fail);
      return;
    }
    let sql: string;
    try {
      sql = [...(begin === null ? [] : [begin]), ...batch.map((q) => inline(this.client, q.text, q.values))].join('; ');
    } catch (err) {
      fail(err);
      return;
    }
    this.client.query(sql).then((answer) => {
      const results = Array.isArray(answer) ? (answer as pg.QueryResult[]) : [answer];
      const theirs = results.slice(results.length - batch.length);
      batch.forEach((q, i) => q.resolve(theirs[i]!.rows));
    }, fail);
  }

  /** A value as a literal, for statements that must carry their values (see EventBuffer). */
  literal(value: unknown): string {
    return literal(this.client, value);
  }

  /** Commits, running `last` (a statement with literal values) in the same round trip; nothing to do when nothing was sent. */
  async commit(last: string | null): Promise<void> {
    this.send();
    if (!this.begun) return;
    await this.client.query(last === null ? 'COMMIT' : `${last}; COMMIT`);
  }

  /** Rolls back, if anything was begun. */
  async rollback(): Promise<void> {
    this.send();
    if (this.begun) await this.client.query('ROLLBACK');
  }
}

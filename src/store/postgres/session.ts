/**
 * One transaction's conversation with its connection, in as few round trips and as
 * little server work as can be: every round trip is a wake-up of the server process and
 * of this one, and every statement the server parses and plans anew costs more than the
 * row it reads. On a busy machine those, not the rows, are most of what an allocation
 * costs.
 *
 * - The pool's connections are pipelined (pg's `pipeline` mode, see open.ts): a statement
 *   is written at once, without waiting for the answers to those before it.
 * - Every statement is a prepared statement, parsed and planned once per connection under
 *   a name derived from its text; its values travel apart from it.
 * - Statements asked for in the same turn (Promise.all over independent reads) are
 *   written together, in one write to the socket (corked until the turn ends).
 * - BEGIN (with the machine's writer lock, for a write) is written with the transaction's
 *   first statement; a transaction that sent nothing ends without a round trip.
 */
import type pg from 'pg';
import { statementName } from './names.js';

/** A statement and its values. */
export interface Statement {
  readonly text: string;
  readonly values?: readonly unknown[];
}

/**
 * Writes `statement` to `client` as a prepared statement, corked with whatever else is
 * written in the same turn (see PgSession); returns its answer.
 */
export function send<R extends pg.QueryResultRow>(client: pg.ClientBase, { text, values = [] }: Statement): Promise<pg.QueryResult<R>> {
  cork(client);
  return client.query<R>({ name: statementName(text), text, values: values as unknown[] });
}

/** Clients whose socket is corked until the current turn ends. */
const corked = new WeakSet<pg.ClientBase>();

/** Holds `client`'s writes until the current turn ends, then sends them in one write. */
function cork(client: pg.ClientBase): void {
  const stream = (client as unknown as { connection?: { stream?: { cork?: () => void; uncork?: () => void } } }).connection?.stream;
  if (stream?.cork === undefined || stream.uncork === undefined || corked.has(client)) return;
  stream.cork();
  corked.add(client);
  queueMicrotask(() => {
    corked.delete(client);
    stream.uncork!();
  });
}

/** The connection of one transaction, begun with its first statement. */
export class PgSession {
  private pendingBegin: readonly Statement[] | null;
  /** The answers to what began the transaction: a failure there (a lock timeout) is what every statement reports. */
  private opening: Promise<unknown> = Promise.resolve();

  constructor(
    readonly client: pg.ClientBase,
    begin: readonly Statement[],
  ) {
    this.pendingBegin = begin;
  }

  /** Whether BEGIN has been sent (so there is a transaction to commit or roll back). */
  get begun(): boolean {
    return this.pendingBegin === null;
  }

  /** Runs one statement in the transaction; returns its rows. */
  async query<R extends pg.QueryResultRow>(text: string, values: readonly unknown[] = []): Promise<R[]> {
    this.open();
    const answer = send<R>(this.client, { text, values });
    // Observed below, once the opening is known. When the opening failed, the server refuses
    // this statement too (25P02, the transaction is aborted), and both answers may be read
    // in one go: the opening's failure, not that refusal, is what happened (Promise.all
    // would report whichever rejection settled first, and the opening's settles a step later).
    answer.catch(() => undefined);
    await this.opening;
    return (await answer).rows;
  }

  /** Writes BEGIN (and what goes with it) ahead of the first statement. */
  private open(): void {
    const begin = this.pendingBegin;
    if (begin === null) return;
    this.pendingBegin = null;
    this.opening = Promise.all(begin.map((statement) => send(this.client, statement)));
    // Observed by every statement after it; never left unhandled when none follows.
    this.opening.catch(() => undefined);
  }

  /**
   * Commits, with `last` (statements that must be the transaction's last, as the history's
   * insert) written in the same round trip; nothing to do when nothing was sent. When one
   * of `last` fails, the server's answer to COMMIT is a rollback, and that failure is thrown.
   */
  async commit(last: readonly Statement[] = []): Promise<void> {
    if (!this.begun) return;
    const answers = [...last, { text: 'COMMIT' }].map((statement) => send(this.client, statement));
    await Promise.all([this.opening, ...answers]);
  }

  /** Rolls back, if anything was begun. */
  async rollback(): Promise<void> {
    if (this.begun) await send(this.client, { text: 'ROLLBACK' });
  }
}

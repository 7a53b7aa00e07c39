/**
 * The order in which one connection's transactions run, and which of them share one
 * SQLite transaction (group commit).
 *
 * Every store of a process that opened the same file asks one connection, and the
 * connection runs one SQLite transaction at a time. Under load (the daemon answering 32
 * clients) most of a write's cost was its own BEGIN IMMEDIATE and COMMIT, and each commit
 * appended its pages to the WAL again, so checkpoints (two fsyncs on the writer's thread)
 * came every hundred or so allocations. So the requests waiting when a transaction starts
 * run together: writes with writes in one BEGIN IMMEDIATE ... COMMIT, each in a savepoint
 * of its own so that one request's error undoes only its own work; reads with reads in one
 * snapshot. Nobody's result is given out before the COMMIT that makes it durable.
 *
 * Reads and writes take turns, so neither starves the other; within a kind, requests run
 * in the order they came. A read may run before a write asked for earlier by another
 * caller: that write had not happened yet for anyone, so the read sees a state that was
 * true when it was asked. A batch is bounded (MAX_BATCH) so another process waiting for
 * the file's write lock waits for a bounded time.
 */
import type { TxMode } from '../store.js';

/** Most requests one SQLite transaction runs. */
export const MAX_BATCH = 32;

/** One waiting request, with how to answer its caller. */
export interface Waiting<R> {
  readonly request: R & { readonly mode: TxMode };
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

/** The waiting requests of one connection, by kind. */
export class TxQueue<R> {
  private readonly reads: Waiting<R>[] = [];
  private readonly writes: Waiting<R>[] = [];
  /** The kind of the last batch taken: the other kind goes next when both wait. */
  private last: TxMode = 'read';

  push(waiting: Waiting<R>): void {
    (waiting.request.mode === 'write' ? this.writes : this.reads).push(waiting);
  }

  /** The kind of the next batch, or null when nothing waits. */
  nextMode(): TxMode | null {
    if (this.writes.length === 0 && this.reads.length === 0) return null;
    if (this.writes.length === 0) return 'read';
    if (this.reads.length === 0) return 'write';
    return this.last === 'write' ? 'read' : 'write';
  }

  /** The next waiting request of `mode`, or undefined; `mode` becomes the last kind taken. */
  take(mode: TxMode): Waiting<R> | undefined {
    this.last = mode;
    return (mode === 'write' ? this.writes : this.reads).shift();
  }
}

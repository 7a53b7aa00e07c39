/**
 * One SQLite connection, shared by every store this process opens on the same file. Its
 * SQLite transactions run one at a time, whichever store asked: so stores of one process
 * queue behind each other instead of contending for the file's lock (which, held by one of
 * them across an await, the other could never get). Requests that wait together share one
 * SQLite transaction (tx-queue.ts: group commit). Against other processes, BEGIN IMMEDIATE
 * and COMMIT wait out SQLITE_BUSY asynchronously.
 */
import type Database from 'better-sqlite3';
import { PruneSchedule } from '../retention.js';
import type { HistoryRetention, StoreTx, TxMode, WriteIntent } from '../store.js';
import { actorFor } from '../events.js';
import { retryBusy } from './busy.js';
import { storeErrorOf } from './errors.js';
import { pruneEvents } from './events.js';
import { AdhocStatements, fixedStatements, type FixedStatements } from './statements.js';
import { SqliteTx } from './tx.js';
import { MAX_BATCH, TxQueue, type Waiting } from './tx-queue.js';

/** What one store asks of the connection for one transaction. */
export interface TxRequest<T> {
  readonly mode: TxMode;
  readonly fn: (tx: StoreTx) => Promise<T>;
  readonly intent: WriteIntent | undefined;
  readonly retention: HistoryRetention;
  /** The asking store's path, for messages. */
  readonly location: string;
}

/** How one request of a batch ended, given out once the batch has committed. */
type Outcome = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: unknown };

/** A connection, its statements, its waiting requests, and how many stores use it. */
export class SharedConnection {
  private readonly st: FixedStatements;
  private readonly adhoc: AdhocStatements;
  private readonly prunes = new PruneSchedule();
  private readonly waiting = new TxQueue<TxRequest<unknown>>();
  /** Settles when the requests asked so far have all been answered. */
  private drained: Promise<void> = Promise.resolve();
  private draining = false;
  private users = 0;

  /** `forget` is called once, when the last user has closed and the connection closes. */
  constructor(
    private readonly db: Database.Database,
    private readonly forget: () => void,
  ) {
    this.st = fixedStatements(db);
    this.adhoc = new AdhocStatements(db);
  }

  /** One more store uses the connection. */
  acquire(): void {
    this.users++;
  }

  /** One store is done; the last one closes the connection once its transactions are over. */
  async release(): Promise<void> {
    this.users--;
    await this.drained;
    // Another store may have opened the file while the queue drained: it keeps the connection.
    if (this.users > 0 || !this.db.open) return;
    this.forget();
    this.db.close();
  }

  /** Runs one transaction after those asked for before it (tx-queue.ts says which run together). */
  run<T>(request: TxRequest<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.waiting.push({ request: request as TxRequest<unknown>, resolve: resolve as (value: unknown) => void, reject });
      if (!this.draining) this.drained = this.drain();
    });
  }

  /** Runs batches until nobody waits. */
  private async drain(): Promise<void> {
    this.draining = true;
    try {
      for (;;) {
        // Past this turn of the event loop first: the daemon reads each client's request in
        // an I/O callback of its own and would otherwise run it to its end before reading
        // the next, so no two requests could ever wait together.
        await new Promise<void>((resolve) => setImmediate(resolve));
        const mode = this.waiting.nextMode();
        if (mode === null) break;
        await this.runBatch(mode);
      }
    } finally {
      this.draining = false;
    }
  }

  /**
   * One SQLite transaction for the next waiting request of `mode` and those of the same
   * kind that wait by the time each finishes (up to MAX_BATCH). The first runs bare: if it
   * fails, the transaction is rolled back and the others still wait. Each later one runs in
   * a savepoint, undone alone when it fails. Every caller hears after the COMMIT; a failed
   * COMMIT (or an error that made SQLite end the transaction) fails every request of it,
   * since none of their work is stored. SQLite's own errors come out as StoreErrors that
   * say what to do (errors.ts).
   */
  private async runBatch(mode: TxMode): Promise<void> {
    const first = this.waiting.take(mode)!;
    const { location, retention } = first.request;
    try {
      if (mode === 'write') this.prepareWrite(first.request.intent);
      await retryBusy(() => this.begin(mode), location);
    } catch (err) {
      first.reject(storeErrorOf(err, location));
      return;
    }
    const batch: Waiting<TxRequest<unknown>>[] = [];
    const outcomes: Outcome[] = [];
    for (let member: Waiting<TxRequest<unknown>> | undefined = first; member !== undefined; member = batch.length < MAX_BATCH ? this.waiting.take(mode) : undefined) {
      batch.push(member);
      const alone = batch.length === 1;
      try {
        if (!alone) this.st.savepoint.run();
        const value = await member.request.fn(new SqliteTx(this.st, this.adhoc, member.request.intent));
        if (!alone) this.st.releaseSavepoint.run();
        outcomes.push({ ok: true, value });
      } catch (err) {
        if (alone || !this.db.inTransaction) return this.abandon(batch, err);
        const undoFailed = this.undoSavepoint();
        if (undoFailed !== null) {
          // The others hear why their work was lost, not this request's own error (a conflict of its port is not theirs).
          this.abandon(batch.slice(0, -1), undoFailed);
          member.reject(storeErrorOf(err, member.request.location));
          return;
        }
        outcomes.push({ ok: false, error: err });
      }
    }
    try {
      if (mode === 'write' && this.prunes.due()) this.prunes.done(pruneEvents(this.st, retention, Date.now()));
      // A COMMIT that says SQLITE_BUSY leaves the transaction open, to be retried.
      await retryBusy(() => this.st.commit.run(), location);
    } catch (err) {
      return this.abandon(batch, err);
    }
    batch.forEach((member, i) => {
      const outcome = outcomes[i]!;
      if (outcome.ok) member.resolve(outcome.value);
      else member.reject(storeErrorOf(outcome.error, member.request.location));
    });
  }

  /**
   * Undoes the work of the failed request's savepoint; the error when that fails too (an
   * I/O error, a savepoint gone), null otherwise. Its work then cannot be told apart from
   * the others', so the batch is abandoned; a throw here would leave every caller of the
   * batch waiting forever (and the daemon to an unhandled rejection).
   */
  private undoSavepoint(): unknown {
    try {
      this.st.rollbackToSavepoint.run();
      this.st.releaseSavepoint.run();
      return null;
    } catch (err) {
      return err ?? new Error('ROLLBACK TO failed');
    }
  }

  /** Rolls the batch's transaction back and fails every request of it with `err`. */
  private abandon(batch: readonly Waiting<TxRequest<unknown>>[], err: unknown): void {
    this.rollback();
    for (const member of batch) member.reject(storeErrorOf(err, member.request.location));
  }

  /** Ends the open transaction, if SQLite has not ended it already (it may after SQLITE_FULL or an I/O error). */
  private rollback(): void {
    if (!this.db.inTransaction) return;
    try {
      this.st.rollback.run();
    } catch {
      // The error that led here is the one to report; a failed ROLLBACK leaves SQLite to
      // roll the transaction back itself when the connection closes or the next BEGIN fails.
    }
  }

  /**
   * What nearly every write needs, made before its lock is taken rather than while other
   * processes wait for it: the event statement and the actor it records (a passwd lookup
   * the first time), COMMIT and ROLLBACK.
   */
  private prepareWrite(intent: WriteIntent | undefined): void {
    actorFor(intent);
    void this.st.insertEvent;
    void this.st.commit;
    void this.st.rollback;
  }

  /**
   * Starts a transaction, or throws SQLITE_BUSY having started none. A write takes the
   * write lock now (BEGIN IMMEDIATE); a read takes its snapshot now, so that a busy
   * moment is met here, where it can be waited out, rather than inside the caller's reads.
   */
  private begin(mode: TxMode): void {
    if (mode === 'write') {
      this.st.beginImmediate.run();
      return;
    }
    this.st.begin.run();
    try {
      this.st.readSnapshot.get();
    } catch (err) {
      this.st.rollback.run();
      throw err;
    }
  }
}

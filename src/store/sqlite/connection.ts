/**
 * One SQLite connection, shared by every store this process opens on the same file. Its
 * transactions run one at a time, in the order they were asked for, whichever store asked:
 * so stores of one process queue behind each other instead of contending for the file's
 * lock (which, held by one of them across an await, the other could never get). Against
 * other processes, BEGIN IMMEDIATE and COMMIT wait out SQLITE_BUSY asynchronously.
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

/** What one store asks of the connection for one transaction. */
export interface TxRequest<T> {
  readonly mode: TxMode;
  readonly fn: (tx: StoreTx) => Promise<T>;
  readonly intent: WriteIntent | undefined;
  readonly retention: HistoryRetention;
  /** The asking store's path, for messages. */
  readonly location: string;
}

/** A connection, its statements, its transaction queue, and how many stores use it. */
export class SharedConnection {
  private readonly st: FixedStatements;
  private readonly adhoc: AdhocStatements;
  private readonly prunes = new PruneSchedule();
  /** The last transaction asked for; it never rejects, so the next one always runs. */
  private queue: Promise<unknown> = Promise.resolve();
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
    await this.queue;
    // Another store may have opened the file while the queue drained: it keeps the connection.
    if (this.users > 0 || !this.db.open) return;
    this.forget();
    this.db.close();
  }

  /** Queues one transaction behind every other of this connection. */
  run<T>(request: TxRequest<T>): Promise<T> {
    const next = this.queue.then(() => this.runNow(request));
    this.queue = next.catch(() => undefined); // the caller sees the error; the queue goes on
    return next;
  }

  /** Runs one transaction; SQLite's own errors come out as StoreErrors that say what to do (errors.ts). */
  private async runNow<T>(request: TxRequest<T>): Promise<T> {
    try {
      return await this.transact(request);
    } catch (err) {
      throw storeErrorOf(err, request.location);
    }
  }

  private async transact<T>({ mode, fn, intent, retention, location }: TxRequest<T>): Promise<T> {
    if (mode === 'write') this.prepareWrite(intent);
    await retryBusy(() => this.begin(mode), location);
    try {
      const result = await fn(new SqliteTx(this.st, this.adhoc, intent));
      if (mode === 'write' && this.prunes.due()) this.prunes.done(pruneEvents(this.st, retention, Date.now()));
      // A COMMIT that says SQLITE_BUSY leaves the transaction open, to be retried.
      await retryBusy(() => this.st.commit.run(), location);
      return result;
    } catch (err) {
      this.rollback();
      throw err;
    }
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

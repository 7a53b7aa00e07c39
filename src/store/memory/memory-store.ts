/**
 * A store that lives in this process's memory: the same semantics as the SQLite store
 * (uniqueness, errors, orders, events, pools, scan hints, retention), no file. It exists
 * so that engine tests run fast; nothing outlives the process.
 */
import { StoreError } from '../../errors.js';
import { PruneSchedule, checkRetention } from '../retention.js';
import { DEFAULT_RETENTION, type HistoryRetention, type Store, type StoreTx, type TxMode, type WriteIntent } from '../store.js';
import { pruneEvents } from './events.js';
import { MemoryState } from './state.js';
import { MemoryTx } from './tx.js';

/** The host a memory store allocates on unless told otherwise: the same as SQLite's. */
export const MEMORY_HOST = 'local';

/** Options of openMemoryStore. */
export interface MemoryStoreOptions {
  /** The host this store allocates on (default `local`). */
  readonly host?: string;
  /** How long history is kept; DEFAULT_RETENTION when absent. */
  readonly retention?: HistoryRetention;
}

/**
 * Transactions run one at a time in the order asked (reads too: they would otherwise see
 * a write half done); one that throws is undone from the state's undo log.
 */
class MemoryStore implements Store {
  readonly kind = 'memory';
  readonly location = 'memory';
  private readonly state = new MemoryState();
  private readonly prunes = new PruneSchedule();
  /** The last transaction asked for; it never rejects, so the next one always runs. */
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(
    readonly host: string,
    private readonly retention: HistoryRetention,
  ) {}

  transaction<T>(mode: TxMode, fn: (tx: StoreTx) => Promise<T>, intent?: WriteIntent): Promise<T> {
    if (this.closed) return Promise.reject(new StoreError('the memory store was closed; open another to use it.'));
    const next = this.queue.then(() => this.runNow(mode, fn, intent));
    this.queue = next.catch(() => undefined); // the caller sees the error; the queue goes on
    return next;
  }

  private async runNow<T>(mode: TxMode, fn: (tx: StoreTx) => Promise<T>, intent: WriteIntent | undefined): Promise<T> {
    this.state.begin();
    try {
      const result = await fn(new MemoryTx(this.state, intent));
      if (mode === 'write' && this.prunes.due()) this.prunes.done(pruneEvents(this.state, this.retention, Date.now()));
      this.state.commit();
      return result;
    } catch (err) {
      this.state.rollback();
      throw err;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.queue;
  }
}

/** Opens a new, empty store in memory. */
export function openMemoryStore(opts: MemoryStoreOptions = {}): Store {
  return new MemoryStore(opts.host ?? MEMORY_HOST, checkRetention(opts.retention ?? DEFAULT_RETENTION));
}

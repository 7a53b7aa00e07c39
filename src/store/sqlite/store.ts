/**
 * The SQLite-backed store: a handle on a connection this process shares with every other
 * store it opened on the same file. Open it with openSqliteStore.
 */
import { StoreError } from '../../errors.js';
import type { HistoryRetention, Store, StoreTx, TxMode, WriteIntent } from '../store.js';
import type { SharedConnection } from './connection.js';

/** The one host a SQLite registry describes: the machine it lives on. */
export const SQLITE_HOST = 'local';

/** A store over one SQLite file. */
export class SqliteStore implements Store {
  readonly kind = 'sqlite';
  readonly host = SQLITE_HOST;
  private closed = false;

  /** Made by openSqliteStore, which has counted this store as a user of `connection`. */
  constructor(
    private readonly connection: SharedConnection,
    readonly location: string,
    private readonly retention: HistoryRetention,
  ) {}

  transaction<T>(mode: TxMode, fn: (tx: StoreTx) => Promise<T>, intent?: WriteIntent): Promise<T> {
    if (this.closed) return Promise.reject(new StoreError(`the store ${this.location} was closed; open it again to use it.`));
    return this.connection.run({ mode, fn, intent, retention: this.retention, location: this.location });
  }

  /** Waits for the transactions asked for so far, then lets go of the connection. Closing twice does nothing. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.connection.release();
  }
}

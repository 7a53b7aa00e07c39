/**
 * A store whose backend is opened on its first transaction. Opening PostgreSQL is
 * asynchronous (a connection, a migration check) while engines are made synchronously;
 * this keeps openEngine synchronous, and lets the composition root load the pg driver
 * only when a PostgreSQL URL is given. A failed open fails every transaction with its error.
 */
import { StoreError } from '../errors.js';
import type { Lease } from '../types.js';
import type { ClaimScope, GuessBasis, NewClaim, Store, StoreTx, TxMode, WriteIntent } from './store.js';

/** What the store says of itself before it is open. */
export interface DeferredIdentity {
  readonly kind: string;
  readonly location: string;
  readonly host: string;
}

/** A store opened by `open` when first used. */
export class DeferredStore implements Store {
  readonly kind: string;
  readonly location: string;
  readonly host: string;
  private opened: Promise<Store> | undefined;
  private closed = false;

  constructor(identity: DeferredIdentity, private readonly open: () => Promise<Store>) {
    ({ kind: this.kind, location: this.location, host: this.host } = identity);
  }

  transaction<T>(mode: TxMode, fn: (tx: StoreTx) => Promise<T>, intent?: WriteIntent): Promise<T> {
    if (this.closed) return Promise.reject(new StoreError(`the store ${this.location} was closed; open it again to use it.`));
    this.opened ??= this.open();
    return this.opened.then((store) => store.transaction(mode, fn, intent));
  }

  claimNew(scope: ClaimScope, claims: readonly NewClaim[], intent?: WriteIntent, basis?: GuessBasis): Promise<Lease[] | null> {
    if (this.closed) return Promise.reject(new StoreError(`the store ${this.location} was closed; open it again to use it.`));
    this.opened ??= this.open();
    return this.opened.then((store) => store.claimNew?.(scope, claims, intent, basis) ?? null);
  }

  guess<T>(fn: (tx: StoreTx, basis: GuessBasis) => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new StoreError(`the store ${this.location} was closed; open it again to use it.`));
    this.opened ??= this.open();
    return this.opened.then((store) => (store.guess !== undefined ? store.guess(fn) : store.transaction('read', (tx) => fn(tx, { store }))));
  }

  watch(onChange: () => void): () => void {
    let stop: (() => void) | undefined;
    let stopped = false;
    this.opened ??= this.open();
    this.opened.then(
      (store) => {
        if (!stopped && !this.closed) stop = store.watch?.(onChange);
      },
      () => {
        // It did not open: the feed's own reads report that; there is nothing to watch.
      },
    );
    return () => {
      stopped = true;
      stop?.();
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const store = await this.opened?.catch(() => undefined); // it never opened: nothing to close
    await store?.close();
  }
}

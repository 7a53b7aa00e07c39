/**
 * What the parts of the store conformance suite share: the backend factory, a lease
 * builder, and a fresh store per test.
 */
import { afterEach, beforeEach } from 'node:test';
import type { HistoryRetention, Store, StoreTx, WriteIntent } from '../../src/store/store.js';
import type { NewLease } from '../../src/types.js';

/** Makes a fresh, empty store; `cleanup` removes whatever it created. */
export type StoreFactory = (opts?: { retention?: HistoryRetention }) => Promise<{ store: Store; cleanup: () => Promise<void> }>;

/** A lease of app1/web on h1, tcp 4000, with `over` applied. */
export function lease(over: Partial<NewLease> = {}): NewLease {
  return {
    host: 'h1',
    scope: 'app1',
    name: 'web',
    port: 4000,
    protocol: 'tcp',
    purpose: null,
    pool: null,
    slot: null,
    strategy: null,
    ephemeral: false,
    pid: null,
    ...over,
  };
}

/** A store for each test of the enclosing describe, closed and removed after it. */
export interface StoreUnderTest {
  readonly store: Store;
  write<T>(fn: (tx: StoreTx) => Promise<T>, intent?: WriteIntent): Promise<T>;
  read<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T>;
}

/** Registers hooks that open a store from `factory` before each test and close it after. */
export function useStore(factory: StoreFactory): StoreUnderTest {
  let store: Store | undefined;
  let cleanup: () => Promise<void> = async () => {};
  beforeEach(async () => {
    ({ store, cleanup } = await factory());
  });
  afterEach(async () => {
    await store?.close();
    await cleanup();
  });
  return {
    get store() {
      return store!;
    },
    write: (fn, intent) => store!.transaction('write', fn, intent),
    read: (fn) => store!.transaction('read', fn),
  };
}

/** Opens one store with options for the length of `body`, then closes and removes it. */
export async function withStore<T>(factory: StoreFactory, opts: { retention?: HistoryRetention }, body: (store: Store) => Promise<T>): Promise<T> {
  const { store, cleanup } = await factory(opts);
  try {
    return await body(store);
  } finally {
    await store.close();
    await cleanup();
  }
}

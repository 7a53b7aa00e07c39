/**
 * Group commit (src/store/sqlite/tx-queue.ts): requests that wait together share one
 * SQLite transaction, each in a savepoint, so one request's failure undoes only its own
 * work, and reads and writes take turns.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { openSqliteStore } from '../../src/store/sqlite-store.js';
import { MAX_BATCH, TxQueue, type Waiting } from '../../src/store/sqlite/tx-queue.js';
import type { StoreTx, TxMode } from '../../src/store/store.js';
import { tempDir } from '../helpers/cli.js';

function insert(tx: StoreTx, name: string, port: number) {
  return tx.insertLease({ host: 'local', scope: 'gc', name, port, protocol: 'tcp', purpose: null, pool: null, slot: null, strategy: null, ephemeral: false, pid: null });
}

describe('sqlite store: group commit', () => {
  it('a request that fails among others asked together undoes its own writes only', async () => {
    const { dir, cleanup } = tempDir();
    const store = openSqliteStore(path.join(dir, 'b.db'));
    try {
      // Asked in one tick: they wait together, so they share a transaction.
      const results = await Promise.allSettled(
        Array.from({ length: 10 }, (_, i) =>
          store.transaction('write', async (tx) => {
            const lease = await insert(tx, `n${i}`, 21000 + i);
            if (i === 5) throw new Error('boom after writing');
            return lease.port;
          }),
        ),
      );
      assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled', 'fulfilled', 'fulfilled']);
      assert.match(String((results[5] as PromiseRejectedResult).reason), /boom after writing/);
      const stored = await store.transaction('read', (tx) => tx.listLeases({ scope: 'gc' }));
      assert.deepEqual(stored.map((l) => l.name).sort(), ['n0', 'n1', 'n2', 'n3', 'n4', 'n6', 'n7', 'n8', 'n9']);
    } finally {
      await store.close();
      cleanup();
    }
  });

  it('a uniqueness violation in one request of a batch fails that request, and the batch commits the rest', async () => {
    const { dir, cleanup } = tempDir();
    const store = openSqliteStore(path.join(dir, 'b.db'));
    try {
      const results = await Promise.allSettled([
        store.transaction('write', (tx) => insert(tx, 'first', 21500)),
        store.transaction('write', (tx) => insert(tx, 'second', 21500)), // the same port: refused by the database
        store.transaction('write', (tx) => insert(tx, 'third', 21501)),
      ]);
      assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled']);
      const stored = await store.transaction('read', (tx) => tx.listLeases({ scope: 'gc' }));
      assert.deepEqual(stored.map((l) => `${l.name}:${l.port}`).sort(), ['first:21500', 'third:21501']);
    } finally {
      await store.close();
      cleanup();
    }
  });

  it("a request whose savepoint cannot be undone fails its batch so far, every caller hears (none hangs), and those still waiting run next", async () => {
    const { dir, cleanup } = tempDir();
    const store = openSqliteStore(path.join(dir, 'b.db'));
    try {
      // The bookkeeping statements can fail too (an I/O error on ROLLBACK TO); forced
      // here by releasing the request's savepoint behind the connection's back.
      const results = await Promise.allSettled([
        store.transaction('write', (tx) => insert(tx, 'a', 21700)),
        store.transaction('write', async (tx) => {
          await insert(tx, 'b', 21701);
          (tx as unknown as { adhoc: { get(sql: string): { run(): unknown } } }).adhoc.get('RELEASE request').run();
          throw new Error('boom with no savepoint left');
        }),
        store.transaction('write', (tx) => insert(tx, 'c', 21702)),
      ]);
      // a's work cannot be kept without b's: the transaction is rolled back, and a hears why, not b's own error.
      assert.deepEqual(results.map((r) => r.status), ['rejected', 'rejected', 'fulfilled']);
      assert.match(String((results[0] as PromiseRejectedResult).reason), /no such savepoint/);
      assert.match(String((results[1] as PromiseRejectedResult).reason), /boom with no savepoint left/);
      const stored = await store.transaction('read', (tx) => tx.listLeases({ scope: 'gc' }));
      assert.deepEqual(stored.map((l) => l.name), ['c']);
      assert.equal((await store.transaction('write', (tx) => insert(tx, 'd', 21703))).port, 21703, 'the connection still works');
    } finally {
      await store.close();
      cleanup();
    }
  });

  it('a batch sees the writes of the requests before it in the same batch', async () => {
    const { dir, cleanup } = tempDir();
    const store = openSqliteStore(path.join(dir, 'b.db'));
    try {
      const [, seen] = await Promise.all([
        store.transaction('write', (tx) => insert(tx, 'a', 21600)),
        store.transaction('write', async (tx) => (await tx.leaseAt('local', 'tcp', 21600))?.name ?? null),
      ]);
      assert.equal(seen, 'a');
    } finally {
      await store.close();
      cleanup();
    }
  });
});

describe('sqlite store: which requests run together', () => {
  const waiting = (mode: TxMode, id: number): Waiting<{ id: number }> => ({ request: { mode, id }, resolve: () => {}, reject: () => {} });
  const drain = (queue: TxQueue<{ id: number }>): string[] => {
    const order: string[] = [];
    for (let mode = queue.nextMode(); mode !== null; mode = queue.nextMode()) {
      const batch: number[] = [];
      for (let w = queue.take(mode); w !== undefined && batch.length < MAX_BATCH; w = batch.length < MAX_BATCH ? queue.take(mode) : undefined) batch.push(w.request.id);
      order.push(`${mode}:${batch.join(',')}`);
    }
    return order;
  };

  it('writes batch with writes and reads with reads, in order, taking turns', () => {
    const queue = new TxQueue<{ id: number }>();
    for (const [i, mode] of (['write', 'read', 'write', 'read', 'write'] as const).entries()) queue.push(waiting(mode, i));
    assert.deepEqual(drain(queue), ['write:0,2,4', 'read:1,3']);
  });

  it('when both kinds wait, the kind that did not go last goes next', () => {
    const queue = new TxQueue<{ id: number }>();
    queue.push(waiting('read', 0));
    assert.equal(queue.take(queue.nextMode()!)?.request.id, 0);
    queue.push(waiting('read', 1));
    queue.push(waiting('write', 2));
    assert.equal(queue.nextMode(), 'write');
    queue.take('write');
    assert.equal(queue.nextMode(), 'read');
    assert.equal(queue.nextMode() === 'read' && queue.take('read')?.request.id, 1);
    assert.equal(queue.nextMode(), null);
  });
});

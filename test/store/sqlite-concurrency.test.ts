/**
 * Many writers on one SQLite file: stores of one process share a connection and queue;
 * other processes are waited for without blocking the event loop.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { openSqliteStore } from '../../src/store/sqlite-store.js';
import type { StoreTx } from '../../src/store/store.js';
import type { Lease } from '../../src/types.js';
import { tempDir } from '../helpers/cli.js';

/** What an allocation does inside its transaction: find the first free port from 20000, take it. */
async function allocate(tx: StoreTx, scope: string, name: string, pause: () => Promise<unknown>): Promise<Lease> {
  let port = (await tx.getScanHint('local', 'tcp', 20000)) ?? 20000;
  while (await tx.leaseAt('local', 'tcp', port)) port++;
  await pause(); // like the bind probe: the transaction stays open across an await
  const lease = await tx.insertLease({ host: 'local', scope, name, port, protocol: 'tcp', purpose: null, pool: null, slot: null, strategy: null, ephemeral: false, pid: null });
  await tx.setScanHint('local', 'tcp', 20000, port + 1);
  return lease;
}

describe('sqlite store: concurrent writers', () => {
  it('10 stores on one file in one process, each holding its transactions across a 20 ms await, all succeed', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const file = path.join(dir, 'b.db');
      const stores = Array.from({ length: 10 }, () => openSqliteStore(file));
      const started = Date.now();
      const made = await Promise.all(
        stores.flatMap((store, s) => Array.from({ length: 3 }, (_, k) => store.transaction('write', (tx) => allocate(tx, `s${s}`, `n${k}`, () => sleep(20))))),
      );
      assert.ok(Date.now() - started < 30_000, 'no writer waited for a lock timeout');
      assert.equal(new Set(made.map((l) => l.port)).size, 30, 'no port handed out twice');
      const leases = await stores[0]!.transaction('read', (tx) => tx.listLeases());
      assert.equal(leases.length, 30);
      assert.equal((await stores[9]!.transaction('read', (tx) => tx.listEvents())).length, 30);
      await Promise.all(stores.map((s) => s.close()));
    } finally {
      cleanup();
    }
  });

  it('stores opened on one file by different paths share one connection, closed with the last store', async () => {
    const { dir, cleanup } = tempDir();
    try {
      fs.mkdirSync(path.join(dir, 'real'));
      fs.symlinkSync(path.join(dir, 'real'), path.join(dir, 'link'));
      const file = path.join(dir, 'real', 'b.db');
      const a = openSqliteStore(file);
      const b = openSqliteStore(path.join(dir, 'link', '..', 'link', 'b.db'));
      assert.equal(b.location, path.join(dir, 'link', 'b.db'), 'each store keeps the path it was given, for messages');
      const writing = a.transaction('write', async (tx) => {
        const lease = await allocate(tx, 'a', 'web', () => sleep(30));
        await sleep(30);
        return lease;
      });
      // On a connection of its own, b would read the snapshot before a's write; sharing, it queues behind it.
      const seen = await b.transaction('read', (tx) => tx.listLeases());
      assert.deepEqual(seen, [await writing]);
      await a.close();
      await a.close();
      assert.equal((await b.transaction('write', (tx) => allocate(tx, 'b', 'web', async () => {}))).port, 20001, 'b works on after a closed');
      assert.ok(fs.existsSync(`${file}-wal`), 'the connection is still open');
      await b.close();
      assert.ok(!fs.existsSync(`${file}-wal`), 'the last close closed the connection (SQLite removes the WAL then)');
      const again = openSqliteStore(file);
      assert.equal((await again.transaction('read', (tx) => tx.listLeases())).length, 2);
      await again.close();
    } finally {
      cleanup();
    }
  });

  it('waits for another connection\'s write lock without blocking the event loop', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const file = path.join(dir, 'b.db');
      const store = openSqliteStore(file);
      const other = new Database(file, { timeout: 0 });
      other.exec('BEGIN IMMEDIATE');
      // Only a free event loop runs this timer; a writer spinning inside SQLite would wait forever.
      const releasing = sleep(100).then(() => other.exec('COMMIT'));
      const lease = await store.transaction('write', (tx) => allocate(tx, 'x', 'web', async () => {}));
      await releasing;
      assert.equal(lease.port, 20000);
      other.close();
      await store.close();
    } finally {
      cleanup();
    }
  });

  it('12 processes x 50 write transactions on one file: no errors, every row present, ports and event ids unique', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const file = path.join(dir, 'race.db');
      const module = new URL('../../src/store/sqlite-store.js', import.meta.url).href;
      const code = `
        const { openSqliteStore } = await import(${JSON.stringify(module)});
        const store = openSqliteStore(${JSON.stringify(file)});
        const scope = 'p' + process.pid;
        for (let k = 0; k < 50; k++) {
          await store.transaction('write', async (tx) => {
            let port = (await tx.getScanHint('local', 'tcp', 20000)) ?? 20000;
            while (await tx.leaseAt('local', 'tcp', port)) port++;
            await new Promise((r) => setImmediate(r));
            await tx.insertLease({ host: 'local', scope, name: 'n' + k, port, protocol: 'tcp', purpose: null, pool: null, slot: null, strategy: null, ephemeral: false, pid: null });
            await tx.setScanHint('local', 'tcp', 20000, port + 1);
          });
        }
        await store.close();`;
      const runs = await Promise.all(
        Array.from({ length: 12 }, () =>
          new Promise<{ code: number | null; stderr: string; pid: number }>((resolve, reject) => {
            const child = spawn(process.execPath, ['--input-type=module', '-e', code], { cwd: path.dirname(fileURLToPath(import.meta.url)) });
            let stderr = '';
            child.stderr.on('data', (d) => (stderr += d));
            const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
            child.on('error', reject);
            child.on('close', (exit) => (clearTimeout(timer), resolve({ code: exit, stderr, pid: child.pid! })));
          }),
        ),
      );
      runs.forEach((r, i) => assert.deepEqual({ code: r.code, stderr: r.stderr }, { code: 0, stderr: '' }, `process ${i}`));
      const store = openSqliteStore(file);
      try {
        const leases = await store.transaction('read', (tx) => tx.listLeases());
        assert.equal(leases.length, 600);
        assert.equal(new Set(leases.map((l) => l.port)).size, 600, 'no port handed out twice');
        for (const r of runs) assert.equal(leases.filter((l) => l.scope === `p${r.pid}`).length, 50);
        const events = await store.transaction('read', (tx) => tx.listEvents());
        assert.equal(events.length, 600);
        assert.equal(new Set(events.map((e) => e.id)).size, 600);
        assert.deepEqual(new Set(events.map((e) => e.actor.pid)), new Set(runs.map((r) => r.pid)), 'each event names the process that wrote it');
      } finally {
        await store.close();
      }
    } finally {
      cleanup();
    }
  });
});

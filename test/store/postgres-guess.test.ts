/**
 * Guesses made from what a PostgreSQL store remembers (Store.guess, recall.ts), against a
 * real server: a lone writer's allocation is one round trip, and whatever another writer
 * of the machine changed, the answers are the ones a fresh read gives (a freed port is
 * found first, a pool's port is never taken, a lease's own port is not refused to it).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import { StoreError } from '../../src/errors.js';
import { LocalEngine } from '../../src/core/local-engine.js';
import { localMachine } from '../../src/os/machine.js';
import { claimCall } from '../../src/store/postgres/claim.js';
import { eventChannel, quoteSchema, writerLockKey } from '../../src/store/postgres/names.js';
import { openPostgresStore } from '../../src/store/postgres/open.js';
import type { PostgresStore } from '../../src/store/postgres/store.js';
import { lease } from '../helpers/fixtures.js';
import { pgServerForFile, uniqueSchema } from '../helpers/postgres.js';

const { skip, server } = pgServerForFile();

/** Ports these tests allocate from; the OS is asked too, so a port some process holds is skipped. */
const RANGE = { start: 47100, end: 47299 };

describe('postgres store: guesses from what it remembers', { skip: skip ?? false }, () => {
  const dirs: string[] = [];
  const stores: PostgresStore[] = [];
  after(async () => {
    await Promise.all(stores.map((s) => s.close()));
    for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Opens `count` engines on one registry (a schema of their own) as machine m1, each with its own store, as separate processes would be. */
  async function engines(count: number, schema = uniqueSchema()): Promise<{ engine: LocalEngine; store: PostgresStore }[]> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-pg-guess-'));
    dirs.push(dir);
    return Promise.all(
      Array.from({ length: count }, async () => {
        const store = await openPostgresStore(server.url, { schema, host: 'm1' });
        stores.push(store);
        return { engine: new LocalEngine({ store, machine: localMachine, cwd: dir, env: {} }), store };
      }),
    );
  }

  const allocate = async (engine: LocalEngine, name: string): Promise<number> =>
    (await engine.leases.allocate({ scope: 'app' }, [{ name, range: RANGE }]))[0]!.port;

  /** Round trips to the server while `fn` runs: the statements each connection is given in one turn. */
  async function roundTrips(fn: () => Promise<void>): Promise<number> {
    let trips = 0;
    const inTurn = new WeakSet<pg.Client>();
    const query = pg.Client.prototype.query;
    pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
      if (!inTurn.has(this)) {
        trips++;
        inTurn.add(this);
        queueMicrotask(() => inTurn.delete(this));
      }
      return (query as (...a: unknown[]) => unknown).apply(this, args);
    } as typeof query;
    try {
      await fn();
    } finally {
      pg.Client.prototype.query = query;
    }
    return trips;
  }

  it('allocates in one round trip each, once the store remembers the machine', async () => {
    const { engine } = (await engines(1))[0]!;
    for (const name of ['w1', 'w2', 'w3']) await allocate(engine, name);
    // A read's connection is parked with its COMMIT owed for 20 ms (connections.ts): let it go first.
    await new Promise((resolve) => setTimeout(resolve, 100));
    const ports: number[] = [];
    const trips = await roundTrips(async () => {
      for (let n = 0; n < 10; n++) ports.push(await allocate(engine, `n${n}`));
    });
    assert.equal(trips, 10, 'one claim each, no read');
    assert.equal(new Set(ports).size, 10);
    const listed = await engine.leases.list({ scope: 'app' });
    assert.deepEqual(
      ports.map((port, n) => listed.find((l) => l.name === `n${n}`)?.port),
      ports,
      'each lease is in the registry on the port it was given',
    );
  });

  it('finds a port another writer of the machine freed, as a fresh read would', async () => {
    const [a, b] = await engines(2);
    const first = await allocate(a!.engine, 'web');
    const second = await allocate(a!.engine, 'api');
    await allocate(a!.engine, 'db');
    // Another process of the machine releases api: the scan hint goes back to its port.
    await b!.engine.leases.release({ scope: 'app' }, ['api']);
    // What a remembers says the hint is past db; claim() refuses that guess, and a reads again.
    assert.equal(await allocate(a!.engine, 'cache'), second);
    assert.ok(first < second);
  });

  it('never gives a port twice when writers of the machine take turns', async () => {
    const [a, b] = await engines(2);
    const given: number[] = [];
    for (let n = 0; n < 12; n++) given.push(await allocate((n % 3 === 0 ? b : a)!.engine, `s${n}`));
    assert.equal(new Set(given).size, given.length, `no port twice: ${given.join(', ')}`);
    const listed = (await a!.engine.leases.list({ scope: 'app' })).map((l) => l.port).sort((x, y) => x - y);
    assert.deepEqual(listed, [...given].sort((x, y) => x - y));
  });

  it('reads afresh after a write of its own', async () => {
    const { engine } = (await engines(1))[0]!;
    await allocate(engine, 'one');
    const two = await allocate(engine, 'two');
    await allocate(engine, 'three');
    await engine.leases.release({ scope: 'app' }, ['two']);
    assert.equal(await allocate(engine, 'four'), two);
  });

  it('refuses, writing nothing, a claim whose guess the machine changed since', async () => {
    const [a, b] = (await engines(2)).map((e) => e.store);
    await a!.transaction('write', (tx) => tx.ensureScope('m1', 'app', null));
    const claim = (name: string, port: number, basis?: Parameters<NonNullable<PostgresStore['claimNew']>>[3]) =>
      a!.claimNew({ host: 'm1', name: 'app', directory: null }, [{ lease: lease(name, port, { host: 'm1', scope: 'app' }), hints: [] }], undefined, basis);
    // A fresh guess read, then a claim on it: remembered from then on.
    await a!.guess(async (tx) => tx.getScanHint('m1', 'tcp', RANGE.start));
    assert.deepEqual((await claim('x', 47150))?.map((l) => l.port), [47150]);
    const basis = await a!.guess(async (_tx, basis) => basis);
    // Another writer of the machine leases a port the guess never looked at.
    await b!.transaction('write', (tx) => tx.insertLease(lease('z', 47290, { host: 'm1', scope: 'other' })));
    assert.equal(await claim('y', 47151, basis), null);
    assert.equal(await a!.transaction('read', (tx) => tx.getLease('m1', 'app', 'y')), null, 'nothing written');
    // A new guess stands on a fresh read, and its claim goes through.
    const fresh = await a!.guess(async (_tx, basis) => basis);
    assert.deepEqual((await claim('y', 47151, fresh))?.map((l) => l.port), [47151]);
  });

  /** A first allocation, out of the way (a store's first write prunes the history too). */
  const warm = (engine: LocalEngine) => engine.leases.allocate({ scope: 'warm' }, [{ name: 'w', port: 47298 }]);

  /** Makes the store forget what it remembers: a write of its own (a scan hint nobody walks from). */
  const forget = (store: PostgresStore) => store.transaction('write', (tx) => tx.setScanHint('m1', 'tcp', 1, 1));

  it("gives a lease its own fixed port again when the store remembers the port's holder but not its name", async () => {
    const { engine, store } = (await engines(1))[0]!;
    const db = async (scope: string) => (await engine.leases.allocate({ scope }, [{ name: 'db', port: 47150 }]))[0]!.port;
    assert.equal(await db('a'), 47150);
    await forget(store);
    // A fresh read for another scope's walk sees the leases of 47100..47163: a/db among them, by port only.
    await engine.leases.allocate({ scope: 'b' }, [{ name: 'web', range: RANGE }]);
    assert.equal(await db('a'), 47150, 'get-or-allocate: its lease, not "already leased to a/db"');
  });

  it('gives a fixed port another writer of the machine freed', async () => {
    const [a, b] = await engines(2);
    await warm(a!.engine);
    const db = async (scope: string) => (await a!.engine.leases.allocate({ scope }, [{ name: 'db', port: 47160 }]))[0]!.port;
    assert.equal(await db('a'), 47160);
    await b!.engine.leases.release({ scope: 'a' }, ['db']);
    assert.equal(await db('c'), 47160);
  });

  it('walks from a fresh read when a request holds a name that has its lease already', async () => {
    const [a, b] = await engines(2);
    await warm(a!.engine);
    const ports = new Map<string, number>();
    for (const name of ['web', 'api', 'db']) ports.set(name, await allocate(a!.engine, name));
    await b!.engine.leases.release({ scope: 'app' }, ['api']);
    // web exists, so this is not a one-step claim: the general transaction must not walk from what a remembers.
    const got = await a!.engine.leases.allocate({ scope: 'app' }, [{ name: 'web', range: RANGE }, { name: 'cache', range: RANGE }]);
    assert.deepEqual(got.map((l) => l.port), [ports.get('web'), ports.get('api')]);
  });

  it('never takes a port of a pool another writer of the machine recorded', async () => {
    const [a, b] = await engines(2);
    await warm(a!.engine);
    const web = await allocate(a!.engine, 'web');
    await allocate(a!.engine, 'api');
    const first = web + 2;
    const pool = { name: 'gpu', roles: ['main'], urls: [], protocol: 'tcp', kind: 'series', ports: { main: first }, step: 1, slots: 5 } as const;
    await b!.store.transaction('write', (tx) => tx.savePool('m1', pool as never));
    const inPool = (port: number) => port >= first && port < first + 5;
    const mixed = await a!.engine.leases.allocate({ scope: 'app' }, [{ name: 'web', range: RANGE }, { name: 'cache', range: RANGE }]);
    assert.ok(!inPool(mixed[1]!.port), `cache on ${mixed[1]!.port}, a port of pool gpu (${first}-${first + 4})`);
    const lone = await allocate(a!.engine, 'lone');
    assert.ok(!inPool(lone), `lone on ${lone}, a port of pool gpu`);
  });

  it('forgets what it remembers when a claim shows another writer came in between', async () => {
    const [a, b] = (await engines(2)).map((e) => e.store);
    await a!.transaction('write', (tx) => tx.ensureScope('m1', 'app', null));
    const claim = (name: string, port: number, hints: { start: number; next: number }[], basis?: Parameters<NonNullable<PostgresStore['claimNew']>>[3]) =>
      a!.claimNew({ host: 'm1', name: 'app', directory: null }, [{ lease: lease(name, port, { host: 'm1', scope: 'app' }), hints }], undefined, basis);
    const hint = () => a!.guess(async (tx) => tx.getScanHint('m1', 'tcp', RANGE.start));
    assert.ok(await claim('x', 47150, [{ start: RANGE.start, next: 47151 }]));
    const fresh = await a!.guess(async (tx, basis) => (await tx.getScanHint('m1', 'tcp', RANGE.start), basis));
    // Another writer lowers the hint; then a's claim on its fresh read goes through, two versions on.
    await b!.transaction('write', (tx) => tx.setScanHint('m1', 'tcp', RANGE.start, 47120));
    assert.ok(await claim('y', 47160, [], fresh));
    assert.equal(await hint(), 47120, 'the hint as the registry has it, not as a remembered');
  });

  it('survives the connection lost under a fresh read, and says so', async () => {
    const schema = uniqueSchema();
    const { engine } = (await engines(1, schema))[0]!;
    const holder = new pg.Client({ connectionString: server.url });
    await holder.connect();
    try {
      // The machine's version is the first thing a fresh read asks: it waits for this lock.
      await holder.query('BEGIN');
      await holder.query(`LOCK TABLE ${schema}.machines IN ACCESS EXCLUSIVE MODE`);
      const pending = engine.leases.allocate({ scope: 'app' }, [{ name: 'x', range: RANGE }]);
      pending.catch(() => undefined);
      for (let waited = 0; ; waited += 20) {
        const { rows } = await holder.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database() AND pid <> pg_backend_pid()`);
        if (rows.length > 0 || waited > 5_000) break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await holder.query('COMMIT');
      await assert.rejects(pending, StoreError);
    } finally {
      await holder.end();
    }
    assert.ok((await allocate(engine, 'y')) >= RANGE.start, 'the store goes on');
  });

  it("keeps schema 5's claim() working for a berth still running when the registry was upgraded, and counts its claims", async () => {
    const schema = uniqueSchema();
    const { store } = (await engines(1, schema))[0]!;
    await store.transaction('write', (tx) => tx.ensureScope('m1', 'app', null));
    const claim = (name: string, port: number, basis: Parameters<NonNullable<PostgresStore['claimNew']>>[3]) =>
      store.claimNew({ host: 'm1', name: 'app', directory: null }, [{ lease: lease(name, port, { host: 'm1', scope: 'app' }), hints: [] }], undefined, basis);
    // A fresh read, a claim on it, then a guess from what the store remembers.
    assert.ok(await claim('first', 47169, await store.guess(async (tx, basis) => (await tx.getScanHint('m1', 'tcp', RANGE.start), basis))));
    const basis = await store.guess(async (tx, basis) => (await tx.getScanHint('m1', 'tcp', RANGE.start), basis));
    assert.equal(basis.remembered, true);
    const target = { s: quoteSchema(schema), lockKey: writerLockKey(schema, 'm1'), channel: eventChannel(schema) };
    const call = claimCall(target, { host: 'm1', name: 'app', directory: null }, [{ lease: lease('old', 47170, { host: 'm1', scope: 'app' }), hints: [] }], undefined, null)!;
    const client = new pg.Client({ connectionString: server.url });
    await client.connect();
    try {
      // As a berth of schema 5 calls it: ten arguments, no version, the port as answer.
      const { rows } = await client.query(`SELECT "${schema}".claim($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) AS port`, [call.values[0], ...call.values.slice(2)]);
      assert.deepEqual(rows, [{ port: 47170 }]);
    } finally {
      await client.end();
    }
    // Its claim raised the machine's version: a claim on a guess from before it is refused.
    assert.equal(await claim('new', 47171, basis), null);
  });
});

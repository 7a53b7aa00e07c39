/**
 * Guesses made from what a PostgreSQL store remembers (Store.guess, recall.ts), against a
 * real server: a lone writer's allocation is one round trip, and a guess that another
 * writer of the machine made stale is refused by claim() and made again, so the answers
 * are the ones a fresh read gives (a freed port is found first, no port is given twice).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { LocalEngine } from '../../src/core/local-engine.js';
import { localMachine } from '../../src/os/machine.js';
import { openPostgresStore } from '../../src/store/postgres/open.js';
import type { PostgresStore } from '../../src/store/postgres/store.js';
import { lease } from '../helpers/fixtures.js';
import { pgUnavailable, startPg, uniqueSchema, type PgServer } from '../helpers/postgres.js';

const skip = pgUnavailable();
let server: PgServer;

if (skip === null) {
  before(async () => {
    server = await startPg();
  });
  after(async () => {
    await server?.stop();
  });
}

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
  async function engines(count: number): Promise<{ engine: LocalEngine; store: PostgresStore }[]> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-pg-guess-'));
    dirs.push(dir);
    const schema = uniqueSchema();
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
    // Another writer of the machine changes something the guess did not even read.
    await b!.transaction('write', (tx) => tx.ensureScope('m1', 'other', null));
    assert.equal(await claim('y', 47151, basis), null);
    assert.equal(await a!.transaction('read', (tx) => tx.getLease('m1', 'app', 'y')), null, 'nothing written');
    // A new guess stands on a fresh read, and its claim goes through.
    const fresh = await a!.guess(async (_tx, basis) => basis);
    assert.deepEqual((await claim('y', 47151, fresh))?.map((l) => l.port), [47151]);
  });
});

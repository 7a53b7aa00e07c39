/**
 * The PostgreSQL store against a real server (see test/helpers/postgres.ts): the store
 * conformance suite, each test in a schema of its own, and what is particular to
 * PostgreSQL: its schema, refusals, machines, lost connections.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pg from 'pg';
import { StoreError } from '../../src/errors.js';
import { openPostgresStore } from '../../src/store/postgres/open.js';
import { writerLockKey } from '../../src/store/postgres/names.js';
import { PostgresStore } from '../../src/store/postgres/store.js';
import { DEFAULT_RETENTION } from '../../src/store/store.js';
import { PG_MIGRATIONS, PG_SCHEMA_VERSION } from '../../src/store/postgres/schema.js';
import { HINT_WINDOW } from '../../src/store/postgres/recall.js';
import { hintWindowSql } from '../../src/store/postgres/tx.js';
import { lease } from '../helpers/fixtures.js';
import { createDatabase, dropDatabase, pgServerForFile, uniqueSchema } from '../helpers/postgres.js';
import { storeConformance } from './conformance.js';

const { skip, server } = pgServerForFile();

describe('postgres store', { skip: skip ?? false }, () => {
  storeConformance('postgres', async (opts) => {
    const store = await openPostgresStore(server.url, { schema: uniqueSchema(), host: 'local', ...opts });
    return { store, cleanup: async () => {} };
  });
});

describe('postgres store: schema, machines, failures', { skip: skip ?? false }, () => {
  /** A client on `url` for looking at what the store did, ended after `fn`. */
  async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      return await fn(client);
    } finally {
      await client.end();
    }
  }

  it('keeps its tables in a schema of its own, berth by default, marked and versioned', async () => {
    const url = await createDatabase(server);
    try {
      await withClient(url, (c) => c.query('CREATE TABLE public.app_users (id int)'));
      const store = await openPostgresStore(url, { host: 'm1' });
      await store.transaction('write', (tx) => tx.insertLease(lease('web', 4000, { host: 'm1' })));
      await store.close();
      await withClient(url, async (c) => {
        const meta = await c.query('SELECT key, value FROM berth.meta ORDER BY key');
        assert.deepEqual(meta.rows, [{ key: 'registry', value: 'berth' }, { key: 'version', value: String(PG_SCHEMA_VERSION) }]);
        const publicTables = await c.query("SELECT tablename FROM pg_tables WHERE schemaname = 'public'");
        assert.deepEqual(publicTables.rows, [{ tablename: 'app_users' }], 'nothing of berth outside its schema');
      });
    } finally {
      await dropDatabase(server, url);
    }
  });

  /**
   * A registry in `schema` as a berth of schema `version` (1 or 2) left it, holding one
   * lease, demo/web on 4000 of machine m1: no strategy column, the first keys of leases,
   * and no claim() (version 1) or version 2's.
   */
  async function registryAtVersion(url: string, schema: string, version: 1 | 2): Promise<void> {
    const first = await openPostgresStore(url, { schema, host: 'm1' });
    await first.transaction('write', (tx) => tx.insertLease(lease('web', 4000, { host: 'm1' })));
    await first.close();
    await withClient(url, async (c) => {
      await c.query(`DROP FUNCTION ${schema}.claim(bigint, text, text, text, text, json, json, json, text, json)`);
      await c.query(`DROP FUNCTION ${schema}.claim(bigint, bigint, text, text, text, text, json, json, json, text, json)`);
      await c.query(`DROP TABLE ${schema}.machines`);
      await c.query(`ALTER TABLE ${schema}.leases DROP COLUMN strategy`);
      // Migration 5's keys back to the first ones.
      await c.query(`ALTER TABLE ${schema}.leases DROP CONSTRAINT leases_pkey, DROP CONSTRAINT leases_port_key,
                     ADD CONSTRAINT leases_pkey PRIMARY KEY (host, scope, name), ADD CONSTRAINT leases_host_protocol_port_key UNIQUE (host, protocol, port)`);
      if (version === 2) await c.query(PG_MIGRATIONS[1]!(schema));
      await c.query(`UPDATE ${schema}.meta SET value = '${version}' WHERE key = 'version'`);
    });
  }

  it('upgrades a version 1 registry (before claim()) in place, its leases kept, and claims in one step after', async () => {
    const url = await createDatabase(server);
    const schema = uniqueSchema();
    try {
      await registryAtVersion(url, schema, 1);
      const store = await openPostgresStore(url, { schema, host: 'm1' });
      try {
        await store.transaction('write', (tx) => tx.ensureScope('m1', 'app', null));
        const made = await store.claimNew({ host: 'm1', name: 'app', directory: null }, [{ lease: lease('api', 4001, { host: 'm1', scope: 'app' }), hints: [] }]);
        assert.deepEqual(made?.map((l) => l.port), [4001]);
        assert.deepEqual((await store.transaction('read', (tx) => tx.listLeases())).map((l) => `${l.scope}/${l.name} ${l.port}`), ['app/api 4001', 'demo/web 4000']);
      } finally {
        await store.close();
      }
      await withClient(url, async (c) => {
        assert.equal((await c.query(`SELECT value FROM ${schema}.meta WHERE key = 'version'`)).rows[0].value, String(PG_SCHEMA_VERSION));
      });
    } finally {
      await dropDatabase(server, url);
    }
  });

  it('upgrades a version 2 registry in place: its leases kept with no strategy, and claim() then writes the strategy', async () => {
    const url = await createDatabase(server);
    const schema = uniqueSchema();
    try {
      await registryAtVersion(url, schema, 2);
      const store = await openPostgresStore(url, { schema, host: 'm1' });
      try {
        assert.equal((await store.transaction('read', (tx) => tx.getLease('m1', 'demo', 'web')))?.strategy, null);
        await store.transaction('write', (tx) => tx.ensureScope('m1', 'app', null));
        const made = await store.claimNew({ host: 'm1', name: 'app', directory: null }, [{ lease: lease('api', 4001, { host: 'm1', scope: 'app', strategy: 'hash' }), hints: [] }]);
        assert.deepEqual(made?.map((l) => l.strategy), ['hash']);
        assert.deepEqual((await store.transaction('read', (tx) => tx.listLeases())).map((l) => `${l.scope}/${l.name} ${l.strategy}`), ['app/api hash', 'demo/web null']);
        // Its keys are migration 5's, and still refuse a second lease of a port or a name.
        await withClient(url, async (c) => {
          const keys = await c.query(`SELECT conname, pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conrelid = '${schema}.leases'::regclass AND contype IN ('p', 'u') ORDER BY conname`);
          assert.deepEqual(keys.rows, [{ conname: 'leases_pkey', def: 'PRIMARY KEY (scope, name, host)' }, { conname: 'leases_port_key', def: 'UNIQUE (protocol, host, port)' }]);
        });
        await assert.rejects(store.transaction('write', (tx) => tx.insertLease(lease('other', 4001, { host: 'm1', scope: 'app' }))), /4001/);
        await assert.rejects(store.transaction('write', (tx) => tx.insertLease(lease('api', 4002, { host: 'm1', scope: 'app' }))), /app\/api/);
      } finally {
        await store.close();
      }
    } finally {
      await dropDatabase(server, url);
    }
  });

  it('refuses, untouched, a berth schema of a newer version and a schema of that name that is not berth\'s', async () => {
    const url = await createDatabase(server);
    try {
      await (await openPostgresStore(url, { schema: 'newer' })).close();
      await withClient(url, async (c) => {
        await c.query(`UPDATE newer.meta SET value = '${PG_SCHEMA_VERSION + 1}' WHERE key = 'version'`);
        await c.query('CREATE SCHEMA theirs; CREATE TABLE theirs.orders (id int)');
      });
      await assert.rejects(openPostgresStore(url, { schema: 'newer' }), (e) => e instanceof StoreError && /schema version \d+, newer than this berth/.test(e.message) && /untouched/.test(e.message));
      await assert.rejects(openPostgresStore(url, { schema: 'theirs' }), (e) => e instanceof StoreError && /not a berth registry \(it holds orders\)/.test(e.message));
      await withClient(url, async (c) => {
        assert.equal((await c.query("SELECT value FROM newer.meta WHERE key = 'version'")).rows[0].value, String(PG_SCHEMA_VERSION + 1));
        assert.deepEqual((await c.query("SELECT tablename FROM pg_tables WHERE schemaname = 'theirs'")).rows, [{ tablename: 'orders' }]);
      });
    } finally {
      await dropDatabase(server, url);
    }
  });

  it('migrates once when many machines connect at once to a new database', async () => {
    const url = await createDatabase(server);
    try {
      const stores = await Promise.all(Array.from({ length: 12 }, (_, i) => openPostgresStore(url, { host: `m${i}` })));
      await Promise.all(stores.map((s, i) => s.transaction('write', (tx) => tx.insertLease(lease('web', 4000, { host: `m${i}` })))));
      const all = await stores[0]!.transaction('read', (tx) => tx.listLeases());
      assert.equal(all.length, 12, 'the same port on twelve machines');
      await Promise.all(stores.map((s) => s.close()));
    } finally {
      await dropDatabase(server, url);
    }
  });

  it('serialises the writers of one machine, and lets another machine write meanwhile', async () => {
    const schema = uniqueSchema();
    const [a1, a2, b] = await Promise.all([
      openPostgresStore(server.url, { schema, host: 'a' }),
      openPostgresStore(server.url, { schema, host: 'a' }),
      openPostgresStore(server.url, { schema, host: 'b' }),
    ]);
    let release: () => void = () => {};
    const held = new Promise<void>((r) => (release = r));
    try {
      let entered!: () => void;
      const inside = new Promise<void>((r) => (entered = r));
      const first = a1.transaction('write', async (tx) => {
        // The lock comes with the transaction's first statement: the read of a read-check-write.
        await tx.getLease('a', 'demo', 'web');
        entered();
        await held;
        return tx.insertLease(lease('web', 4000, { host: 'a' }));
      });
      await inside;
      let secondDone = false;
      const second = a2.transaction('write', (tx) => tx.insertLease(lease('api', 4001, { host: 'a' }))).then(() => (secondDone = true));
      // Machine b writes while a's first writer holds a's lock.
      await b.transaction('write', (tx) => tx.insertLease(lease('web', 4000, { host: 'b' })));
      assert.equal(secondDone, false, "a's second writer waits for its first");
      release();
      await first;
      await second;
      assert.deepEqual((await a1.transaction('read', (tx) => tx.listLeases({ host: 'a' }))).map((l) => l.name), ['web', 'api']);
    } finally {
      release();
      await Promise.all([a1.close(), a2.close(), b.close()]);
    }
  });

  it('a connection lost mid-transaction is a StoreError (exit 4), and nothing of the transaction is written', async () => {
    const schema = uniqueSchema();
    const store = await openPostgresStore(server.url, { schema, host: 'm' });
    try {
      const failed = store.transaction('write', async (tx) => {
        await tx.insertLease(lease('web', 4000, { host: 'm' }));
        await withClient(server.url, (c) => c.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'berth' AND state = 'idle in transaction'"));
        return tx.insertLease(lease('api', 4001, { host: 'm' }));
      });
      await assert.rejects(failed, (e) => e instanceof StoreError && e.exitCode === 4 && /lost the connection/.test(e.message) && /Nothing was changed/.test(e.message));
      assert.deepEqual(await store.transaction('read', (tx) => tx.listLeases()), [], 'the next transaction works, on a new connection, and sees nothing');
    } finally {
      await store.close();
    }
  });

  it('a table another machine\'s newer berth widened fails one transaction at most, not every use of a prepared statement after it', async () => {
    // Statements are prepared once per connection; a column added under them makes the
    // server refuse them (0A000) on that connection until it is prepared anew.
    const schema = uniqueSchema();
    const store = await openPostgresStore(server.url, { schema, host: 'm' });
    try {
      await store.transaction('write', (tx) => tx.insertLease(lease('web', 4000, { host: 'm' })));
      for (let i = 0; i < 3; i++) assert.equal((await store.transaction('read', (tx) => tx.listLeases({ host: 'm' }))).length, 1);
      await withClient(server.url, (c) => c.query(`ALTER TABLE "${schema}".leases ADD COLUMN added_later text`));
      const outcomes: string[] = [];
      for (let i = 0; i < 4; i++) {
        outcomes.push(
          await store.transaction('read', (tx) => tx.listLeases({ host: 'm' })).then(
            (leases) => `ok ${leases.map((l) => l.name).join()}`,
            (e: Error) => `failed: ${e.message}`,
          ),
        );
      }
      assert.ok(outcomes.filter((o) => o.startsWith('failed')).length <= 1, outcomes.join('\n'));
      assert.deepEqual(outcomes.slice(1), ['ok web', 'ok web', 'ok web'], outcomes.join('\n'));
    } finally {
      await store.close();
    }
  });

  it('a writer that times out waiting for its machine\'s lock says so, not that its transaction was aborted; the store goes on', async () => {
    const schema = uniqueSchema();
    await (await openPostgresStore(server.url, { schema, host: 'm' })).close();
    // The store as openPostgresStore makes it, but with a lock timeout a test can wait out (60 s there).
    const appName = `berth-lock-${schema}`;
    const pool = new pg.Pool({ connectionString: server.url, application_name: appName, lock_timeout: 1000, pipeline: true, max: 2 });
    const store = new PostgresStore({ pool, listener: () => new pg.Client({ connectionString: server.url }), location: 'pg-test', host: 'm', schema, quoted: `"${schema}"`, retention: DEFAULT_RETENTION });
    const holder = new pg.Client({ connectionString: server.url });
    const watcher = new pg.Client({ connectionString: server.url });
    await Promise.all([holder.connect(), watcher.connect()]);
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT pg_advisory_xact_lock($1)', [writerLockKey(schema, 'm')]);
      const failed = store.transaction('write', (tx) => tx.insertLease(lease('web', 4000, { host: 'm' })));
      failed.catch(() => undefined); // asserted below: not unhandled meanwhile
      // Until the writer waits for the lock (the watcher is outside the holder's transaction,
      // which would see one snapshot of the activity).
      for (let i = 0; i < 500; i++) {
        const { rows } = await watcher.query("SELECT 1 FROM pg_stat_activity WHERE application_name = $1 AND wait_event = 'advisory'", [appName]);
        if (rows.length > 0) break;
        await new Promise((r) => setTimeout(r, 5));
      }
      // The server answers the lock's timeout and, at once, the statement written behind it
      // (refused: the transaction is aborted). A busy client reads both answers in one go; be
      // that client: read nothing until both are there.
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2500);
      await assert.rejects(failed, (e) => e instanceof StoreError && e.details?.code === '55P03' && /stayed locked by another writer of this machine/.test(e.message));
      await holder.query('COMMIT');
      await store.transaction('write', (tx) => tx.insertLease(lease('web', 4000, { host: 'm' })));
      assert.deepEqual((await store.transaction('read', (tx) => tx.listLeases())).map((l) => l.name), ['web']);
    } finally {
      await Promise.all([holder.end(), watcher.end()]);
      await store.close();
    }
  });

  it('looks leases up by their own keys, in plans made while the registry was young and still used when it has grown', async () => {
    const url = await createDatabase(server);
    const schema = uniqueSchema();
    try {
      await (await openPostgresStore(url, { schema, host: 'm0' })).close();
      await withClient(url, async (c) => {
        // No two unique keys of leases lead with the same column, so no lookup can match a
        // prefix of the other key and filter the rest.
        const keys = await c.query(
          `SELECT (SELECT attname FROM pg_attribute WHERE attrelid = i.indrelid AND attnum = i.indkey[0]) AS first
           FROM pg_index i WHERE i.indrelid = '${schema}.leases'::regclass AND i.indisunique`,
        );
        assert.equal(new Set(keys.rows.map((r) => r.first)).size, keys.rows.length, JSON.stringify(keys.rows));

        // 50 leases of 4 machines, which no analyze has seen (as in a registry's first minute),
        // and the plans a session settles on after five calls, made at once.
        await c.query(`ALTER TABLE ${schema}.leases SET (autovacuum_enabled = false)`);
        const add = (from: number, to: number) =>
          c.query(`INSERT INTO ${schema}.leases (host, scope, name, port, protocol, created_at, updated_at)
                   SELECT 'm' || (g % 4), 's' || g, 'web', 10000 + g, 'tcp', 'x', 'x' FROM generate_series(${from}, ${to}) g`);
        await add(0, 49);
        await c.query(`INSERT INTO ${schema}.scan_hints (host, protocol, start, next) VALUES ('m1', 'tcp', 10000, 11000)`);
        await c.query('SET plan_cache_mode = force_generic_plan');
        await c.query(`PREPARE hint_window(text, text, integer, integer) AS ${hintWindowSql(schema)}`);
        // The lookups of PgTx and claim(): by name, and by port.
        await c.query(`PREPARE by_name(text, text, text) AS SELECT * FROM ${schema}.leases WHERE host = $1 AND scope = $2 AND name = $3`);
        await c.query(`PREPARE by_port(text, text, integer) AS SELECT * FROM ${schema}.leases WHERE host = $1 AND protocol = $2 AND port = $3`);
        // (A plan is made at a statement's first run, not when it is prepared.)
        for (const run of [`hint_window('m1', 'tcp', 10000, ${HINT_WINDOW})`, `by_name('m1', 's1', 'web')`, `by_port('m1', 'tcp', 10001)`]) await c.query(`EXECUTE ${run}`);
        await add(50, 11999);

        // Every row any node of a plan read from leases, kept or filtered out.
        type Node = { 'Relation Name'?: string; 'Actual Rows': number; 'Rows Removed by Filter'?: number; 'Rows Removed by Join Filter'?: number; 'Rows Removed by Index Recheck'?: number; Plans?: Node[] };
        const read = (n: Node): number =>
          (n['Relation Name'] === 'leases' ? n['Actual Rows'] + (n['Rows Removed by Filter'] ?? 0) + (n['Rows Removed by Index Recheck'] ?? 0) : 0) +
          (n['Rows Removed by Join Filter'] ?? 0) +
          (n.Plans ?? []).reduce((sum, p) => sum + read(p), 0);
        const rowsRead = async (execute: string): Promise<number> => {
          const [{ 'QUERY PLAN': [{ Plan: plan }] }] = (await c.query(`EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE ${execute}`)).rows;
          return read(plan as Node);
        };
        // m1 holds every fourth port: 16 of the window's 64.
        const window = Array.from({ length: HINT_WINDOW }, (_, i) => 11000 + i).filter((p) => p % 4 === 1);
        assert.equal(await rowsRead(`hint_window('m1', 'tcp', 10000, ${HINT_WINDOW})`), window.length);
        assert.equal(await rowsRead(`by_name('m1', 's4001', 'web')`), 1);
        assert.equal(await rowsRead(`by_port('m1', 'tcp', 14001)`), 1);
        const rows = (await c.query(`EXECUTE hint_window('m1', 'tcp', 10000, ${HINT_WINDOW})`)).rows as { hint: number; port: number }[];
        assert.deepEqual(rows.map((r) => r.port).sort((a, b) => a - b), window);
        assert.ok(rows.every((r) => r.hint === 11000));
      });
    } finally {
      await dropDatabase(server, url);
    }
  });

  it('names the server it cannot reach, as a StoreError', async () => {
    await assert.rejects(openPostgresStore('postgres://berth@127.0.0.1:1/none'), (e) => e instanceof StoreError && /cannot connect to the PostgreSQL registry postgres:\/\/berth@127\.0\.0\.1:1\/none/.test(e.message));
  });
});

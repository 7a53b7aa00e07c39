import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { StoreError, UsageError } from '../../src/errors.js';
import { MIGRATIONS, SCHEMA_VERSION } from '../../src/store/sqlite-schema.js';
import { defaultDbPath, openSqliteStore } from '../../src/store/sqlite-store.js';
import { tempDir } from '../helpers/cli.js';
import { lease, seriesPool } from '../helpers/fixtures.js';
import { storeConformance } from './conformance.js';

storeConformance('sqlite', async (opts) => {
  const { dir, cleanup } = tempDir();
  return { store: openSqliteStore(path.join(dir, 'nested', 'berth.db'), opts), cleanup: async () => cleanup() };
});

/**
 * A store file in `dir` as berth left it at schema `version` (its first `version`
 * migrations), holding one lease, old/web on 4000, written as that version wrote it.
 */
function storeAtVersion(dir: string, version: number): string {
  const file = path.join(dir, `v${version}.db`);
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  for (const migration of MIGRATIONS.slice(0, version)) db.exec(migration);
  db.pragma(`user_version = ${version}`);
  db.prepare(
    `INSERT INTO leases (host, scope, name, port, protocol, ephemeral, created_at, updated_at)
     VALUES ('local', 'old', 'web', 4000, 'tcp', 0, '2024-01-01T00:00:00.000Z', '2024-01-01T00:00:00.000Z')`,
  ).run();
  db.close();
  return file;
}

describe('sqlite store', () => {
  it('lives under XDG_STATE_HOME, else ~/.local/state', () => {
    assert.equal(defaultDbPath({ XDG_STATE_HOME: '/x/state', HOME: '/home/u' }), '/x/state/berth/berth.db');
    assert.equal(defaultDbPath({ HOME: '/home/u' }), '/home/u/.local/state/berth/berth.db');
    assert.equal(defaultDbPath({ BERTH_STATE_DIR: '/s/b', XDG_STATE_HOME: '/x/state' }), '/s/b/berth.db', 'BERTH_STATE_DIR holds the default store (one daemon per state directory)');
  });

  it('creates the file in WAL mode with the current schema version', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const file = path.join(dir, 'b.db');
      const store = openSqliteStore(file);
      await store.close();
      const db = new Database(file, { readonly: true });
      assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
      assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
      db.close();
    } finally {
      cleanup();
    }
  });

  it('makes new files with 1 KiB pages; an older store with 4 KiB pages opens and works as before', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const file = path.join(dir, 'b.db');
      const store = openSqliteStore(file);
      await store.transaction('write', (tx) => tx.insertLease(lease('web', 4100)));
      await store.close();
      let db = new Database(file);
      assert.equal(db.pragma('page_size', { simple: true }), 1024);
      // Turn it into a store as berth wrote them before: 4 KiB pages.
      db.pragma('journal_mode = DELETE');
      db.pragma('page_size = 4096');
      db.exec('VACUUM');
      db.pragma('journal_mode = WAL');
      db.close();

      const older = openSqliteStore(file);
      await older.transaction('write', (tx) => tx.insertLease(lease('api', 4101)));
      assert.deepEqual((await older.transaction('read', (tx) => tx.listLeases({}))).map((l) => `${l.name}:${l.port}`).sort(), ['api:4101', 'web:4100']);
      await older.close();
      db = new Database(file, { readonly: true });
      assert.equal(db.pragma('page_size', { simple: true }), 4096);
      assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
      db.close();
    } finally {
      cleanup();
    }
  });

  it('refuses a file that is not a database and leaves it byte-for-byte untouched', () => {
    const { dir, cleanup } = tempDir();
    try {
      const file = path.join(dir, 'notes.db');
      const text = 'my precious notes, not a database\n'.repeat(50);
      fs.writeFileSync(file, text);
      const before = fs.statSync(file);
      assert.throws(() => openSqliteStore(file), (err) => err instanceof StoreError && err.exitCode === 4 && /not a berth database/.test(err.message) && /--db/.test(err.message));
      assert.equal(fs.readFileSync(file, 'utf8'), text);
      assert.equal(fs.statSync(file).mtimeMs, before.mtimeMs);
      assert.deepEqual(fs.readdirSync(dir), ['notes.db'], 'no -wal or -shm files appear');
    } finally {
      cleanup();
    }
  });

  it('upgrades a store from the first schema version, keeping its leases', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const file = path.join(dir, 'old.db');
      const db = new Database(file);
      db.exec(MIGRATIONS[0]!);
      db.pragma('user_version = 1');
      db.prepare(
        `INSERT INTO leases (host, scope, name, port, protocol, ephemeral, created_at, updated_at)
         VALUES ('local', 'old', 'web', 4000, 'tcp', 0, 'then', 'then')`,
      ).run();
      db.close();
      const store = openSqliteStore(file);
      try {
        const [lease] = await store.transaction('read', (tx) => tx.listLeases());
        assert.equal(lease?.port, 4000);
      } finally {
        await store.close();
      }
      const after = new Database(file, { readonly: true });
      assert.equal(after.pragma('user_version', { simple: true }), SCHEMA_VERSION);
      after.close();
    } finally {
      cleanup();
    }
  });

  it('upgrades a schema-3 store in place: its leases stay, with no strategy recorded; new leases record theirs', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const file = storeAtVersion(dir, 3);
      const store = openSqliteStore(file);
      try {
        assert.deepEqual(await store.transaction('read', (tx) => tx.getLease('local', 'old', 'web')), lease('web', 4000, { scope: 'old', strategy: null }));
        const made = await store.transaction('write', (tx) => tx.insertLease({ ...lease('api', 4001, { scope: 'old' }), strategy: 'range' }));
        assert.equal(made.strategy, 'range');
        assert.equal((await store.transaction('read', (tx) => tx.getLease('local', 'old', 'api')))?.strategy, 'range');
      } finally {
        await store.close();
      }
      const after = new Database(file, { readonly: true });
      assert.equal(after.pragma('user_version', { simple: true }), SCHEMA_VERSION);
      after.close();
    } finally {
      cleanup();
    }
  });

  it('upgrades a schema-2 store in place: its leases stay, history and pool definitions work', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const file = storeAtVersion(dir, 2);
      const store = openSqliteStore(file);
      try {
        assert.deepEqual(await store.transaction('read', (tx) => tx.getLease('local', 'old', 'web')), lease('web', 4000, { scope: 'old' }));
        assert.equal(await store.transaction('read', (tx) => tx.lastEventId()), 0);
        await store.transaction('write', (tx) => tx.updateLease('local', 'old', 'web', { port: 4001 }));
        await store.transaction('write', (tx) => tx.savePool('local', seriesPool('p', { web: 5000 })));
        const [event] = await store.transaction('read', (tx) => tx.listEvents({ port: 4000 }));
        assert.equal(event?.change, 'moved');
        assert.equal(event?.port, 4001);
        assert.deepEqual(await store.transaction('read', (tx) => tx.getPool('local', 'p')), seriesPool('p', { web: 5000 }));
      } finally {
        await store.close();
      }
      const after = new Database(file, { readonly: true });
      assert.equal(after.pragma('user_version', { simple: true }), SCHEMA_VERSION);
      assert.equal(after.pragma('integrity_check', { simple: true }), 'ok');
      after.close();
    } finally {
      cleanup();
    }
  });

  it('prunes history on the first write after it is opened', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const file = path.join(dir, 'b.db');
      const first = openSqliteStore(file);
      await first.transaction('write', async (tx) => {
        for (let k = 0; k < 10; k++) await tx.insertLease(lease(`s${k}`, 4000 + k));
      });
      await first.close();
      const reopened = openSqliteStore(file, { retention: { maxEvents: 3, maxAgeDays: 1 } });
      try {
        assert.equal((await reopened.transaction('read', (tx) => tx.listEvents())).length, 10, 'opening alone writes nothing');
        await reopened.transaction('write', (tx) => tx.deleteLease('local', 'demo', 's0'));
        const kept = await reopened.transaction('read', (tx) => tx.listEvents());
        assert.deepEqual(kept.map((e) => `${e.change} ${e.name}`), ['created s8', 'created s9', 'deleted s0']);
        assert.equal(await reopened.transaction('read', (tx) => tx.lastEventId()), 11);
      } finally {
        await reopened.close();
      }
    } finally {
      cleanup();
    }
  });

  it('refuses a retention that keeps nothing sensible', () => {
    const { dir, cleanup } = tempDir();
    try {
      const file = path.join(dir, 'b.db');
      assert.throws(() => openSqliteStore(file, { retention: { maxEvents: -1, maxAgeDays: 1 } }), (err) => err instanceof UsageError && /maxEvents/.test(err.message));
      assert.throws(() => openSqliteStore(file, { retention: { maxEvents: 10, maxAgeDays: 0 } }), (err) => err instanceof UsageError && /maxAgeDays/.test(err.message));
      assert.deepEqual(fs.readdirSync(dir), [], 'refused before the file was made');
    } finally {
      cleanup();
    }
  });

  it('refuses a store written by a newer berth', () => {
    const { dir, cleanup } = tempDir();
    try {
      const file = path.join(dir, 'b.db');
      const db = new Database(file);
      db.pragma(`user_version = ${SCHEMA_VERSION + 5}`);
      db.close();
      assert.throws(() => openSqliteStore(file), (err) => err instanceof StoreError && /newer than this berth/.test(err.message));
    } finally {
      cleanup();
    }
  });

  it("refuses another application's SQLite file before writing a byte", () => {
    const { dir, cleanup } = tempDir();
    try {
      const file = path.join(dir, 'app.sqlite');
      const other = new Database(file);
      other.exec("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT); CREATE INDEX users_by_name ON users (name); INSERT INTO users (name) VALUES ('ada');");
      other.close();
      const bytes = fs.readFileSync(file);
      assert.throws(
        () => openSqliteStore(file),
        (err) => err instanceof StoreError && err.exitCode === 4 && /is an SQLite database but not berth's \(it holds tables users and no berth schema\)\. It was left untouched/.test(err.message),
      );
      assert.ok(fs.readFileSync(file).equals(bytes), 'byte-identical: no WAL header, no berth tables');
      assert.deepEqual(fs.readdirSync(dir), ['app.sqlite'], 'no -wal, -shm or -journal files');
      const check = new Database(file, { readonly: true });
      assert.deepEqual(check.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all(), ['users']);
      check.close();
    } finally {
      cleanup();
    }
  });

  it('initialises an SQLite file that holds no tables', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const file = path.join(dir, 'blank.sqlite');
      const blank = new Database(file);
      blank.exec('CREATE TABLE t (x); DROP TABLE t;');
      blank.close();
      const store = openSqliteStore(file);
      await store.close();
      const db = new Database(file, { readonly: true });
      assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
      db.close();
    } finally {
      cleanup();
    }
  });

  it('refuses a directory, and a path below a file, with a StoreError', () => {
    const { dir, cleanup } = tempDir();
    try {
      assert.throws(() => openSqliteStore(dir), (err) => err instanceof StoreError && /is a directory, not a berth database/.test(err.message));
      assert.deepEqual(fs.readdirSync(dir), []);
      const file = path.join(dir, 'plain');
      fs.writeFileSync(file, 'x');
      assert.throws(
        () => openSqliteStore(path.join(file, 'a', 'b.db')),
        (err) => err instanceof StoreError && /cannot create the directory for the store .*: .*plain is not a directory/.test(err.message),
      );
      assert.deepEqual(fs.readdirSync(dir), ['plain']);
    } finally {
      cleanup();
    }
  });

  it('creates missing parent directories, several levels deep', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const store = openSqliteStore(path.join(dir, 'a', 'b', 'c', 'berth.db'));
      await store.close();
      assert.ok(fs.statSync(path.join(dir, 'a', 'b', 'c', 'berth.db')).isFile());
    } finally {
      cleanup();
    }
  });

  it('12 processes opening one new file at once all succeed (the foreign-file check reads version and tables together)', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const file = path.join(dir, 'deep', 'fresh.db');
      const module = new URL('../../src/store/sqlite-store.js', import.meta.url).href;
      const code = `const { openSqliteStore } = await import(${JSON.stringify(module)}); await openSqliteStore(${JSON.stringify(file)}).close();`;
      const runs = await Promise.all(
        Array.from({ length: 12 }, () =>
          new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
            const child = spawn(process.execPath, ['--input-type=module', '-e', code], { cwd: path.dirname(fileURLToPath(import.meta.url)) });
            let stderr = '';
            child.stderr.on('data', (d) => (stderr += d));
            const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
            child.on('error', reject);
            child.on('close', (exit) => (clearTimeout(timer), resolve({ code: exit, stderr })));
          }),
        ),
      );
      runs.forEach((r, i) => assert.equal(r.code, 0, `process ${i}: ${r.stderr}`));
      const db = new Database(file, { readonly: true });
      assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
      db.close();
    } finally {
      cleanup();
    }
  });
});

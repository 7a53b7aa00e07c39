import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { StoreError } from '../../src/errors.js';
import { SCHEMA_VERSION } from '../../src/store/sqlite-schema.js';
import { defaultDbPath, openSqliteStore } from '../../src/store/sqlite-store.js';
import { tempDir } from '../helpers/cli.js';
import { storeConformance } from './conformance.js';

storeConformance('sqlite', async () => {
  const { dir, cleanup } = tempDir();
  return { store: openSqliteStore(path.join(dir, 'nested', 'berth.db')), cleanup: async () => cleanup() };
});

describe('sqlite store', () => {
  it('lives under XDG_STATE_HOME, else ~/.local/state', () => {
    assert.equal(defaultDbPath({ XDG_STATE_HOME: '/x/state', HOME: '/home/u' }), '/x/state/berth/berth.db');
    assert.equal(defaultDbPath({ HOME: '/home/u' }), '/home/u/.local/state/berth/berth.db');
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
});

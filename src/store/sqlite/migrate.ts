/**
 * Bringing a file to the current schema when a connection opens: refuse a newer berth's
 * store or another application's database untouched, set WAL mode, run the missing
 * migrations in one transaction.
 */
import type Database from 'better-sqlite3';
import { StoreError } from '../../errors.js';
import { retryBusySync } from './busy.js';
import { MIGRATIONS, SCHEMA_VERSION } from './schema.js';

/**
 * Migrates, retrying while another process holds a lock (switching a brand-new file to
 * WAL while others open it too, or migrating it), up to BUSY_TIMEOUT_MS.
 */
export function migrateWhenUnlocked(db: Database.Database, location: string): void {
  retryBusySync(() => migrate(db, location));
}

/** Pages of WAL between automatic checkpoints (4 MiB at 1 KiB pages). */
export const WAL_CHECKPOINT_PAGES = 4096;

function migrate(db: Database.Database, location: string): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > SCHEMA_VERSION) throw newerSchema(location, version);
  if (version === 0) {
    assertNotForeign(db, location);
    // A new file only (SQLite ignores this once the file has pages): 1 KiB pages, because
    // an allocation rewrites three b-tree pages and WAL mode writes and later syncs whole
    // pages. Small rows fit many to a 1 KiB page; commits write a quarter of the bytes.
    db.pragma('page_size = 1024');
  }
  if (db.pragma('journal_mode', { simple: true }) !== 'wal') db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  // Checkpoint the WAL every WAL_CHECKPOINT_PAGES pages instead of SQLite's 1000: with
  // 1 KiB pages and ~7 pages a commit, the default checkpointed (two fsyncs, on the
  // writer's thread) every ~140 allocations, which made the API's p99. 4 MiB of WAL
  // between checkpoints keeps them rare; readers never wait for them in WAL mode.
  db.pragma(`wal_autocheckpoint = ${WAL_CHECKPOINT_PAGES}`);
  if (version === SCHEMA_VERSION) return;
  db.exec('BEGIN IMMEDIATE');
  try {
    // Re-read inside the lock: another process may have migrated meanwhile.
    const current = db.pragma('user_version', { simple: true }) as number;
    if (current > SCHEMA_VERSION) throw newerSchema(location, current);
    for (let v = current; v < SCHEMA_VERSION; v++) db.exec(MIGRATIONS[v]!);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
    db.exec('COMMIT');
  } catch (err) {
    if (db.inTransaction) db.exec('ROLLBACK');
    throw err;
  }
}

function newerSchema(location: string, version: number): StoreError {
  return new StoreError(
    `the store ${location} has schema version ${version}, newer than this berth understands (${SCHEMA_VERSION}). Upgrade berth.`,
  );
}

/**
 * Refuses, before anything is written (WAL mode rewrites the header), a database that has
 * no berth schema version but holds tables: another application's file. Version and
 * tables are read in one statement, so a berth process migrating the file at the same
 * moment is seen either wholly before (no tables) or wholly after (version set).
 */
function assertNotForeign(db: Database.Database, location: string): void {
  const row = db
    .prepare<[], { version: number; objects: number; tables: string | null }>(
      `SELECT (SELECT user_version FROM pragma_user_version) AS version,
              (SELECT count(*) FROM sqlite_master) AS objects,
              (SELECT group_concat(name, ', ') FROM (SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name LIMIT 5)) AS tables`,
    )
    .get()!;
  if (row.version !== 0 || row.objects === 0) return;
  throw new StoreError(
    `the store ${location} is an SQLite database but not berth's (it holds ${row.tables ? `tables ${row.tables}` : 'other objects'} ` +
      `and no berth schema). It was left untouched. Point berth at another file with --db PATH or BERTH_DB.`,
    { file: location },
  );
}

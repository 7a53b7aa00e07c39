/**
 * Opening a SQLite store: check the file, create its directory, connect once per file and
 * process (later opens share that connection), migrate.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import Database from 'better-sqlite3';
import { StoreError } from '../../errors.js';
import { checkRetention } from '../retention.js';
import { DEFAULT_RETENTION, type HistoryRetention } from '../store.js';
import { isBusy } from './busy.js';
import { SharedConnection } from './connection.js';
import { storeErrorOf } from './errors.js';
import { assertDatabaseFile, canonicalPath, makeDirectory } from './files.js';
import { migrateWhenUnlocked } from './migrate.js';
import { SqliteStore } from './store.js';
import { stateDir } from '../../fs/state-dir.js';

/** better-sqlite3's compiled addon, as a module specifier. */
const ADDON = 'better-sqlite3/build/Release/better_sqlite3.node';

/**
 * The compiled SQLite addon, named directly: better-sqlite3's own lookup probes a dozen
 * paths on every start (~3.5 ms) and, inside the CLI bundle, looks beside the bundle
 * rather than beside itself. The fast path looks in node_modules beside this file and
 * above it, one stat a level (Node's resolver takes ~1 ms); elsewhere (NODE_PATH, global
 * folders) Node's resolver decides. Undefined only when neither finds it.
 */
function nativeBinding(): string | undefined {
  const here = import.meta.filename;
  for (let dir = path.dirname(here); ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', ADDON);
    if (existsSync(candidate)) return candidate;
    if (path.dirname(dir) === dir) break;
  }
  try {
    return createRequire(here).resolve(ADDON);
  } catch {
    // Not resolvable from here either: better-sqlite3 then searches itself, and says what is missing.
    return undefined;
  }
}

/** Options of openSqliteStore. */
export interface SqliteStoreOptions {
  /** How long history is kept; DEFAULT_RETENTION when absent. */
  readonly retention?: HistoryRetention;
}

/** This process's open connections, by the file's real path. */
const connections = new Map<string, SharedConnection>();

/** Where the store lives when neither --db nor BERTH_DB says. */
export function defaultDbPath(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(stateDir(env), 'berth.db');
}

/**
 * Opens (creating if needed) the SQLite store at `file`, migrating its schema.
 * A file that is not a database, is another application's database, or is from a newer
 * berth, is refused untouched. Stores opened on one file by one process share one
 * connection, and their transactions queue in the order asked; each store is closed on its own.
 */
export function openSqliteStore(file: string, opts: SqliteStoreOptions = {}): SqliteStore {
  const retention = checkRetention(opts.retention ?? DEFAULT_RETENTION);
  const location = path.resolve(file);
  assertDatabaseFile(location);
  try {
    makeDirectory(path.dirname(location));
  } catch (err) {
    throw new StoreError(
      `cannot create the directory for the store ${location}: ${(err as Error).message}. Pass --db PATH to use another file.`,
      { file: location },
    );
  }
  const key = canonicalPath(location);
  let connection = connections.get(key);
  if (!connection) {
    const made: SharedConnection = new SharedConnection(connect(location), () => {
      if (connections.get(key) === made) connections.delete(key);
    });
    connections.set(key, made);
    connection = made;
  }
  connection.acquire();
  return new SqliteStore(connection, location, retention);
}

/** A new connection to a checked file, migrated to the current schema. */
function connect(location: string): Database.Database {
  let db: Database.Database;
  try {
    // No busy timeout: SQLite would wait inside the call, blocking the event loop; busy.ts waits instead.
    db = new Database(location, { timeout: 0, nativeBinding: nativeBinding() });
  } catch (err) {
    const mapped = storeErrorOf(err, location, 'opening');
    if (mapped instanceof StoreError) throw mapped;
    throw new StoreError(`cannot open the store ${location}: ${(err as Error).message}. Pass --db PATH to use another file.`, { file: location });
  }
  try {
    migrateWhenUnlocked(db, location);
  } catch (err) {
    db.close();
    if (err instanceof StoreError) throw err;
    if (isBusy(err)) throw new StoreError(`the store ${location} stayed locked by another process. Try again.`, { file: location });
    const mapped = storeErrorOf(err, location, 'opening');
    if (mapped instanceof StoreError) throw mapped;
    throw new StoreError(`the store ${location} cannot be used: ${(err as Error).message}. It was left as it was; move it aside or pass --db PATH.`, { file: location });
  }
  return db;
}

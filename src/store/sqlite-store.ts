/**
 * The default store: one SQLite file (better-sqlite3), WAL mode. The code lives in
 * sqlite/; this module is the path the rest of berth and its tests import.
 */
export { BUSY_TIMEOUT_MS } from './sqlite/busy.js';
export { defaultDbPath, openSqliteStore, type SqliteStoreOptions } from './sqlite/open.js';
export { SQLITE_HOST, SqliteStore } from './sqlite/store.js';

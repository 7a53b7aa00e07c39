/**
 * The default store: one SQLite file (better-sqlite3), WAL mode, writers serialised by
 * `BEGIN IMMEDIATE` across processes and by a promise queue within this process.
 */
import { closeSync, existsSync, mkdirSync, openSync, readSync, statSync, type Stats } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import Database from 'better-sqlite3';
import { ConflictError, NotFoundError, StoreError } from '../errors.js';
import type { Lease, NewLease, Protocol, Scope } from '../types.js';
import { MIGRATIONS, SCHEMA_VERSION } from './sqlite-schema.js';
import type { LeaseChanges, LeaseFilter, SlotHolder, Store, StoreTx, TxMode } from './store.js';

/** How long a writer waits for another process's transaction before giving up. */
export const BUSY_TIMEOUT_MS = 15_000;

/** The 16 bytes every SQLite database file starts with. */
const SQLITE_HEADER = 'SQLite format 3\u0000';

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
    return undefined;
  }
}

/** The one host a SQLite registry describes: the machine it lives on. */
export const SQLITE_HOST = 'local';

interface LeaseRow {
  host: string;
  scope: string;
  name: string;
  port: number;
  protocol: Protocol;
  purpose: string | null;
  pool: string | null;
  slot: number | null;
  ephemeral: number;
  pid: number | null;
  created_at: string;
  updated_at: string;
}

interface ScopeRow {
  host: string;
  name: string;
  directory: string | null;
  created_at: string;
}

function toLease(row: LeaseRow): Lease {
  return {
    host: row.host,
    scope: row.scope,
    name: row.name,
    port: row.port,
    protocol: row.protocol,
    purpose: row.purpose,
    pool: row.pool,
    slot: row.slot,
    ephemeral: row.ephemeral === 1,
    pid: row.pid,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function toScope(row: ScopeRow): Scope {
  return { host: row.host, name: row.name, directory: row.directory, createdAt: row.created_at };
}

function isSqliteError(err: unknown, code: string): boolean {
  return err instanceof Error && 'code' in err && String((err as { code: unknown }).code).startsWith(code);
}

/**
 * Refuses, without writing a byte, a path that exists but is not an SQLite database file
 * (a directory, a device, a text file). Opening such a file and setting WAL mode could
 * otherwise touch it.
 */
function assertDatabaseFile(file: string): void {
  let stats: Stats;
  try {
    stats = statSync(file);
  } catch (err) {
    // Absent, or a parent is a file: nothing to protect; creating the directory says why.
    if (isSqliteError(err, 'ENOENT') || isSqliteError(err, 'ENOTDIR')) return;
    throw new StoreError(`cannot read the store ${file}: ${(err as Error).message}. Check its permissions, or pass --db PATH.`, { file });
  }
  if (!stats.isFile()) {
    const [what, example] = stats.isDirectory() ? ['a directory', ` (e.g. ${path.join(file, 'berth.db')})`] : ['not a regular file', ''];
    throw new StoreError(
      `the store ${file} is ${what}, not a berth database. It was left untouched. ` +
        `Point berth at a file with --db PATH or BERTH_DB${example}.`,
      { file },
    );
  }
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    if (isSqliteError(err, 'ENOENT')) return; // removed since the stat: a fresh store
    throw new StoreError(`cannot read the store ${file}: ${(err as Error).message}. Check its permissions, or pass --db PATH.`, { file });
  }
  try {
    const header = Buffer.alloc(16);
    const read = readSync(fd, header, 0, 16, 0);
    if (read === 0) return; // an empty file is a fresh database to SQLite
    if (read < 16 || header.toString('latin1') !== SQLITE_HEADER) {
      throw new StoreError(
        `the store ${file} is not a berth database (not an SQLite file). It was left untouched. ` +
          `Move it aside, or point berth at another file with --db PATH or BERTH_DB.`,
        { file },
      );
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * Creates `dir` and its missing parents, one level at a time. mkdirSync's recursive
 * mode loops forever where mkdir(2) says ENOENT under an existing parent (/proc); this
 * fails on the first error instead.
 */
function makeDirectory(dir: string): void {
  const missing: string[] = [];
  for (let current = dir; ; ) {
    let stats: Stats | null = null;
    try {
      stats = statSync(current);
    } catch (err) {
      // ENOTDIR: an ancestor is a file; going up finds it and says so.
      if (!isSqliteError(err, 'ENOENT') && !isSqliteError(err, 'ENOTDIR')) throw err;
    }
    if (stats !== null) {
      if (!stats.isDirectory()) throw new Error(`${current} is not a directory`);
      break;
    }
    const parent = path.dirname(current);
    if (parent === current) break;
    missing.push(current);
    current = parent;
  }
  for (const each of missing.reverse()) {
    try {
      mkdirSync(each);
    } catch (err) {
      // Another process may have created it meanwhile; anything else is fatal.
      if (!isSqliteError(err, 'EEXIST') || !statSync(each).isDirectory()) throw err;
    }
  }
}

/**
 * Replaces each maker with its statement, made on first use and then kept: a command
 * uses a few of the statements, and preparing all of them costs ~0.5 ms of every start.
 */
function onFirstUse<T extends Record<string, () => unknown>>(makers: T): { readonly [K in keyof T]: ReturnType<T[K]> } {
  const made = {} as { [K in keyof T]: ReturnType<T[K]> };
  for (const key of Object.keys(makers) as (keyof T)[]) {
    Object.defineProperty(made, key, {
      configurable: true,
      get: () => {
        const value = makers[key]!();
        Object.defineProperty(made, key, { value });
        return value;
      },
    });
  }
  return made;
}

/** The connection's statements, each prepared once, when first used. */
function prepare(db: Database.Database) {
  return onFirstUse({
    getLease: () => db.prepare<[string, string, string], LeaseRow>('SELECT * FROM leases WHERE host = ? AND scope = ? AND name = ?'),
    leaseAt: () => db.prepare<[string, string, number], LeaseRow>('SELECT * FROM leases WHERE host = ? AND protocol = ? AND port = ?'),
    // Positional parameters and no RETURNING: the lease is built in JS from what was bound,
    // which halves the cost of the hottest statement (19 µs -> 8 µs a row, measured here).
    insertLease: () => db.prepare<[string, string, string, number, Protocol, string | null, string | null, number | null, number, number | null, string, string]>(
      `INSERT INTO leases (host, scope, name, port, protocol, purpose, pool, slot, ephemeral, pid, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    deleteLease: () => db.prepare('DELETE FROM leases WHERE host = ? AND scope = ? AND name = ?'),
    lowerHints: () => db.prepare('UPDATE scan_hints SET next = @port WHERE host = @host AND protocol = @protocol AND start <= @port AND next > @port'),
    poolSlots: () => db.prepare<[string, string], SlotHolder>(
      'SELECT DISTINCT slot, scope FROM leases WHERE host = ? AND pool = ? AND slot IS NOT NULL ORDER BY slot',
    ),
    getScope: () => db.prepare<[string, string], ScopeRow>('SELECT * FROM scopes WHERE host = ? AND name = ?'),
    insertScope: () => db.prepare('INSERT INTO scopes (host, name, directory, created_at) VALUES (?, ?, ?, ?)'),
    setScopeDir: () => db.prepare('UPDATE scopes SET directory = ? WHERE host = ? AND name = ?'),
    deleteScope: () => db.prepare('DELETE FROM scopes WHERE host = ? AND name = ?'),
    getHint: () => db.prepare<[string, string, number], { next: number }>('SELECT next FROM scan_hints WHERE host = ? AND protocol = ? AND start = ?'),
    begin: () => db.prepare('BEGIN'),
    beginImmediate: () => db.prepare('BEGIN IMMEDIATE'),
    commit: () => db.prepare('COMMIT'),
    rollback: () => db.prepare('ROLLBACK'),
    setHint: () => db.prepare(
      `INSERT INTO scan_hints (host, protocol, start, next) VALUES (?, ?, ?, ?)
       ON CONFLICT (host, protocol, start) DO UPDATE SET next = excluded.next`,
    ),
  });
}

type Statements = ReturnType<typeof prepare>;

/** The StoreTx over one SQLite connection. Calls are synchronous underneath. */
class SqliteTx implements StoreTx {
  constructor(
    private readonly db: Database.Database,
    private readonly st: Statements,
  ) {}

  async getLease(host: string, scope: string, name: string): Promise<Lease | null> {
    const row = this.st.getLease.get(host, scope, name);
    return row ? toLease(row) : null;
  }

  async leaseAt(host: string, protocol: Protocol, port: number): Promise<Lease | null> {
    const row = this.st.leaseAt.get(host, protocol, port);
    return row ? toLease(row) : null;
  }

  async listLeases(filter: LeaseFilter = {}): Promise<Lease[]> {
    const where: string[] = [];
    const args: unknown[] = [];
    for (const key of ['host', 'scope', 'pool', 'protocol'] as const) {
      const value = filter[key];
      if (value !== undefined) {
        where.push(`${key} = ?`);
        args.push(value);
      }
    }
    const sql = `SELECT * FROM leases ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
                 ORDER BY host, scope, pool IS NOT NULL, pool, slot, port`;
    return this.db.prepare<unknown[], LeaseRow>(sql).all(...args).map(toLease);
  }

  async insertLease(lease: NewLease): Promise<Lease> {
    try {
      const now = new Date().toISOString();
      const { host, scope, name, port, protocol, purpose, pool, slot, ephemeral, pid } = lease;
      this.st.insertLease.run(host, scope, name, port, protocol, purpose, pool, slot, ephemeral ? 1 : 0, pid, now, now);
      return { host, scope, name, port, protocol, purpose, pool, slot, ephemeral, pid, createdAt: now, updatedAt: now };
    } catch (err) {
      if (isSqliteError(err, 'SQLITE_CONSTRAINT')) throw this.conflictFor(lease);
      throw err;
    }
  }

  /** Why an insert hit a uniqueness constraint, in words a person can act on. */
  private conflictFor(lease: NewLease): ConflictError {
    const byName = this.st.getLease.get(lease.host, lease.scope, lease.name);
    if (byName) {
      return new ConflictError(`${lease.scope}/${lease.name} already holds port ${byName.port}. Release it first, or use reassign to move it.`);
    }
    return this.portConflict(lease.host, lease.protocol, lease.port);
  }

  private portConflict(host: string, protocol: Protocol, port: number): ConflictError {
    const byPort = this.st.leaseAt.get(host, protocol, port);
    const holder = byPort ? `${byPort.scope}/${byPort.name}` : 'another lease';
    return new ConflictError(`port ${port}/${protocol} is held by ${holder}. Choose another port, or release that lease first.`, {
      port,
      holder,
    });
  }

  async updateLease(host: string, scope: string, name: string, changes: LeaseChanges): Promise<Lease> {
    const before = this.st.getLease.get(host, scope, name);
    if (!before) throw new NotFoundError(`no lease ${scope}/${name}. See \`berth list\`.`);
    const sets: string[] = ['updated_at = @now'];
    const args: Record<string, unknown> = { host, scope, name, now: new Date().toISOString() };
    if (changes.port !== undefined) (sets.push('port = @port'), (args.port = changes.port));
    if (changes.purpose !== undefined) (sets.push('purpose = @purpose'), (args.purpose = changes.purpose));
    if (changes.ephemeral !== undefined) (sets.push('ephemeral = @ephemeral'), (args.ephemeral = changes.ephemeral ? 1 : 0));
    if (changes.pid !== undefined) (sets.push('pid = @pid'), (args.pid = changes.pid));
    try {
      this.db.prepare(`UPDATE leases SET ${sets.join(', ')} WHERE host = @host AND scope = @scope AND name = @name`).run(args);
    } catch (err) {
      if (isSqliteError(err, 'SQLITE_CONSTRAINT')) throw this.portConflict(host, before.protocol, changes.port ?? before.port);
      throw err;
    }
    if (changes.port !== undefined && changes.port !== before.port) {
      this.st.lowerHints.run({ host, protocol: before.protocol, port: before.port });
    }
    return toLease(this.st.getLease.get(host, scope, name)!);
  }

  async deleteLease(host: string, scope: string, name: string): Promise<Lease | null> {
    const row = this.st.getLease.get(host, scope, name);
    if (!row) return null;
    this.st.deleteLease.run(host, scope, name);
    this.st.lowerHints.run({ host, protocol: row.protocol, port: row.port });
    return toLease(row);
  }

  async poolSlots(host: string, pool: string): Promise<SlotHolder[]> {
    return this.st.poolSlots.all(host, pool);
  }

  async getScope(host: string, name: string): Promise<Scope | null> {
    const row = this.st.getScope.get(host, name);
    return row ? toScope(row) : null;
  }

  async ensureScope(host: string, name: string, directory: string | null): Promise<Scope> {
    const row = this.st.getScope.get(host, name);
    if (!row) this.st.insertScope.run(host, name, directory, new Date().toISOString());
    else if (row.directory === null && directory !== null) this.st.setScopeDir.run(directory, host, name);
    return toScope(this.st.getScope.get(host, name)!);
  }

  async listScopes(host?: string): Promise<Scope[]> {
    const rows = host === undefined
      ? this.db.prepare<[], ScopeRow>('SELECT * FROM scopes ORDER BY host, name').all()
      : this.db.prepare<[string], ScopeRow>('SELECT * FROM scopes WHERE host = ? ORDER BY name').all(host);
    return rows.map(toScope);
  }

  async deleteScope(host: string, name: string): Promise<Lease[]> {
    const leases = await this.listLeases({ host, scope: name });
    for (const lease of leases) await this.deleteLease(host, name, lease.name);
    this.st.deleteScope.run(host, name);
    return leases;
  }

  async getScanHint(host: string, protocol: Protocol, start: number): Promise<number | null> {
    return this.st.getHint.get(host, protocol, start)?.next ?? null;
  }

  async setScanHint(host: string, protocol: Protocol, start: number, next: number): Promise<void> {
    this.st.setHint.run(host, protocol, start, next);
  }

  async reset(): Promise<void> {
    this.db.exec('DELETE FROM leases; DELETE FROM scopes; DELETE FROM scan_hints;');
  }
}

/** The SQLite-backed store. Open it with {@link openSqliteStore}. */
export class SqliteStore implements Store {
  readonly kind = 'sqlite';
  readonly host = SQLITE_HOST;
  private readonly tx: SqliteTx;
  private readonly st: Statements;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly db: Database.Database,
    readonly location: string,
  ) {
    this.st = prepare(db);
    this.tx = new SqliteTx(db, this.st);
  }

  transaction<T>(mode: TxMode, fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    const run = async (): Promise<T> => {
      this.begin(mode);
      try {
        const result = await fn(this.tx);
        this.st.commit.run();
        return result;
      } catch (err) {
        if (this.db.inTransaction) this.st.rollback.run();
        throw err;
      }
    };
    const next = this.queue.then(run, run);
    this.queue = next.catch(() => undefined); // the caller sees the error; the queue goes on
    return next;
  }

  private begin(mode: TxMode): void {
    try {
      (mode === 'write' ? this.st.beginImmediate : this.st.begin).run();
    } catch (err) {
      if (isSqliteError(err, 'SQLITE_BUSY')) {
        throw new StoreError(
          `the store ${this.location} stayed locked by another process for ${BUSY_TIMEOUT_MS / 1000} s. ` +
            'Try again; if it persists, look for a stuck berth process.',
        );
      }
      throw err;
    }
  }

  async close(): Promise<void> {
    await this.queue;
    this.db.close();
  }
}

/** Where the store lives when neither --db nor BERTH_DB says. */
export function defaultDbPath(env: NodeJS.ProcessEnv = process.env): string {
  const stateHome = env.XDG_STATE_HOME || path.join(env.HOME || '.', '.local', 'state');
  return path.join(stateHome, 'berth', 'berth.db');
}

/**
 * Opens (creating if needed) the SQLite store at `file`, migrating its schema.
 * A file that is not a database, is another application's database, or is from a newer
 * berth, is refused untouched.
 */
export function openSqliteStore(file: string): SqliteStore {
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
  let db: Database.Database;
  try {
    db = new Database(location, { timeout: BUSY_TIMEOUT_MS, nativeBinding: nativeBinding() });
  } catch (err) {
    throw new StoreError(`cannot open the store ${location}: ${(err as Error).message}. Pass --db PATH to use another file.`);
  }
  try {
    migrateWhenUnlocked(db, location);
  } catch (err) {
    db.close();
    if (err instanceof StoreError) throw err;
    const busy = isSqliteError(err, 'SQLITE_BUSY');
    throw new StoreError(
      busy
        ? `the store ${location} stayed locked by another process. Try again.`
        : `the store ${location} cannot be used: ${(err as Error).message}. It was left as it was; move it aside or pass --db PATH.`,
    );
  }
  return new SqliteStore(db, location);
}

/** Pause between attempts when a fresh store is being set up by several processes at once. */
const OPEN_RETRY_MS = 5;

/**
 * Runs migrate, retrying while another process holds a lock SQLite does not wait for by
 * itself (switching a brand-new file to WAL while others open it too), up to BUSY_TIMEOUT_MS.
 */
function migrateWhenUnlocked(db: Database.Database, location: string): void {
  const deadline = Date.now() + BUSY_TIMEOUT_MS;
  for (;;) {
    try {
      migrate(db, location);
      return;
    } catch (err) {
      if (!isSqliteError(err, 'SQLITE_BUSY') || Date.now() >= deadline) throw err;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, OPEN_RETRY_MS);
    }
  }
}

function migrate(db: Database.Database, location: string): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > SCHEMA_VERSION) {
    throw new StoreError(
      `the store ${location} has schema version ${version}, newer than this berth understands (${SCHEMA_VERSION}). Upgrade berth.`,
    );
  }
  if (version === 0) {
    assertNotForeign(db, location);
    // A new file only (SQLite ignores this once the file has pages): 1 KiB pages, because
    // an allocation rewrites three b-tree pages and WAL mode writes and later syncs whole
    // pages. Small rows fit many to a 1 KiB page; commits write a quarter of the bytes.
    db.pragma('page_size = 1024');
  }
  if (db.pragma('journal_mode', { simple: true }) !== 'wal') db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  if (version === SCHEMA_VERSION) return;
  db.exec('BEGIN IMMEDIATE');
  try {
    // Re-read inside the lock: another process may have migrated meanwhile.
    const current = db.pragma('user_version', { simple: true }) as number;
    for (let v = current; v < SCHEMA_VERSION; v++) db.exec(MIGRATIONS[v]!);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
    db.exec('COMMIT');
  } catch (err) {
    if (db.inTransaction) db.exec('ROLLBACK');
    throw err;
  }
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

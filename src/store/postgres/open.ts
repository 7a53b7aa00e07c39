/**
 * Opening a PostgreSQL store: a pool of connections to the URL, berth's schema created or
 * migrated on the first connection. Loaded (with the pg driver) only when a PostgreSQL
 * URL is given, so SQLite users pay nothing for it at start-up.
 */
import pg from 'pg';
import { checkRetention } from '../retention.js';
import { DEFAULT_RETENTION, type HistoryRetention } from '../store.js';
import { pgStoreError } from './errors.js';
import { migratePg } from './migrate.js';
import { machineName, quoteSchema, redactUrl } from './names.js';
import { DEFAULT_PG_SCHEMA } from './schema.js';
import { PostgresStore } from './store.js';

/** How long a writer waits for this machine's other writers before giving up (as SQLite's BUSY_TIMEOUT_MS). */
export const PG_LOCK_TIMEOUT_MS = 60_000;
/** How long connecting may take before the command fails. */
export const PG_CONNECT_TIMEOUT_MS = 10_000;
/** Connections one store keeps at most: a daemon serves requests in parallel, a command uses one. */
export const PG_POOL_MAX = 10;

/** Options of openPostgresStore. */
export interface PgStoreOptions {
  /** The machine this process allocates on (default BERTH_MACHINE, else the host name). */
  readonly host?: string;
  /** berth's schema in the database (default `berth`). */
  readonly schema?: string;
  /** How long history is kept; DEFAULT_RETENTION when absent. */
  readonly retention?: HistoryRetention;
}

/**
 * Opens the registry at `url` (postgres://user@host:5432/db; unset parts come from the
 * PG* environment as libpq reads them), creating or migrating berth's schema. A schema
 * of a newer berth, or one of that name that is not berth's, is refused untouched.
 */
export async function openPostgresStore(url: string, opts: PgStoreOptions = {}): Promise<PostgresStore> {
  const retention = checkRetention(opts.retention ?? DEFAULT_RETENTION);
  const schema = opts.schema ?? DEFAULT_PG_SCHEMA;
  const quoted = quoteSchema(schema);
  const location = redactUrl(url);
  const settings = {
    connectionString: url,
    application_name: 'berth',
    connectionTimeoutMillis: PG_CONNECT_TIMEOUT_MS,
    lock_timeout: PG_LOCK_TIMEOUT_MS,
    keepAlive: true,
  };
  // Pipelined: a transaction's statements are written without waiting for each other's
  // answers (session.ts).
  const pool = new pg.Pool({ ...settings, max: PG_POOL_MAX, pipeline: true });
  // An idle connection the server drops is reported here; the next transaction gets a
  // fresh one, or the error, as a StoreError. Without a listener it would end the process.
  pool.on('error', () => {});
  try {
    const client = await pool.connect();
    try {
      await migratePg(client, schema, quoted, location);
    } finally {
      client.release();
    }
  } catch (err) {
    await pool.end().catch(() => {
      // Ending a pool whose connections failed: nothing is left to close.
    });
    throw pgStoreError(err, location, 'opening');
  }
  const listener = () => new pg.Client({ ...settings, application_name: 'berth-listen' });
  return new PostgresStore({ pool, listener, location, host: opts.host ?? machineName(), schema, quoted, retention });
}

/**
 * Bringing berth's schema to the current version when a store opens: refuse a newer
 * berth's schema, or a schema of that name that is not berth's, untouched; otherwise run
 * the missing migrations in one transaction under a transaction-scoped advisory lock, so
 * that when several machines connect at once the migrations run once and the others wait,
 * then find the work done.
 */
import type pg from 'pg';
import { StoreError } from '../../errors.js';
import { lockKey } from './names.js';
import { PG_MIGRATIONS, PG_SCHEMA_VERSION, REGISTRY_MARK } from './schema.js';

/** What a schema of that name holds now. */
interface SchemaState {
  /** berth's version, or null when the schema holds no berth registry. */
  readonly version: number | null;
  /** Tables (up to five, by name) when the schema exists but is not berth's. */
  readonly foreign: string | null;
}

/** Reads the state of `schema` in one statement, then its meta table if it has one. */
async function readState(client: pg.ClientBase, schema: string, quoted: string): Promise<SchemaState> {
  const { rows } = await client.query<{ has_meta: boolean; objects: string; tables: string | null }>(
    `SELECT to_regclass($2) IS NOT NULL AS has_meta,
            (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1) AS objects,
            (SELECT string_agg(relname, ', ') FROM (SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE n.nspname = $1 AND c.relkind IN ('r', 'v', 'm', 'p', 'f') ORDER BY c.relname LIMIT 5) t) AS tables`,
    [schema, `${quoted}.meta`],
  );
  const row = rows[0]!;
  if (!row.has_meta) return { version: null, foreign: Number(row.objects) > 0 ? (row.tables ?? 'other objects') : null };
  const meta = await client.query<{ key: string; value: string }>(`SELECT key, value FROM ${quoted}.meta`);
  const values = new Map(meta.rows.map((r) => [r.key, r.value]));
  if (values.get('registry') !== REGISTRY_MARK) return { version: null, foreign: row.tables ?? 'a table meta' };
  return { version: Number(values.get('version') ?? 0), foreign: null };
}

/** Refuses what berth must not touch. */
function check(state: SchemaState, schema: string, location: string): void {
  if (state.foreign !== null) {
    throw new StoreError(
      `the schema ${schema} in the PostgreSQL database ${location} is not a berth registry (it holds ${state.foreign}). It was left untouched. ` +
        'Point berth at another database, or drop or rename that schema if it is an old one of yours.',
      { store: location, schema },
    );
  }
  if (state.version !== null && state.version > PG_SCHEMA_VERSION) {
    throw new StoreError(
      `the berth registry ${location} (schema ${schema}) has schema version ${state.version}, newer than this berth understands (${PG_SCHEMA_VERSION}). ` +
        'It was left untouched. Upgrade berth on this machine.',
      { store: location, schema, version: state.version },
    );
  }
}

/** Creates or upgrades berth's schema on `client` (a connection of its own, outside any transaction). */
export async function migratePg(client: pg.ClientBase, schema: string, quoted: string, location: string): Promise<void> {
  const state = await readState(client, schema, quoted);
  check(state, schema, location);
  if (state.version === PG_SCHEMA_VERSION) return;
  await client.query('BEGIN');
  try {
    await client.query(`SELECT pg_advisory_xact_lock(${lockKey(`berth-migrate:${schema}`)})`);
    // Re-read under the lock: another machine may have migrated meanwhile.
    const now = await readState(client, schema, quoted);
    check(now, schema, location);
    let version = now.version ?? 0;
    if (now.version === null) {
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoted}`);
      await client.query(`CREATE TABLE ${quoted}.meta (key text PRIMARY KEY, value text NOT NULL)`);
      await client.query(`INSERT INTO ${quoted}.meta (key, value) VALUES ('registry', $1), ('version', '0')`, [REGISTRY_MARK]);
    }
    for (; version < PG_SCHEMA_VERSION; version++) await client.query(PG_MIGRATIONS[version]!(quoted));
    await client.query(`UPDATE ${quoted}.meta SET value = $1 WHERE key = 'version'`, [String(PG_SCHEMA_VERSION)]);
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {
      // The connection is gone: the server rolls the transaction back itself.
    });
    throw err;
  }
}

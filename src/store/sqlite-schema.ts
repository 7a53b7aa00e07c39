/**
 * The SQLite schema as an ordered list of migrations. `PRAGMA user_version` records how
 * many have run; opening a store runs the missing ones in one transaction.
 */

/** Each entry upgrades the schema by one version. Never edit a released entry; append. */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE scopes (
    host       TEXT NOT NULL,
    name       TEXT NOT NULL,
    directory  TEXT,
    created_at TEXT NOT NULL,
    PRIMARY KEY (host, name)
  );
  CREATE TABLE leases (
    host       TEXT    NOT NULL,
    scope      TEXT    NOT NULL,
    name       TEXT    NOT NULL,
    port       INTEGER NOT NULL CHECK (port BETWEEN 1 AND 65535),
    protocol   TEXT    NOT NULL CHECK (protocol IN ('tcp', 'udp')),
    purpose    TEXT,
    pool       TEXT,
    slot       INTEGER,
    ephemeral  INTEGER NOT NULL DEFAULT 0,
    pid        INTEGER,
    created_at TEXT    NOT NULL,
    updated_at TEXT    NOT NULL,
    PRIMARY KEY (host, scope, name),
    UNIQUE (host, protocol, port)
  ) WITHOUT ROWID;
  CREATE INDEX leases_by_pool ON leases (host, pool, slot);
  CREATE TABLE scan_hints (
    host     TEXT    NOT NULL,
    protocol TEXT    NOT NULL,
    start    INTEGER NOT NULL,
    next     INTEGER NOT NULL,
    PRIMARY KEY (host, protocol, start)
  ) WITHOUT ROWID;
  `,
  // 2: the pool index covers pool leases only, so an ordinary allocation writes one index
  // page fewer per commit. `pool = ?` implies `pool IS NOT NULL`, so pool queries still use it.
  `
  DROP INDEX leases_by_pool;
  CREATE INDEX leases_by_pool ON leases (host, pool, slot) WHERE pool IS NOT NULL;
  `,
];

/** The schema version this build of berth writes. */
export const SCHEMA_VERSION = MIGRATIONS.length;

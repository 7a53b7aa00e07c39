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
  // 3: history and pool definitions. AUTOINCREMENT: ids only grow, even when pruning has
  // removed every event, so a feed that resumes after id N never sees an id twice. The
  // port and lease indexes lead with the column asked about, so they also serve queries
  // that name no host; the old-port index holds moves only (most events have none). The
  // time index serves `since` and pruning by age.
  `
  CREATE TABLE events (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    time          TEXT    NOT NULL,
    host          TEXT    NOT NULL,
    action        TEXT    NOT NULL,
    change        TEXT    NOT NULL,
    scope         TEXT    NOT NULL,
    name          TEXT    NOT NULL,
    port          INTEGER NOT NULL,
    protocol      TEXT    NOT NULL,
    pool          TEXT,
    slot          INTEGER,
    old_port      INTEGER,
    owner_pid     INTEGER,
    actor_pid     INTEGER NOT NULL,
    actor_user    TEXT,
    actor_command TEXT
  );
  CREATE INDEX events_by_port ON events (port, host);
  CREATE INDEX events_by_old_port ON events (old_port, host) WHERE old_port IS NOT NULL;
  CREATE INDEX events_by_lease ON events (scope, name, host);
  CREATE INDEX events_by_time ON events (time);
  CREATE TABLE pools (
    host       TEXT NOT NULL,
    name       TEXT NOT NULL,
    definition TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (host, name)
  ) WITHOUT ROWID;
  `,
  // 4: the strategy that chose a lease's port (Lease.strategy). Older leases keep NULL:
  // which strategy chose them was never recorded, and a guess would be shown as a fact.
  `
  ALTER TABLE leases ADD COLUMN strategy TEXT;
  `,
];

/** The schema version this build of berth writes. */
export const SCHEMA_VERSION = MIGRATIONS.length;

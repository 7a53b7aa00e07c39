/**
 * The PostgreSQL schema as an ordered list of migrations, each a function of the schema
 * name (quoted by the caller). berth keeps every table in a schema of its own, so a
 * database shared with an application is never touched outside it; `meta` says the
 * schema is berth's and which version it is.
 *
 * Text columns use the "C" collation: orders are byte orders, as in SQLite and the memory
 * store, whatever the database's locale.
 */

/** Each entry upgrades the schema by one version. Never edit a released entry; append. */
export const PG_MIGRATIONS: readonly ((schema: string) => string)[] = [
  // 1: the registry. `event_ids` hands out event ids (see events.ts: one row, updated by
  // the commit of every write, so ids become visible in the order they were given).
  (s) => `
  CREATE TABLE ${s}.scopes (
    host       text COLLATE "C" NOT NULL,
    name       text COLLATE "C" NOT NULL,
    directory  text,
    created_at text NOT NULL,
    PRIMARY KEY (host, name)
  );
  CREATE TABLE ${s}.leases (
    host       text COLLATE "C" NOT NULL,
    scope      text COLLATE "C" NOT NULL,
    name       text COLLATE "C" NOT NULL,
    port       integer NOT NULL CHECK (port BETWEEN 1 AND 65535),
    protocol   text COLLATE "C" NOT NULL CHECK (protocol IN ('tcp', 'udp')),
    purpose    text,
    pool       text COLLATE "C",
    slot       integer,
    ephemeral  boolean NOT NULL DEFAULT false,
    pid        integer,
    created_at text NOT NULL,
    updated_at text NOT NULL,
    PRIMARY KEY (host, scope, name),
    UNIQUE (host, protocol, port)
  );
  CREATE INDEX leases_by_pool ON ${s}.leases (host, pool, slot) WHERE pool IS NOT NULL;
  CREATE TABLE ${s}.scan_hints (
    host     text COLLATE "C" NOT NULL,
    protocol text COLLATE "C" NOT NULL,
    start    integer NOT NULL,
    next     integer NOT NULL,
    PRIMARY KEY (host, protocol, start)
  );
  CREATE TABLE ${s}.events (
    id            bigint PRIMARY KEY,
    time          text COLLATE "C" NOT NULL,
    host          text COLLATE "C" NOT NULL,
    action        text NOT NULL,
    change        text NOT NULL,
    scope         text COLLATE "C" NOT NULL,
    name          text COLLATE "C" NOT NULL,
    port          integer NOT NULL,
    protocol      text NOT NULL,
    pool          text,
    slot          integer,
    old_port      integer,
    owner_pid     integer,
    actor_pid     integer NOT NULL,
    actor_user    text,
    actor_command text
  );
  CREATE INDEX events_by_port ON ${s}.events (port, host);
  CREATE INDEX events_by_old_port ON ${s}.events (old_port, host) WHERE old_port IS NOT NULL;
  CREATE INDEX events_by_lease ON ${s}.events (scope, name, host);
  CREATE INDEX events_by_time ON ${s}.events (time);
  CREATE TABLE ${s}.event_ids (
    one  boolean PRIMARY KEY DEFAULT true CHECK (one),
    last bigint NOT NULL
  );
  INSERT INTO ${s}.event_ids (last) VALUES (0);
  CREATE TABLE ${s}.pools (
    host       text COLLATE "C" NOT NULL,
    name       text COLLATE "C" NOT NULL,
    definition text NOT NULL,
    updated_at text NOT NULL,
    PRIMARY KEY (host, name)
  );
  `,
];

/** The schema version this build of berth writes. */
export const PG_SCHEMA_VERSION = PG_MIGRATIONS.length;

/** What `meta.registry` says in every berth schema: how a schema is known to be berth's. */
export const REGISTRY_MARK = 'berth';

/** The schema berth uses unless told otherwise. */
export const DEFAULT_PG_SCHEMA = 'berth';

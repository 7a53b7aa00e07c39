/**
 * The PostgreSQL schema as an ordered list of migrations, each a function of the schema
 * name (quoted by the caller). berth keeps every table in a schema of its own, so a
 * database shared with an application is never touched outside it; `meta` says the
 * schema is berth's and which version it is.
 *
 * Text columns use the "C" collation: orders are byte orders, as in SQLite and the memory
 * store, whatever the database's locale.
 */

/**
 * The first half of claim() in migrations 2 and 3: the writer lock, then its checks as
 * joins of the claim's rows with the leases (migration 4 replaced them with lookups one
 * by one; see there why).
 */
const claimJoinChecks = (s: string): string => `  DECLARE
    v_count integer := json_array_length(v_events);
    v_last bigint;
    v_port integer;
    v_moved json := v_hints;
  BEGIN
    PERFORM pg_advisory_xact_lock(v_lock);
    IF EXISTS (SELECT 1 FROM json_to_recordset(v_leases) AS i(name text), ${s}.leases l WHERE l.host = v_host AND l.scope = v_scope AND l.name = i.name)
       OR EXISTS (SELECT 1 FROM ${s}.scopes WHERE host = v_host AND name = v_scope AND directory <> v_dir) THEN
      RETURN NULL;
    END IF;
    IF EXISTS (SELECT 1 FROM json_to_recordset(v_leases) AS i(port integer, protocol text), ${s}.leases l
               WHERE l.host = v_host AND l.protocol = i.protocol AND l.port = i.port) THEN
      IF json_array_length(v_leases) <> 1 THEN
        RETURN NULL;
      END IF;
      SELECT a.port, a.hints INTO v_port, v_moved
        FROM ROWS FROM (json_to_recordset(v_alternates) AS (port integer, hints json)) WITH ORDINALITY AS a(port, hints, ord)
        WHERE NOT EXISTS (SELECT 1 FROM ${s}.leases l WHERE l.host = v_host AND l.protocol = v_leases->0->>'protocol' AND l.port = a.port)
        ORDER BY a.ord LIMIT 1;
      IF v_port IS NULL THEN
        RETURN NULL;
      END IF;
    END IF;`;

/**
 * The first half of claim() since migration 4: the writer lock, then each lease, port and
 * alternate looked up by its keys, one at a time (see migration 4 why); `refuse` ends the
 * call when a check fails, and `afterLock` checks first what a version of claim() adds.
 */
const claimLookups = (s: string, refuse = 'RETURN NULL;', afterLock = ''): string => `  DECLARE
    v_count integer := json_array_length(v_events);
    v_last bigint;
    v_port integer;
    v_moved json := v_hints;
    v_lease record;
    v_alternate record;
  BEGIN
    PERFORM pg_advisory_xact_lock(v_lock);${afterLock}
    IF EXISTS (SELECT 1 FROM ${s}.scopes WHERE host = v_host AND name = v_scope AND directory <> v_dir) THEN
      ${refuse}
    END IF;
    FOR v_lease IN SELECT * FROM json_to_recordset(v_leases) AS i(name text) LOOP
      IF EXISTS (SELECT 1 FROM ${s}.leases WHERE host = v_host AND scope = v_scope AND name = v_lease.name) THEN
        ${refuse}
      END IF;
    END LOOP;
    FOR v_lease IN SELECT * FROM json_to_recordset(v_leases) AS i(port integer, protocol text) LOOP
      CONTINUE WHEN NOT EXISTS (SELECT 1 FROM ${s}.leases WHERE host = v_host AND protocol = v_lease.protocol AND port = v_lease.port);
      IF json_array_length(v_leases) <> 1 THEN
        ${refuse}
      END IF;
      FOR v_alternate IN SELECT a.port, a.hints FROM ROWS FROM (json_to_recordset(v_alternates) AS (port integer, hints json)) WITH ORDINALITY AS a(port, hints, ord) ORDER BY a.ord LOOP
        IF NOT EXISTS (SELECT 1 FROM ${s}.leases WHERE host = v_host AND protocol = v_lease.protocol AND port = v_alternate.port) THEN
          v_port := v_alternate.port;
          v_moved := v_alternate.hints;
          EXIT;
        END IF;
      END LOOP;
      IF v_port IS NULL THEN
        ${refuse}
      END IF;
    END LOOP;`;

/**
 * The writing half of claim() since migration 3, once its checks passed: the scope, the
 * scan hints, the leases (with their strategy) and their events, and the NOTIFY; then
 * `finish`, by default returning the port the lone lease got. Migrations 3, 4 and 6
 * define claim() with it.
 */
const claimWrites = (s: string, finish = "RETURN coalesce(v_port, (v_leases->0->>'port')::integer);"): string => `
    INSERT INTO ${s}.scopes AS x (host, name, directory, created_at) VALUES (v_host, v_scope, v_dir, v_now)
      ON CONFLICT (host, name) DO UPDATE SET directory = excluded.directory WHERE x.directory IS NULL AND excluded.directory IS NOT NULL;
    INSERT INTO ${s}.scan_hints (host, protocol, start, next)
      SELECT v_host, h.protocol, h.start, h.next FROM json_to_recordset(v_moved) AS h(protocol text, start integer, next integer)
      ON CONFLICT (host, protocol, start) DO UPDATE SET next = excluded.next;
    INSERT INTO ${s}.leases (host, scope, name, port, protocol, purpose, pool, slot, strategy, ephemeral, pid, created_at, updated_at)
      SELECT v_host, v_scope, i.name, coalesce(v_port, i.port), i.protocol, i.purpose, i.pool, i.slot, i.strategy, i.ephemeral, i.pid, v_now, v_now
      FROM json_to_recordset(v_leases) AS i(name text, port integer, protocol text, purpose text, pool text, slot integer, strategy text, ephemeral boolean, pid integer);
    UPDATE ${s}.event_ids SET last = last + v_count RETURNING last INTO v_last;
    INSERT INTO ${s}.events (id, time, host, action, change, scope, name, port, protocol, pool, slot, old_port, owner_pid, actor_pid, actor_user, actor_command)
      SELECT v_last - v_count + e.ord, e.time, e.host, e.action, e.change, e.scope, e.name, coalesce(v_port, e.port), e.protocol, e.pool, e.slot, e.old_port,
             e.owner_pid, e.actor_pid, e.actor_user, e.actor_command
      FROM ROWS FROM (json_to_recordset(v_events) AS (time text, host text, action text, change text, scope text, name text, port integer, protocol text,
             pool text, slot integer, old_port integer, owner_pid integer, actor_pid integer, actor_user text, actor_command text))
        WITH ORDINALITY AS e(time, host, action, change, scope, name, port, protocol, pool, slot, old_port, owner_pid, actor_pid, actor_user, actor_command, ord);
    PERFORM pg_notify(v_channel, '');
    ${finish}`;

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
  // 2: claim(), an allocation's write as one statement (claim.ts), its plans kept by the
  // session: this machine's writer lock; then, seeing every write of this machine's other
  // writers, the check that no lease holds a name or a port of the claim (for a lone
  // lease whose port was taken, the first of its alternates no lease holds is taken
  // instead) and that the scope is tied to the same directory or to none; then the scope,
  // scan hints, leases and events, numbered as events.ts numbers them. Returns the first
  // lease's port, or NULL, having written nothing, when the check fails. Called outside
  // BEGIN: the statement's own transaction holds the lock.
  (s) => `
  CREATE FUNCTION ${s}.claim(v_lock bigint, v_host text, v_scope text, v_dir text, v_now text, v_leases json, v_hints json, v_events json, v_channel text,
                             v_alternates json)
  RETURNS integer LANGUAGE plpgsql AS $claim$
${claimJoinChecks(s)}
    INSERT INTO ${s}.scopes AS x (host, name, directory, created_at) VALUES (v_host, v_scope, v_dir, v_now)
      ON CONFLICT (host, name) DO UPDATE SET directory = excluded.directory WHERE x.directory IS NULL AND excluded.directory IS NOT NULL;
    INSERT INTO ${s}.scan_hints (host, protocol, start, next)
      SELECT v_host, h.protocol, h.start, h.next FROM json_to_recordset(v_moved) AS h(protocol text, start integer, next integer)
      ON CONFLICT (host, protocol, start) DO UPDATE SET next = excluded.next;
    INSERT INTO ${s}.leases (host, scope, name, port, protocol, purpose, pool, slot, ephemeral, pid, created_at, updated_at)
      SELECT v_host, v_scope, i.name, coalesce(v_port, i.port), i.protocol, i.purpose, i.pool, i.slot, i.ephemeral, i.pid, v_now, v_now
      FROM json_to_recordset(v_leases) AS i(name text, port integer, protocol text, purpose text, pool text, slot integer, ephemeral boolean, pid integer);
    UPDATE ${s}.event_ids SET last = last + v_count RETURNING last INTO v_last;
    INSERT INTO ${s}.events (id, time, host, action, change, scope, name, port, protocol, pool, slot, old_port, owner_pid, actor_pid, actor_user, actor_command)
      SELECT v_last - v_count + e.ord, e.time, e.host, e.action, e.change, e.scope, e.name, coalesce(v_port, e.port), e.protocol, e.pool, e.slot, e.old_port,
             e.owner_pid, e.actor_pid, e.actor_user, e.actor_command
      FROM ROWS FROM (json_to_recordset(v_events) AS (time text, host text, action text, change text, scope text, name text, port integer, protocol text,
             pool text, slot integer, old_port integer, owner_pid integer, actor_pid integer, actor_user text, actor_command text))
        WITH ORDINALITY AS e(time, host, action, change, scope, name, port, protocol, pool, slot, old_port, owner_pid, actor_pid, actor_user, actor_command, ord);
    PERFORM pg_notify(v_channel, '');
    RETURN coalesce(v_port, (v_leases->0->>'port')::integer);
  END
  $claim$;
  `,
  // 3: the strategy that chose a lease's port (Lease.strategy; older leases keep NULL, as
  // nobody recorded it), and claim() redefined to write it: migration 2's text with the
  // column added to its INSERT. Same arguments, so CREATE OR REPLACE keeps callers valid.
  (s) => `
  ALTER TABLE ${s}.leases ADD COLUMN strategy text;
  CREATE OR REPLACE FUNCTION ${s}.claim(v_lock bigint, v_host text, v_scope text, v_dir text, v_now text, v_leases json, v_hints json, v_events json, v_channel text,
                             v_alternates json)
  RETURNS integer LANGUAGE plpgsql AS $claim$
${claimJoinChecks(s)}
${claimWrites(s)}
  END
  $claim$;
  `,
  // 4: claim() looks each lease, port and alternate up by its keys, one at a time. Its
  // checks were joins of the claim's rows with the leases, which the planner plans from
  // the table's statistics; on a young registry those say the table is empty, and it
  // built a hash of every lease of the scope (of the machine, for ports) on every call:
  // 1.1 ms of server time per allocation with 3,000 leases, growing with the registry.
  // Same arguments and answers as migration 3's.
  (s) => `
  CREATE OR REPLACE FUNCTION ${s}.claim(v_lock bigint, v_host text, v_scope text, v_dir text, v_now text, v_leases json, v_hints json, v_events json, v_channel text,
                             v_alternates json)
  RETURNS integer LANGUAGE plpgsql AS $claim$
${claimLookups(s)}
${claimWrites(s)}
  END
  $claim$;
  `,
  // 5: the two unique keys of leases lead with different columns, (scope, name, host) and
  // (protocol, host, port), where both led with host. A session plans a statement once and
  // keeps the plan until the table's statistics change; on a registry younger than its
  // first analyze (autovacuum's first visit can be a minute away) both indexes were
  // estimated at one row for any lookup, and the planner took either: a lookup by name
  // through the port index, or by port through the name index, matched host alone and
  // filtered every lease of the machine, on every call, for as long as the plan lived.
  // Now each lookup can use only its own key. Same rows, same rules.
  (s) => `
  ALTER TABLE ${s}.leases
    DROP CONSTRAINT leases_pkey,
    DROP CONSTRAINT leases_host_protocol_port_key,
    ADD CONSTRAINT leases_pkey PRIMARY KEY (scope, name, host),
    ADD CONSTRAINT leases_port_key UNIQUE (protocol, host, port);
  `,
  // 6: each machine's version, raised by every write of the machine's leases, scan hints
  // or pools (claim() and write transactions that change them), so that a store can make
  // an allocation's guess from what it remembers instead of a read (recall.ts) and
  // claim() can refuse the guess when anything of the machine changed since: claim()
  // takes the version its caller expects (NULL: none) and answers the machine's version
  // after it with the port. Rows are never deleted, so a version is never given twice.
  // Otherwise migration 4's claim(), whose 10 arguments stay as a wrapper of the new one:
  // a berth of schema 5 still running when another upgrades the registry keeps claiming
  // (its claims raise the version; its other writes do not, so the README asks for every
  // berth process of the registry's machines to be restarted with the upgrade).
  (s) => `
  CREATE TABLE ${s}.machines (
    host    text COLLATE "C" PRIMARY KEY,
    version bigint NOT NULL
  );
  CREATE FUNCTION ${s}.claim(v_lock bigint, v_expect bigint, v_host text, v_scope text, v_dir text, v_now text, v_leases json, v_hints json, v_events json,
                             v_channel text, v_alternates json, OUT o_port integer, OUT o_version bigint)
  LANGUAGE plpgsql AS $claim$
${claimLookups(s, 'RETURN;', `
    o_version := coalesce((SELECT m.version FROM ${s}.machines m WHERE m.host = v_host), 0);
    IF o_version <> v_expect THEN
      RETURN;
    END IF;`)}
    INSERT INTO ${s}.machines AS m (host, version) VALUES (v_host, 1)
      ON CONFLICT (host) DO UPDATE SET version = m.version + 1 RETURNING m.version INTO o_version;
${claimWrites(s, "o_port := coalesce(v_port, (v_leases->0->>'port')::integer);")}
  END
  $claim$;
  CREATE OR REPLACE FUNCTION ${s}.claim(v_lock bigint, v_host text, v_scope text, v_dir text, v_now text, v_leases json, v_hints json, v_events json, v_channel text,
                                        v_alternates json)
  RETURNS integer LANGUAGE sql AS $claim$
    SELECT o_port FROM ${s}.claim(v_lock, NULL::bigint, v_host, v_scope, v_dir, v_now, v_leases, v_hints, v_events, v_channel, v_alternates)
  $claim$;
  `,
];

/**
 * The statement every write transaction of machine $1 ends with, before its events: its
 * version raised (migration 6), so that a guess made before it is refused by claim().
 */
export const bumpMachineSql = (s: string): string =>
  `INSERT INTO ${s}.machines AS m (host, version) VALUES ($1, 1) ON CONFLICT (host) DO UPDATE SET version = m.version + 1`;

/** The schema version this build of berth writes. */
export const PG_SCHEMA_VERSION = PG_MIGRATIONS.length;

/** What `meta.registry` says in every berth schema: how a schema is known to be berth's. */
export const REGISTRY_MARK = 'berth';

/** The schema berth uses unless told otherwise. */
export const DEFAULT_PG_SCHEMA = 'berth';

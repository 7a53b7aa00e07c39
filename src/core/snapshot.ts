/**
 * Export and import: a versioned JSON snapshot of every scope and lease, and the pool
 * definitions its pool leases belong to. Import checks every field first, is all-or-none,
 * and refuses rows that conflict with what the store holds, belong to another host, or
 * break a pool's one-scope-per-slot.
 */
import path from 'node:path';
import { ConfigError, ConflictError, UsageError } from '../errors.js';
import { LEASE_STRATEGIES, type Lease, type PoolConfig, type Scope } from '../types.js';
import type { StoreTx } from '../store/store.js';
import { normaliseConfig } from '../config/normalise.js';
import { isPort } from '../config/ports.js';
import { slotCount, slotPorts } from '../wiring/pool-slots.js';
import { checkLeaseName, checkScopeName } from './scope.js';
import { SNAPSHOT_FORMAT, SNAPSHOT_VERSION, type ImportResult, type Snapshot } from '../engine/index.js';

/**
 * A snapshot with the definitions of the pools its leases use (`pools`, as recorded in
 * the store). Version-1 files made before it have no `pools`: they are read as before, and
 * their pool leases must then belong to pools the store has recorded.
 */
export type PoolSnapshot = Snapshot & { readonly pools?: readonly PoolConfig[] };

/** Reads every scope and lease of `host`, or of one scope of it, and the recorded pools those leases use. */
export async function takeSnapshot(tx: StoreTx, host: string, scope?: string): Promise<Snapshot> {
  const scopes = await tx.listScopes(host);
  const leases = await tx.listLeases({ host, scope });
  const used = new Set(leases.map((l) => l.pool));
  const snapshot: PoolSnapshot = {
    format: SNAPSHOT_FORMAT,
    version: SNAPSHOT_VERSION,
    exportedAt: new Date().toISOString(),
    scopes: scope === undefined ? scopes : scopes.filter((s) => s.name === scope),
    leases,
    pools: (await tx.listPools(host)).filter((p) => scope === undefined || used.has(p.name)),
  };
  return snapshot;
}

/** At most this many problems are listed in one error; the rest are counted. */
const MAX_PROBLEMS_SHOWN = 20;

/** Checks one field's value: null when it is fine, else what is wrong. */
type Check = (value: unknown) => string | null;

const show = (value: unknown): string => (value === undefined ? 'nothing' : (JSON.stringify(value) ?? String(value)));

/** Null and absent are fine (both mean null); anything else must pass `check`. */
const orNull = (check: Check): Check => (value) => (value === null || value === undefined ? null : check(value));
/** Absent is fine; anything present must pass `check`. */
const optional = (check: Check): Check => (value) => (value === undefined ? null : check(value));

const nonEmptyString: Check = (v) => (typeof v === 'string' && v.length > 0 ? null : `must be a non-empty string, got ${show(v)}`);
const text: Check = (v) => (typeof v === 'string' ? null : `must be a string or null, got ${show(v)}`);
const timestamp: Check = (v) => (typeof v === 'string' ? null : `must be a timestamp string, got ${show(v)}`);
const port: Check = (v) => (isPort(v) ? null : `must be a port from 1 to 65535, got ${show(v)}`);
const protocol: Check = (v) => (v === 'tcp' || v === 'udp' ? null : `must be "tcp" or "udp", got ${show(v)}`);
const slot: Check = (v) => (Number.isSafeInteger(v) && (v as number) >= 0 ? null : `must be a whole number from 0, or null, got ${show(v)}`);
const pid: Check = (v) => (Number.isSafeInteger(v) && (v as number) > 0 ? null : `must be a positive whole number, or null, got ${show(v)}`);
const bool: Check = (v) => (typeof v === 'boolean' ? null : `must be true or false, got ${show(v)}`);
const absolutePath: Check = (v) => (typeof v === 'string' && path.isAbsolute(v) ? null : `must be an absolute path or null, got ${show(v)}`);

/** A name checker from scope.ts (it throws UsageError) as a Check. */
const named =
  (checkName: (name: string) => string): Check =>
  (v) => {
    if (typeof v !== 'string') return `must be a string, got ${show(v)}`;
    try {
      checkName(v);
      return null;
    } catch (err) {
      if (err instanceof UsageError) return err.message;
      throw err;
    }
  };

/** Every lease field berth reads. Absent optional fields mean null (ephemeral: false). */
const LEASE_FIELDS: Readonly<Record<string, Check>> = {
  host: nonEmptyString,
  scope: named(checkScopeName),
  name: named(checkLeaseName),
  port,
  protocol,
  purpose: orNull(text),
  pool: orNull(text),
  slot: orNull(slot),
  strategy: orNull((v) => ((LEASE_STRATEGIES as readonly unknown[]).includes(v) ? null : `must be one of ${LEASE_STRATEGIES.join(', ')}, or null, got ${show(v)}`)), // absent in older exports: null
  ephemeral: optional(bool),
  pid: orNull(pid),
  createdAt: optional(timestamp),
  updatedAt: optional(timestamp),
};

/** Every scope field berth reads. */
const SCOPE_FIELDS: Readonly<Record<string, Check>> = {
  host: nonEmptyString,
  name: named(checkScopeName),
  directory: orNull(absolutePath),
  createdAt: optional(timestamp),
};

/** What is wrong with each row of `rows`, as `list[i].field: problem` lines. */
function rowProblems(list: string, rows: readonly unknown[], fields: Readonly<Record<string, Check>>): string[] {
  const problems: string[] = [];
  rows.forEach((row, i) => {
    if (!row || typeof row !== 'object' || Array.isArray(row)) {
      problems.push(`${list}[${i}]: must be an object, got ${show(row)}`);
      return;
    }
    for (const [field, check] of Object.entries(fields)) {
      const problem = check((row as Record<string, unknown>)[field]);
      if (problem !== null) problems.push(`${list}[${i}].${field}: ${problem}`);
    }
  });
  return problems;
}

/** At most MAX_PROBLEMS_SHOWN lines of `problems`, indented, and how many more there are. */
function listed(problems: readonly string[]): string {
  const shown = problems.slice(0, MAX_PROBLEMS_SHOWN);
  const more = problems.length - shown.length;
  return `  ${shown.join('\n  ')}${more > 0 ? `\n  ... and ${more} more` : ''}`;
}

/** The UsageError for a list of problems, naming at most MAX_PROBLEMS_SHOWN of them (in the message and in the details). */
function snapshotProblems(headline: string, problems: readonly string[], fix: string): UsageError {
  return new UsageError(`${headline}, nothing was changed: ${problems.length} problem(s):\n${listed(problems)}\n${fix}`, {
    problems: problems.slice(0, MAX_PROBLEMS_SHOWN),
    count: problems.length,
  });
}

/** A pool definition as berth.yaml writes it, for normaliseConfig to check. */
function poolAsYaml(pool: Record<string, unknown>): Record<string, unknown> {
  // urls: written as VAR: template when the pool names its URL variables (urlEnv: VAR -> index).
  const urlEnv = pool.urlEnv && typeof pool.urlEnv === 'object' && Array.isArray(pool.urls) ? (pool.urlEnv as Record<string, unknown>) : null;
  const urls = urlEnv === null ? pool.urls : Object.fromEntries(Object.entries(urlEnv).map(([name, i]) => [name, (pool.urls as unknown[])[Number(i)]]));
  // Keys left undefined read as absent, as in berth.yaml.
  const raw: Record<string, unknown> = { protocol: pool.protocol, urls, env: pool.env, fallback: pool.fallback ?? undefined, fallback_range: pool.fallbackRange ?? undefined };
  if (pool.kind === 'sets') return { ...raw, sets: pool.sets };
  return { ...raw, ports: pool.ports, step: pool.step, ...(pool.slots === null || pool.slots === undefined ? {} : { slots: pool.slots }) };
}

/** The same value with object keys in order: two definitions compare equal whatever order their keys came in. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1))) : v,
  );
}

/** Whether two pool definitions are the same. */
function samePool(a: PoolConfig, b: PoolConfig): boolean {
  return canonical(a) === canonical(b);
}

/** What is wrong with a snapshot's `pools` list: each entry must be a pool definition as berth records it, each name once. */
function poolProblems(pools: unknown): string[] {
  if (pools === undefined) return [];
  if (!Array.isArray(pools)) return [`pools: must be a list of pool definitions, got ${show(pools)}`];
  const problems: string[] = [];
  const names = new Set<string>();
  for (const [i, pool] of pools.entries()) {
    const at = `pools[${i}]`;
    if (!pool || typeof pool !== 'object' || Array.isArray(pool)) {
      problems.push(`${at}: must be an object, got ${show(pool)}`);
      continue;
    }
    const { name, kind } = pool as Record<string, unknown>;
    const header =
      typeof name !== 'string' ? `${at}.name: must be a string, got ${show(name)}`
      : names.has(name) ? `${at}: pool ${name} is defined twice`
      : kind !== 'series' && kind !== 'sets' ? `${at}.kind: must be "series" or "sets", got ${show(kind)}`
      : null;
    if (header !== null || typeof name !== 'string') {
      problems.push(header!);
      continue;
    }
    names.add(name);
    try {
      const [normal] = normaliseConfig({ pools: { [name]: poolAsYaml(pool as Record<string, unknown>) } }, at).pools;
      if (!samePool(normal!, pool as PoolConfig)) problems.push(`${at}: pool ${name} is not as berth records it (its roles, kind or fields do not match its ports)`);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      problems.push(err.message);
    }
  }
  return problems;
}

/**
 * Checks parsed JSON from `source`: the format and version, and every field of every
 * scope and lease. Throws UsageError naming each bad `leases[i].field`; nothing is
 * written before this passes.
 */
export function parseSnapshot(value: unknown, source: string): PoolSnapshot {
  const fail = (what: string): never => {
    throw new UsageError(`${source} is not a berth snapshot: ${what}. Make one with \`berth export > FILE\`.`);
  };
  if (!value || typeof value !== 'object' || Array.isArray(value)) fail('expected a JSON object');
  const snap = value as Record<string, unknown>;
  if (snap.format !== SNAPSHOT_FORMAT) fail(`format is ${JSON.stringify(snap.format)}, expected "${SNAPSHOT_FORMAT}"`);
  if (snap.version !== SNAPSHOT_VERSION) fail(`version ${JSON.stringify(snap.version)} is not supported (this berth reads ${SNAPSHOT_VERSION})`);
  if (!Array.isArray(snap.leases) || !Array.isArray(snap.scopes)) fail('scopes and leases must be lists');
  const problems = [
    ...rowProblems('scopes', snap.scopes as unknown[], SCOPE_FIELDS),
    ...rowProblems('leases', snap.leases as unknown[], LEASE_FIELDS),
    ...poolProblems(snap.pools),
  ];
  if (problems.length > 0) throw snapshotProblems(`${source} is not a valid berth snapshot`, problems, 'Fix those fields, or make a new snapshot with `berth export > FILE`.');
  return value as PoolSnapshot;
}

/**
 * Throws UsageError unless every scope and lease in `snap` is on `host`: a registry only
 * takes rows for its own port namespace (a port free on one machine says nothing of another).
 */
export function checkSnapshotHost(snap: Snapshot, host: string, source = 'the snapshot'): void {
  const problems: string[] = [];
  const check = (list: string, rows: readonly { readonly host: string }[]) =>
    rows.forEach((row, i) => {
      if (row.host !== host) problems.push(`${list}[${i}].host: is ${JSON.stringify(row.host)}, not ${JSON.stringify(host)}`);
    });
  check('scopes', snap.scopes);
  check('leases', snap.leases);
  if (problems.length > 0) {
    throw snapshotProblems(
      `import refused: ${source} holds rows of another host than this store's ("${host}")`,
      problems,
      `Import only rows of host "${host}" here: edit the file, or import it into the store of that host.`,
    );
  }
}

const key = (l: Pick<Lease, 'host' | 'scope' | 'name'>) => `${l.host}\u0000${l.scope}\u0000${l.name}`;
const portKey = (l: Pick<Lease, 'host' | 'protocol' | 'port'>) => `${l.host}\u0000${l.protocol}\u0000${l.port}`;

/**
 * The pool definitions an import checks pool rows against: those recorded in the store,
 * and those the snapshot carries. A snapshot's definition that differs from the store's
 * is a conflict, unless `replace` (the store becomes the snapshot).
 */
async function poolDefinitions(tx: StoreTx, host: string, snap: PoolSnapshot, replace: boolean, conflicts: string[]) {
  const recorded = new Map((await tx.listPools(host)).map((p) => [p.name, p]));
  const defs = new Map(recorded);
  for (const pool of snap.pools ?? []) {
    const mine = recorded.get(pool.name);
    if (mine && !replace && !samePool(mine, pool)) {
      conflicts.push(`pool ${pool.name}: the snapshot defines it differently from this store's recorded definition`);
      continue;
    }
    defs.set(pool.name, pool);
  }
  return defs;
}

/**
 * What breaks one-scope-per-slot once the snapshot's pool rows join the store's: a pool
 * berth does not know, a role or slot the pool does not have, a port that is not the
 * slot's, a slot given to two scopes, a scope holding part of a slot. `after` is every row
 * the store would hold; only slots the snapshot touches are checked (an older store's own
 * half slots do not block an unrelated import).
 */
function poolConflicts(rows: readonly Lease[], after: readonly Lease[], defs: ReadonlyMap<string, PoolConfig>): string[] {
  const conflicts: string[] = [];
  const unknown = new Map<string, number>();
  const touched = new Set<string>();
  const slotKey = (pool: string, slot: number) => `${pool}\u0000${slot}`;
  for (const l of rows) {
    const pool = l.pool ?? null;
    const slot = l.slot ?? null;
    if (pool === null && slot === null) continue;
    const who = `${l.scope}/${l.name}`;
    // A fallback lease (a role of a pool with fallback: hash, no slot) is an ordinary lease here.
    const fallbackOf = pool === null ? undefined : defs.get(pool);
    if (slot === null && fallbackOf?.fallback === 'hash' && fallbackOf.roles.includes(l.name)) continue;
    if (pool === null || slot === null) {
      conflicts.push(`${who}: pool and slot go together (pool ${pool}, slot ${slot})`);
      continue;
    }
    const def = defs.get(pool);
    if (!def) {
      unknown.set(pool, (unknown.get(pool) ?? 0) + 1);
      continue;
    }
    const ports = slotPorts(def, slot);
    if (!def.roles.includes(l.name)) conflicts.push(`${who}: pool ${pool} has no role ${l.name} (its roles: ${def.roles.join(', ')})`);
    else if (ports === null) conflicts.push(`${who}: pool ${pool} has no slot ${slot} (it has ${slotCount(def) ?? 'as many as fit'})`);
    else if (ports[l.name] !== l.port || def.protocol !== l.protocol) {
      conflicts.push(`${who}: port ${l.port}/${l.protocol} is not pool ${pool}'s: slot ${slot}'s ${l.name} is ${ports[l.name]}/${def.protocol}`);
    } else touched.add(slotKey(pool, slot));
  }
  for (const [pool, count] of unknown) {
    conflicts.push(
      `pool ${pool}: ${count} lease(s) belong to it, but this store has no definition of it and the snapshot carries none. ` +
        `Reserve a slot of it once where berth.yaml defines it (berth reserve --pool ${pool}), or export the snapshot again with this berth`,
    );
  }
  const holders = new Map<string, Map<string, Set<string>>>();
  for (const l of after) {
    if (l.pool === null || l.slot === null || !touched.has(slotKey(l.pool, l.slot))) continue;
    const byScope = holders.get(slotKey(l.pool, l.slot)) ?? new Map<string, Set<string>>();
    byScope.set(l.scope, (byScope.get(l.scope) ?? new Set<string>()).add(l.name));
    holders.set(slotKey(l.pool, l.slot), byScope);
  }
  for (const [k, byScope] of holders) {
    const [pool, slot] = k.split('\u0000') as [string, string];
    const def = defs.get(pool)!;
    if (byScope.size > 1) conflicts.push(`pool ${pool} slot ${slot}: given to ${[...byScope.keys()].join(' and ')}; a slot belongs to one scope`);
    for (const [scope, roles] of byScope) {
      const missing = def.roles.filter((r) => !roles.has(r));
      if (missing.length > 0) conflicts.push(`pool ${pool} slot ${slot} of ${scope}: half a slot, without ${missing.join(', ')}; a scope holds all of a slot's roles or none`);
    }
  }
  return conflicts;
}

/**
 * Applies a snapshot inside the caller's write transaction: all rows or none. The snapshot
 * is checked again (library callers may skip parseSnapshot), and every row must be on
 * `host` (see checkSnapshotHost); both before anything is written. `replace` forgets
 * `host`'s rows first, never another machine's. Pool rows must keep every slot whole and
 * with one scope, on the ports of a pool the store or the snapshot defines; the snapshot's
 * definitions are recorded.
 */
export async function applySnapshot(tx: StoreTx, snapshot: Snapshot, replace: boolean, host: string): Promise<ImportResult> {
  const snap = parseSnapshot(snapshot, 'the snapshot');
  checkSnapshotHost(snap, host);
  const conflicts: string[] = [];
  // Read before a replace forgets them: an older snapshot's pool rows are checked against these.
  const defs = await poolDefinitions(tx, host, snap, replace, conflicts);
  if (replace) await tx.reset(host);
  const existing = await tx.listLeases({ host });
  const byName = new Map(existing.map((l) => [key(l), l]));
  const byPort = new Map(existing.map((l) => [portKey(l), l]));
  const fresh: Lease[] = [];
  const accepted: Lease[] = [];
  let unchanged = 0;
  const seenNames = new Set<string>();
  const seenPorts = new Set<string>();
  for (const lease of snap.leases) {
    if (seenNames.has(key(lease)) || seenPorts.has(portKey(lease))) {
      conflicts.push(`${lease.scope}/${lease.name} port ${lease.port}: appears twice in the snapshot`);
      continue;
    }
    seenNames.add(key(lease));
    seenPorts.add(portKey(lease));
    const sameName = byName.get(key(lease));
    const samePort = byPort.get(portKey(lease));
    if (sameName && sameName.port === lease.port && sameName.protocol === lease.protocol) {
      if ((sameName.pool ?? null) !== (lease.pool ?? null) || (sameName.slot ?? null) !== (lease.slot ?? null)) {
        conflicts.push(`${lease.scope}/${lease.name}: snapshot says pool ${lease.pool ?? null} slot ${lease.slot ?? null}, the store has pool ${sameName.pool} slot ${sameName.slot}`);
        continue;
      }
      unchanged++;
      accepted.push(lease);
      continue;
    }
    if (sameName) conflicts.push(`${lease.scope}/${lease.name}: snapshot says port ${lease.port}, the store has ${sameName.port}`);
    else if (samePort) conflicts.push(`port ${lease.port}/${lease.protocol}: snapshot gives it to ${lease.scope}/${lease.name}, the store to ${samePort.scope}/${samePort.name}`);
    else {
      fresh.push(lease);
      accepted.push(lease);
    }
  }
  const asRow = (l: Lease): Lease => ({ ...l, pool: l.pool ?? null, slot: l.slot ?? null });
  conflicts.push(...poolConflicts(accepted, [...existing, ...fresh.map(asRow)], defs));
  if (conflicts.length > 0) {
    throw new ConflictError(
      `import refused, nothing was changed: ${conflicts.length} row(s) conflict with the store:\n${listed(conflicts)}\n` +
        'Release those leases first, fix the snapshot, or pass --replace to make the store exactly the snapshot.',
      { conflicts: conflicts.slice(0, MAX_PROBLEMS_SHOWN), count: conflicts.length },
    );
  }
  // The definitions of every pool the imported rows use, and of every pool the snapshot carries.
  const record = new Map<string, PoolConfig>();
  for (const l of accepted) if (l.pool !== null && l.pool !== undefined) record.set(l.pool, defs.get(l.pool)!);
  for (const pool of snap.pools ?? []) record.set(pool.name, pool);
  for (const pool of record.values()) {
    const saved = await tx.getPool(host, pool.name);
    if (saved === null || !samePool(saved, pool)) await tx.savePool(host, pool);
  }
  for (const scope of snap.scopes) await tx.ensureScope(scope.host, scope.name, scope.directory ?? null);
  for (const lease of fresh) {
    await tx.ensureScope(lease.host, lease.scope, null);
    await tx.insertLease({
      host: lease.host,
      scope: lease.scope,
      name: lease.name,
      port: lease.port,
      protocol: lease.protocol,
      purpose: lease.purpose ?? null,
      pool: lease.pool ?? null,
      slot: lease.slot ?? null,
      strategy: lease.strategy ?? null,
      ephemeral: lease.ephemeral === true,
      pid: lease.pid ?? null,
    });
  }
  return { imported: fresh.length, unchanged, replaced: replace };
}

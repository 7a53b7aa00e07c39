/**
 * Export and import: a versioned JSON snapshot of every scope and lease. Import checks
 * every field first, is all-or-none, and refuses rows that conflict with what the store
 * holds or belong to another host.
 */
import path from 'node:path';
import { ConflictError, UsageError } from '../errors.js';
import type { Lease, Scope } from '../types.js';
import type { StoreTx } from '../store/store.js';
import { isPort } from '../config/ports.js';
import { checkLeaseName, checkScopeName } from './scope.js';
import { SNAPSHOT_FORMAT, SNAPSHOT_VERSION, type ImportResult, type Snapshot } from '../engine/index.js';



/** Reads every scope and lease of `host`, or of one scope of it. */
export async function takeSnapshot(tx: StoreTx, host: string, scope?: string): Promise<Snapshot> {
  const scopes = await tx.listScopes(host);
  return {
    format: SNAPSHOT_FORMAT,
    version: SNAPSHOT_VERSION,
    exportedAt: new Date().toISOString(),
    scopes: scope === undefined ? scopes : scopes.filter((s) => s.name === scope),
    leases: await tx.listLeases({ host, scope }),
  };
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

/** The UsageError for a list of problems, naming at most MAX_PROBLEMS_SHOWN of them. */
function snapshotProblems(headline: string, problems: readonly string[], fix: string): UsageError {
  const shown = problems.slice(0, MAX_PROBLEMS_SHOWN);
  const more = problems.length - shown.length;
  return new UsageError(
    `${headline}, nothing was changed: ${problems.length} problem(s):\n  ${shown.join('\n  ')}` +
      `${more > 0 ? `\n  ... and ${more} more` : ''}\n${fix}`,
    { problems: [...problems] },
  );
}

/**
 * Checks parsed JSON from `source`: the format and version, and every field of every
 * scope and lease. Throws UsageError naming each bad `leases[i].field`; nothing is
 * written before this passes.
 */
export function parseSnapshot(value: unknown, source: string): Snapshot {
  const fail = (what: string): never => {
    throw new UsageError(`${source} is not a berth snapshot: ${what}. Make one with \`berth export > FILE\`.`);
  };
  if (!value || typeof value !== 'object' || Array.isArray(value)) fail('expected a JSON object');
  const snap = value as Record<string, unknown>;
  if (snap.format !== SNAPSHOT_FORMAT) fail(`format is ${JSON.stringify(snap.format)}, expected "${SNAPSHOT_FORMAT}"`);
  if (snap.version !== SNAPSHOT_VERSION) fail(`version ${JSON.stringify(snap.version)} is not supported (this berth reads ${SNAPSHOT_VERSION})`);
  if (!Array.isArray(snap.leases) || !Array.isArray(snap.scopes)) fail('scopes and leases must be lists');
  const problems = [...rowProblems('scopes', snap.scopes as unknown[], SCOPE_FIELDS), ...rowProblems('leases', snap.leases as unknown[], LEASE_FIELDS)];
  if (problems.length > 0) throw snapshotProblems(`${source} is not a valid berth snapshot`, problems, 'Fix those fields, or make a new snapshot with `berth export > FILE`.');
  return value as Snapshot;
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
 * Applies a snapshot inside the caller's write transaction: all rows or none. The snapshot
 * is checked again (library callers may skip parseSnapshot), and every row must be on
 * `host` (see checkSnapshotHost); both before anything is written. `replace` forgets
 * `host`'s rows first, never another machine's.
 */
export async function applySnapshot(tx: StoreTx, snap: Snapshot, replace: boolean, host: string): Promise<ImportResult> {
  parseSnapshot(snap, 'the snapshot');
  checkSnapshotHost(snap, host);
  if (replace) await tx.reset(host);
  const existing = await tx.listLeases({ host });
  const byName = new Map(existing.map((l) => [key(l), l]));
  const byPort = new Map(existing.map((l) => [portKey(l), l]));
  const conflicts: string[] = [];
  const fresh: Lease[] = [];
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
      unchanged++;
      continue;
    }
    if (sameName) conflicts.push(`${lease.scope}/${lease.name}: snapshot says port ${lease.port}, the store has ${sameName.port}`);
    else if (samePort) conflicts.push(`port ${lease.port}/${lease.protocol}: snapshot gives it to ${lease.scope}/${lease.name}, the store to ${samePort.scope}/${samePort.name}`);
    else fresh.push(lease);
  }
  if (conflicts.length > 0) {
    throw new ConflictError(
      `import refused, nothing was changed: ${conflicts.length} row(s) conflict with the store:\n  ${conflicts.join('\n  ')}\n` +
        'Release those leases first, or pass --replace to make the store exactly the snapshot.',
      { conflicts },
    );
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
      ephemeral: lease.ephemeral === true,
      pid: lease.pid ?? null,
    });
  }
  return { imported: fresh.length, unchanged, replaced: replace };
}

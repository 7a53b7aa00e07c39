/**
 * Export and import: a versioned JSON snapshot of every scope and lease. Import is
 * all-or-none and refuses rows that conflict with what the store holds.
 */
import { ConflictError, UsageError } from '../errors.js';
import type { Lease, Scope } from '../types.js';
import type { StoreTx } from '../store/store.js';
import { isPort } from './ports.js';

/** The snapshot format name and version this berth writes and reads. */
export const SNAPSHOT_FORMAT = 'berth-snapshot';
export const SNAPSHOT_VERSION = 1;

/** A whole registry as JSON. */
export interface Snapshot {
  readonly format: typeof SNAPSHOT_FORMAT;
  readonly version: number;
  readonly exportedAt: string;
  readonly scopes: readonly Scope[];
  readonly leases: readonly Lease[];
}

/** What an import did. */
export interface ImportResult {
  readonly imported: number;
  /** Rows already present, identical. */
  readonly unchanged: number;
  readonly replaced: boolean;
}

/** Reads every scope and lease. */
export async function takeSnapshot(tx: StoreTx): Promise<Snapshot> {
  return {
    format: SNAPSHOT_FORMAT,
    version: SNAPSHOT_VERSION,
    exportedAt: new Date().toISOString(),
    scopes: await tx.listScopes(),
    leases: await tx.listLeases(),
  };
}

/** Checks the shape of parsed JSON from `source`; throws UsageError naming what is wrong. */
export function parseSnapshot(value: unknown, source: string): Snapshot {
  const fail = (what: string): never => {
    throw new UsageError(`${source} is not a berth snapshot: ${what}. Make one with \`berth export > FILE\`.`);
  };
  if (!value || typeof value !== 'object') fail('expected a JSON object');
  const snap = value as Record<string, unknown>;
  if (snap.format !== SNAPSHOT_FORMAT) fail(`format is ${JSON.stringify(snap.format)}, expected "${SNAPSHOT_FORMAT}"`);
  if (snap.version !== SNAPSHOT_VERSION) fail(`version ${JSON.stringify(snap.version)} is not supported (this berth reads ${SNAPSHOT_VERSION})`);
  if (!Array.isArray(snap.leases) || !Array.isArray(snap.scopes)) fail('scopes and leases must be lists');
  (snap.leases as unknown[]).forEach((l, i) => {
    const lease = l as Record<string, unknown>;
    const str = (k: string) => typeof lease?.[k] === 'string' && (lease[k] as string).length > 0;
    if (!str('host') || !str('scope') || !str('name')) fail(`leases[${i}] needs host, scope and name`);
    if (!isPort(lease.port)) fail(`leases[${i}].port ${JSON.stringify(lease.port)} is not a port from 1 to 65535`);
    if (lease.protocol !== 'tcp' && lease.protocol !== 'udp') fail(`leases[${i}].protocol must be tcp or udp`);
  });
  (snap.scopes as unknown[]).forEach((s, i) => {
    const scope = s as Record<string, unknown>;
    if (typeof scope?.host !== 'string' || typeof scope?.name !== 'string') fail(`scopes[${i}] needs host and name`);
  });
  return value as Snapshot;
}

const key = (l: Pick<Lease, 'host' | 'scope' | 'name'>) => `${l.host}\u0000${l.scope}\u0000${l.name}`;
const portKey = (l: Pick<Lease, 'host' | 'protocol' | 'port'>) => `${l.host}\u0000${l.protocol}\u0000${l.port}`;

/** Applies a snapshot inside the caller's write transaction: all rows or none. */
export async function applySnapshot(tx: StoreTx, snap: Snapshot, replace: boolean): Promise<ImportResult> {
  if (replace) await tx.reset();
  const existing = await tx.listLeases();
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

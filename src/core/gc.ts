/**
 * Garbage collection: ephemeral leases whose pid is gone, and scopes whose directory is
 * gone. With dry-run it only reports.
 */
import { lstatSync, statSync as fsStatSync } from 'node:fs';
import path from 'node:path';
import type { Lease } from '../types.js';
import type { StoreTx } from '../store/store.js';
import type { GcResult } from '../engine/index.js';


/**
 * Whether `directory` is certainly gone, so its scope may be collected. Only when stat
 * says ENOENT or ENOTDIR and the parent still exists: a project under an unmounted disk
 * (`/media/me/USB/proj` with `/media/me/USB` gone) is kept, and so is one stat cannot
 * see (EACCES, EIO, ESTALE, ...), a dangling symlink (its target may be on such a disk)
 * and a relative path (relative to what?). `statSync` is injectable for tests.
 */
export function isDirectoryGone(directory: string, statSync: (p: string) => unknown = fsStatSync): boolean {
  if (!path.isAbsolute(directory)) return false;
  try {
    statSync(directory);
    return false;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ENOTDIR') return false;
  }
  try {
    lstatSync(directory);
    return false; // The entry is there, a symlink whose target is missing.
  } catch {
    // Nothing at the path itself, as stat said: go on to the parent.
  }
  try {
    statSync(path.dirname(directory));
    return true;
  } catch {
    return false; // The parent is missing or unreadable too: perhaps an unmounted disk.
  }
}

/** Runs gc inside the caller's write transaction. `isAlive` comes from os/. */
export async function collectGarbage(tx: StoreTx, host: string, dryRun: boolean, isAlive: (pid: number) => boolean): Promise<GcResult> {
  const goneScopes: { scope: string; directory: string; leases: Lease[] }[] = [];
  for (const scope of await tx.listScopes(host)) {
    if (scope.directory === null || !isDirectoryGone(scope.directory)) continue;
    const leases = dryRun ? await tx.listLeases({ host, scope: scope.name }) : await tx.deleteScope(host, scope.name);
    goneScopes.push({ scope: scope.name, directory: scope.directory, leases });
  }
  const goneNames = new Set(goneScopes.map((s) => s.scope));
  const deadLeases: Lease[] = [];
  for (const lease of await tx.listLeases({ host })) {
    if (!lease.ephemeral || goneNames.has(lease.scope)) continue;
    if (lease.pid !== null && isAlive(lease.pid)) continue;
    deadLeases.push(lease);
    if (!dryRun) await tx.deleteLease(host, lease.scope, lease.name);
  }
  return { dryRun, deadLeases, goneScopes };
}

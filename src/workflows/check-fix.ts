/**
 * `berth check --fix`: each lease whose port a stranger or an old container holds moves to
 * the next free port of its category (through the engine's reassign, one lease at a time),
 * then every file berth wrote for the scopes touched is re-rendered. Ports berth.yaml
 * fixes, and pool roles (the pool fixes them), are never moved: they stay conflicts for a
 * person to settle (stop the holder, or change the file).
 */
import type { Conflict, Engine, ScopeContext } from '../engine/index.js';
import { rerenderScope, type RerenderOutcome } from './scope-files.js';

/** One lease moved (or, dry, that would move). */
export interface FixMove {
  readonly scope: string;
  readonly name: string;
  readonly from: number;
  readonly to: number;
  /** The conflict that made berth move it. */
  readonly conflict: Conflict;
}

/** A conflict left as it is, and why. */
export interface FixSkip {
  readonly conflict: Conflict;
  readonly reason: string;
}

/** What `check --fix` did. */
export interface FixResult {
  readonly dryRun: boolean;
  readonly moved: readonly FixMove[];
  readonly skipped: readonly FixSkip[];
  /** The conflicts after the moves (the same as before with `dryRun`). */
  readonly remaining: readonly Conflict[];
  /** What happened to each file berth wrote for a scope touched (empty with `dryRun`). */
  readonly rerendered: readonly RerenderOutcome[];
}

/**
 * Finds the conflicts (the scope's, every scope's with `all`), moves what may be moved,
 * re-renders the scopes' files, and checks again.
 */
export async function fixConflicts(engine: Engine, ctx: ScopeContext, opts: { readonly all?: boolean; readonly dryRun?: boolean } = {}): Promise<FixResult> {
  const dryRun = opts.dryRun === true;
  const project = await engine.project(ctx);
  const conflicts = await engine.reality.check(ctx, { all: opts.all });
  const moved: FixMove[] = [];
  const skipped: FixSkip[] = [];
  for (const c of conflicts) {
    if (c.kind !== 'foreign-holder' || c.lease === null) continue;
    const mine = c.lease.scope === project.scope;
    const svc = mine ? project.config.services.find((s) => s.name === c.lease!.name) : undefined;
    if (svc !== undefined && svc.port !== null && (svc.strategy === null || svc.strategy === 'fixed')) {
      skipped.push({ conflict: c, reason: `berth.yaml fixes ${c.lease.name} on ${c.port}; stop the holder, or change the port there` });
      continue;
    }
    const leaseCtx: ScopeContext = mine ? ctx : { ...ctx, scope: c.lease.scope };
    const lease = await engine.leases.get(leaseCtx, c.lease.name);
    if (lease.pool !== null) {
      skipped.push({ conflict: c, reason: `role of pool ${lease.pool} slot ${lease.slot}, whose ports the pool fixes; stop the holder, or release the slot and reserve another` });
      continue;
    }
    try {
      const after = await engine.leases.reassign(leaseCtx, lease.name, null, { dryRun });
      moved.push({ scope: lease.scope, name: lease.name, from: lease.port, to: after.port, conflict: c });
    } catch (error) {
      // No free port in its band: the conflict stays, with the reason.
      skipped.push({ conflict: c, reason: (error as Error).message });
    }
  }
  if (dryRun) return { dryRun, moved, skipped, remaining: conflicts, rerendered: [] };
  const rerendered: RerenderOutcome[] = [];
  for (const scope of new Set(moved.map((m) => m.scope))) rerendered.push(...(await rerenderScope(engine, scope)));
  const remaining = moved.length === 0 ? conflicts : await engine.reality.check(ctx, { all: opts.all });
  return { dryRun, moved, skipped, remaining, rerendered };
}

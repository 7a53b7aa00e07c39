/**
 * `berth stats`: usage at a glance, from the engine's own answers: per pool the slots used
 * and free and the next slot a reserve would get; per scope (or scope prefix, `model_a/`)
 * the leases per category. The pair-per-app seed asked "how many apps are left, what is the
 * next pair"; the Orchestra plan wanted usage per category.
 */
import type { Engine, ScopeContext } from '../engine/index.js';
import { categoryOf } from '../config/categories.js';
import type { Lease } from '../types.js';

/** One pool's usage. */
export interface PoolStats {
  readonly pool: string;
  /** null for an open-ended pool. */
  readonly slots: number | null;
  readonly used: number;
  readonly free: number | null;
  /** The lowest slot no scope holds (what `reserve` tries first), and its ports; null when full. */
  readonly nextSlot: number | null;
  readonly nextPorts: Readonly<Record<string, number>> | null;
}

/** The leases of one scope group. */
export interface ScopeStats {
  /** The scope, or the prefix shared by the group (`model_a/`). */
  readonly scope: string;
  readonly scopes: number;
  readonly leases: number;
  /** Leases per category (berth.yaml's ranges; `none` outside every band). */
  readonly byCategory: Readonly<Record<string, number>>;
}

/** What `berth stats` prints. */
export interface Stats {
  readonly pools: readonly PoolStats[];
  readonly scopes: readonly ScopeStats[];
  readonly leases: number;
}

/** Groups scope names by `prefix` depth: with a prefix, by the next path segment below it; else by scope. */
function groupOf(scope: string, prefix: string | null): string {
  if (prefix === null) return scope;
  const rest = scope.slice(prefix.length);
  const cut = rest.indexOf('/');
  return cut < 0 ? scope : `${prefix}${rest.slice(0, cut + 1)}`;
}

/** Usage of pools and scopes; `scopePattern` (`model_a/*`) narrows the scopes. */
export async function computeStats(engine: Engine, ctx: ScopeContext, scopePattern?: string): Promise<Stats> {
  const prefix = scopePattern?.endsWith('*') ? scopePattern.slice(0, -1) : null;
  const [project, pools, leases] = await Promise.all([
    engine.project({ ...ctx, scope: undefined }),
    engine.pools.status(ctx),
    engine.leases.list({ ...ctx, scope: undefined }, { scope: scopePattern }),
  ]);
  const groups = new Map<string, { scopes: Set<string>; leases: Lease[] }>();
  for (const lease of leases) {
    const key = groupOf(lease.scope, prefix);
    const group = groups.get(key) ?? { scopes: new Set(), leases: [] };
    group.scopes.add(lease.scope);
    group.leases.push(lease);
    groups.set(key, group);
  }
  const scopes: ScopeStats[] = [...groups.entries()].map(([scope, g]) => {
    const byCategory: Record<string, number> = {};
    for (const l of g.leases) {
      const category = categoryOf(l.port, project.config.ranges) ?? 'none';
      byCategory[category] = (byCategory[category] ?? 0) + 1;
    }
    return { scope, scopes: g.scopes.size, leases: g.leases.length, byCategory };
  });
  const poolStats: PoolStats[] = pools.map((p) => {
    const next = p.detail.find((s) => s.scope === null && s.blocked === null && (p.slots === null || s.slot < p.slots)) ?? null;
    // An open-ended pool's next slot is the one after the highest held (free ones between are listed when held only).
    const openNext = p.slots === null ? (p.detail.length === 0 ? 0 : Math.max(...p.detail.map((s) => s.slot)) + 1) : null;
    return {
      pool: p.name,
      slots: p.slots,
      used: p.used,
      free: p.free,
      nextSlot: next?.slot ?? openNext,
      nextPorts: next?.ports ?? null,
    };
  });
  return { pools: poolStats, scopes, leases: leases.length };
}

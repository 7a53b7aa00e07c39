/**
 * Pools: a scope reserves one whole slot (every role or none); status and URL lists.
 */
import type { Lease, PoolConfig, PoolUrl } from '../types.js';
import type { ScopeContext } from './context.js';

/** One slot as `berth pools` shows it. */
export interface SlotStatus {
  readonly slot: number;
  readonly ports: Readonly<Record<string, number>>;
  readonly scope: string | null;
}

/** One pool as `berth pools` shows it. */
export interface PoolStatus {
  readonly name: string;
  readonly kind: PoolConfig['kind'];
  readonly roles: readonly string[];
  /** null for an open-ended pool. */
  readonly slots: number | null;
  readonly used: number;
  readonly free: number | null;
  /** Every held slot, and for bounded pools every free one too. */
  readonly detail: readonly SlotStatus[];
}

/** Options of reserve. */
export interface ReserveOptions {
  /** Which pool; optional when berth.yaml defines exactly one. */
  readonly pool?: string;
  readonly ephemeral?: boolean;
  readonly pid?: number;
}

/** The pool operations. */
export interface PoolsApi {
  /** Reserves one whole slot of a pool for the scope (idempotent); records the pool's definition. */
  reserve(ctx: ScopeContext, opts?: ReserveOptions): Promise<Lease[]>;
  /**
   * Every pool with its slots used and free: berth.yaml's pools, and pools recorded by an
   * earlier reserve (so this works from any directory).
   */
  status(ctx: ScopeContext): Promise<PoolStatus[]>;
  /** Every URL a pool's `urls:` templates produce, in slot order. */
  urls(ctx: ScopeContext, pool?: string): Promise<PoolUrl[]>;
  /** The definition of pool `name` (berth.yaml's, else the recorded one); UsageError when unknown. */
  definition(ctx: ScopeContext, name?: string): Promise<PoolConfig>;
}

/**
 * Pools: a scope reserves one whole slot (every role or none); status and URL lists.
 */
import type { Lease, PoolConfig, PoolUrl } from '../types.js';
import type { ScopeContext } from './context.js';

/** One slot as `berth pools` shows it. */
export interface SlotStatus {
  readonly slot: number;
  /** berth.yaml's ports for a slot nobody holds; the ports its leases hold for a held one. */
  readonly ports: Readonly<Record<string, number>>;
  readonly scope: string | null;
  /** Why a slot nobody holds cannot be reserved now (`admin 8003 leased to other/ui`, `... in use by pid 42 (node)`); null when it can. */
  readonly blocked: string | null;
  /** How a held slot differs from berth.yaml now (`slots:` lowered, base ports moved); null when it does not. */
  readonly changed: string | null;
}

/** A scope that holds a pool's fallback ports (no slot was free when it reserved). */
export interface FallbackHolder {
  readonly scope: string;
  readonly ports: Readonly<Record<string, number>>;
}

/** One pool as `berth pools` shows it. */
export interface PoolStatus {
  readonly name: string;
  readonly kind: PoolConfig['kind'];
  readonly roles: readonly string[];
  /** null for an open-ended pool. */
  readonly slots: number | null;
  /** Slots held (including held slots berth.yaml no longer defines). */
  readonly used: number;
  /** Slots of the pool nobody holds and nothing blocks: what reserve can still give. */
  readonly free: number | null;
  /** Slots of the pool nobody holds that a lease or process blocks. */
  readonly blocked: number;
  /** Every held slot, and for bounded pools every other one too. */
  readonly detail: readonly SlotStatus[];
  /** Scopes on fallback ports (pools with `fallback: hash`), waiting for a slot. */
  readonly fallback: readonly FallbackHolder[];
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

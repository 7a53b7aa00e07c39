/**
 * Static exclusions: ports berth.yaml reserves, browser-unsafe ports and the kernel's
 * ephemeral range. The allocator adds the registry and the OS (allocate.ts).
 */
import type { PortRange } from '../types.js';
import { isBrowserUnsafe } from './unsafe-ports.js';

/** Why a port cannot be handed out, or null when it can. */
export type Unavailable = 'leased' | 'reserved' | 'pool' | 'ephemeral' | 'browser-unsafe' | 'in-use';

/** Static exclusions for one allocation: no I/O. */
export class Exclusions {
  private readonly reserved: ReadonlySet<number>;

  constructor(
    reserved: readonly number[],
    private readonly ephemeral: PortRange | null,
    /** Ports that belong to a pool, and which pool: only that pool hands them out. */
    private readonly poolPorts: ReadonlyMap<number, string> = new Map(),
  ) {
    this.reserved = new Set(reserved);
  }

  /**
   * Why `port` is excluded before asking anyone, or null. `explicitRange` allows the
   * ephemeral range (the person asked for those ports by name). `ownPool`: the pool
   * reserving a slot, whose own ports neither it nor `reserved:` may block.
   */
  reason(port: number, explicitRange: boolean, ownPool: string | null = null): Unavailable | null {
    const pool = this.poolOf(port);
    if (pool !== null && pool !== ownPool) return 'pool';
    if (this.reserved.has(port) && (ownPool === null || pool !== ownPool)) return 'reserved';
    if (isBrowserUnsafe(port)) return 'browser-unsafe';
    if (!explicitRange && this.inEphemeral(port)) return 'ephemeral';
    return null;
  }

  /** Whether berth.yaml reserves `port`. */
  isReserved(port: number): boolean {
    return this.reserved.has(port);
  }

  /** The pool `port` belongs to, or null. */
  poolOf(port: number): string | null {
    return this.poolPorts.get(port) ?? null;
  }

  /** When `port` starts an excluded block (the ephemeral range), the first port after it. */
  skipFrom(port: number, explicitRange: boolean): number | null {
    return !explicitRange && this.inEphemeral(port) ? this.ephemeral!.end + 1 : null;
  }

  private inEphemeral(port: number): boolean {
    return this.ephemeral !== null && port >= this.ephemeral.start && port <= this.ephemeral.end;
  }
}

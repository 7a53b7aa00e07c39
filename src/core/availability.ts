/**
 * Static exclusions: ports berth.yaml reserves, browser-unsafe ports and the kernel's
 * ephemeral range. The allocator adds the registry and the OS (allocate.ts).
 */
import type { PortRange } from '../types.js';
import { isBrowserUnsafe } from './unsafe-ports.js';

/** Why a port cannot be handed out, or null when it can. */
export type Unavailable = 'leased' | 'reserved' | 'ephemeral' | 'browser-unsafe' | 'in-use';

/** Static exclusions for one allocation: no I/O. */
export class Exclusions {
  private readonly reserved: ReadonlySet<number>;

  constructor(
    reserved: readonly number[],
    private readonly ephemeral: PortRange | null,
  ) {
    this.reserved = new Set(reserved);
  }

  /**
   * Why `port` is excluded before asking anyone, or null. `explicitRange` allows the
   * ephemeral range (the person asked for those ports by name).
   */
  reason(port: number, explicitRange: boolean): Unavailable | null {
    if (this.reserved.has(port)) return 'reserved';
    if (isBrowserUnsafe(port)) return 'browser-unsafe';
    if (!explicitRange && this.inEphemeral(port)) return 'ephemeral';
    return null;
  }

  /** Whether berth.yaml reserves `port`. */
  isReserved(port: number): boolean {
    return this.reserved.has(port);
  }

  /** When `port` starts an excluded block (the ephemeral range), the first port after it. */
  skipFrom(port: number, explicitRange: boolean): number | null {
    return !explicitRange && this.inEphemeral(port) ? this.ephemeral!.end + 1 : null;
  }

  private inEphemeral(port: number): boolean {
    return this.ephemeral !== null && port >= this.ephemeral.start && port <= this.ephemeral.end;
  }
}

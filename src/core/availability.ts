/**
 * Whether a port may be handed out: the one place that combines the registry, berth.yaml
 * and the OS. The allocator and pools both ask here.
 */
import type { PortRange, Protocol } from '../types.js';
import { isBrowserUnsafe } from './unsafe-ports.js';

/** The OS side of availability; os/ provides the real one, tests may pass their own. */
export interface PortOracle {
  /** True when nothing on the machine holds the port (bind probe, v4 and v6). */
  isFree(port: number, protocol: Protocol): Promise<boolean>;
  /** The kernel's ephemeral (outgoing connection) range, or null where unknown. */
  ephemeralRange(): PortRange | null;
  /** Whether a pid names a live process (owners of ephemeral leases). */
  isAlive(pid: number): boolean;
}

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

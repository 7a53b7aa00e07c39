/**
 * The real OS behind the engine: bind probes, the kernel's ephemeral range, pid liveness.
 */
import { ephemeralPortRange, isAlive, isPortFree } from '../os/index.js';
import type { PortOracle } from './availability.js';

/** Port availability as the operating system sees it. */
export const osOracle: PortOracle = {
  isFree: isPortFree,
  ephemeralRange: ephemeralPortRange,
  isAlive,
};

/**
 * Ports for benchmarks: the tests' helpers (the kernel picks each free port, so parallel
 * runs never reach for the same one), and how many of a stack's ports are still held.
 */
import { portFree } from '../test/helpers/ports.js';

export { freePort, portFree } from '../test/helpers/ports.js';

/** How many of the ports are held (do not bind). */
export async function heldPorts(ports: readonly number[]): Promise<number> {
  let held = 0;
  for (const port of ports) if (!(await portFree(port))) held += 1;
  return held;
}

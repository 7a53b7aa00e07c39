/**
 * The one display order of listeners. Pure.
 */
import type { Listener } from '../types.js';

/** Orders listeners by protocol, then port, then address, then pid (unknown holders first). */
export function compareListeners(a: Listener, b: Listener): number {
  return (
    a.protocol.localeCompare(b.protocol) ||
    a.port - b.port ||
    a.address.localeCompare(b.address) ||
    (a.pid ?? 0) - (b.pid ?? 0)
  );
}

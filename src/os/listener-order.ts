/**
 * The one display order of listeners. Pure.
 */
import type { Listener } from '../types.js';

const byCodePoint = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Orders listeners by protocol, then port, then address (by code point, so IPv4 comes
 * before IPv6: `0.0.0.0`, `127.0.0.1`, `::`, `::1`), then pid (unknown holders first).
 */
export function compareListeners(a: Listener, b: Listener): number {
  return byCodePoint(a.protocol, b.protocol) || a.port - b.port || byCodePoint(a.address, b.address) || (a.pid ?? 0) - (b.pid ?? 0);
}

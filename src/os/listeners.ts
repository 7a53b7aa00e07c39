/**
 * Who listens: every listening TCP socket and bound UDP socket, with its holder.
 * Linux reads /proc; macOS runs lsof.
 */
import type { Listener } from '../types.js';
import { listLsofListeners } from './listeners-darwin.js';
import { listLinuxListeners } from './listeners-linux.js';
import { compareListeners } from './listener-order.js';
import type { ListenerQuery } from './types.js';
import { assertPort } from './validate.js';

/**
 * Lists listeners, optionally only one protocol and/or one exact port (3000 never matches
 * 300 or 30000). Sockets whose holder cannot be inspected are still listed, with pid,
 * process and command null. With `everyHolder`, a socket several processes hold (a
 * forking server's workers, a child that inherited it) is listed once per process; by
 * default Linux names the lowest pid only. Sorted by protocol, port, address, pid.
 *
 * @throws UsageError when `port` is not a valid port; RefusedError when the OS cannot be
 *   asked (no /proc, no lsof).
 */
export async function listListeners(query: ListenerQuery = {}): Promise<Listener[]> {
  if (query.port !== undefined) assertPort(query.port);
  const found = process.platform === 'linux' ? listLinuxListeners(query) : await listLsofListeners(query);
  return found.sort(compareListeners);
}


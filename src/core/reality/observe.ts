/**
 * What reality commands ask the OS: listeners with their containers, the process tree,
 * who owns a pid. The only file of core/reality that reads the machine (kill.ts signals).
 */
import { attachContainers, currentUid, listListeners, listPublishedPorts, processInfo, type ListenerQuery } from '../../os/index.js';
import type { Listener } from '../../types.js';
import type { ParentOf } from './expect.js';

/** Longest ancestor chain collected for berth itself. */
const MAX_ANCESTORS = 256;

/**
 * Listeners matching `query`, each marked with the container that publishes its port
 * (Docker Engine API at DOCKER_HOST; none when no engine answers), plus published ports
 * whose host-side holder berth cannot see. Listing and the engine query run in parallel.
 */
export async function observeListeners(query: ListenerQuery = {}): Promise<Listener[]> {
  const [listeners, published] = await Promise.all([listListeners(query), listPublishedPorts()]);
  const relevant = published.filter((p) => (query.port === undefined || p.port === query.port) && (query.protocol === undefined || p.protocol === query.protocol));
  return attachContainers(listeners, relevant);
}

/** A parent lookup over the live process table, reading each pid at most once. */
export function liveParents(): ParentOf {
  const cache = new Map<number, number | null>();
  return (pid) => {
    if (!cache.has(pid)) cache.set(pid, processInfo(pid)?.ppid ?? null);
    return cache.get(pid)!;
  };
}

/** berth's parent, grandparent, ... up to (not including) pid 0. */
export function ancestorsOfSelf(parentOf: ParentOf = liveParents()): number[] {
  const out: number[] = [];
  let pid = process.ppid;
  while (pid > 0 && out.length < MAX_ANCESTORS && !out.includes(pid)) {
    out.push(pid);
    pid = parentOf(pid) ?? 0;
  }
  return out;
}

/** uid and login name of a pid, or null when it is gone or hidden. */
export function ownerOf(pid: number): { uid: number; user: string } | null {
  const info = processInfo(pid);
  return info === null ? null : { uid: info.uid, user: info.user };
}

/** berth's effective uid. */
export const selfUid = currentUid;

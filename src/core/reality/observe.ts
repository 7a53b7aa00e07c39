/**
 * What reality asks the machine beyond listeners: the process tree and who owns a pid.
 * Everything goes through the Machine, so engine tests can run on a fake one.
 */
import type { Machine } from '../../os/machine.js';
import type { ParentOf } from './expect.js';

/** Longest ancestor chain collected for berth itself. */
const MAX_ANCESTORS = 256;

/** A parent lookup over the live process table, reading each pid at most once. */
export function liveParents(machine: Machine): ParentOf {
  const cache = new Map<number, number | null>();
  return (pid) => {
    if (!cache.has(pid)) cache.set(pid, machine.processInfo(pid)?.ppid ?? null);
    return cache.get(pid)!;
  };
}

/** berth's parent, grandparent, ... up to (not including) pid 0. */
export function ancestorsOfSelf(parentOf: ParentOf): number[] {
  const out: number[] = [];
  let pid = process.ppid;
  while (pid > 0 && out.length < MAX_ANCESTORS && !out.includes(pid)) {
    out.push(pid);
    pid = parentOf(pid) ?? 0;
  }
  return out;
}

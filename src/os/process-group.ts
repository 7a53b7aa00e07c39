/**
 * Finding every process of a supervised service: its process group, its descendants, and
 * those that left both (a daemon that double-forked and called setsid) but still carry
 * the marker variable the supervisor put in the service's environment. Linux reads /proc;
 * elsewhere `ps` gives parents and groups and the marker is not seen.
 */
import { readFileSync } from 'node:fs';
import { readListeningSockets } from './listeners-linux.js';
import { PROC_ROOT, listPids, readStat, socketInodesOf } from './proc-fs.js';
import { descendantsOf } from './process-tree.js';
import { runCommandSync } from './run-command.js';

/** One row of the process table: parent and group of a pid. */
export interface ProcessRow {
  readonly ppid: number;
  readonly pgid: number;
}

/** pid -> parent and group, for every visible process. */
export function processTable(): Map<number, ProcessRow> {
  const table = new Map<number, ProcessRow>();
  if (process.platform === 'linux') {
    for (const pid of listPids()) {
      const stat = readStat(pid);
      if (stat !== null && stat.state !== 'Z' && stat.state !== 'X') table.set(pid, { ppid: stat.ppid, pgid: stat.pgid });
    }
    return table;
  }
  const ps = runCommandSync('ps', ['-A', '-o', 'pid=,ppid=,pgid=']);
  for (const line of (ps?.stdout ?? '').split('\n')) {
    const [pid, ppid, pgid] = line.trim().split(/\s+/).map(Number);
    if (Number.isInteger(pid) && Number.isInteger(ppid) && Number.isInteger(pgid)) table.set(pid!, { ppid: ppid!, pgid: pgid! });
  }
  return table;
}

/** True when /proc/PID/environ holds exactly `entry` (`NAME=value`); false when unreadable or gone. */
export function environHas(pid: number, entry: string): boolean {
  if (process.platform !== 'linux') return false;
  try {
    return readFileSync(`${PROC_ROOT}/${pid}/environ`, 'latin1').split('\0').includes(entry);
  } catch {
    // ENOENT (exited) or EACCES (another user's process): not one of ours either way.
    return false;
  }
}

/** What identifies a service's processes: roots it spawned, its process group, its marker. */
export interface MemberQuery {
  /** pids known to be the service's (its root, processes seen in its tree before). */
  readonly pids: readonly number[];
  /** The process group of the service (its root's pid when spawned detached), or null. */
  readonly pgid: number | null;
  /** `NAME=value` put in the service's environment, inherited by everything it starts. */
  readonly marker: string | null;
}

/**
 * Every live process of the service: the known pids still alive, their descendants, the
 * members of its process group that carry the marker (or descend from a known pid), and
 * every process carrying the marker. Never a process that merely reuses an old pid: known
 * pids must be in `table` now, and the marker names one launch of one service.
 */
export function serviceMembers(query: MemberQuery, table: ReadonlyMap<number, ProcessRow> = processTable()): number[] {
  const parents = new Map<number, number>([...table].map(([pid, row]) => [pid, row.ppid]));
  const found = new Set<number>();
  for (const pid of query.pids) {
    if (!table.has(pid)) continue;
    found.add(pid);
    for (const d of descendantsOf(pid, parents)) found.add(d);
  }
  if (query.marker !== null) {
    for (const [pid, row] of table) {
      if (found.has(pid)) continue;
      // Off Linux the marker cannot be read: the group alone is the best guess left.
      const marked = process.platform === 'linux' ? environHas(pid, query.marker) : query.pgid !== null && row.pgid === query.pgid;
      if (marked) {
        found.add(pid);
        for (const d of descendantsOf(pid, parents)) found.add(d);
      }
    }
  }
  found.delete(process.pid);
  return [...found].sort((a, b) => a - b);
}

/**
 * Whether `pids` hold a listening TCP socket on `port` (`ours`), and whether the port has
 * listening sockets none of them holds (`others`): read from /proc/net and the pids' own
 * fds only, far cheaper than finding every holder. Null off Linux (ask the listeners).
 */
export function portHolding(pids: readonly number[], port: number): { readonly ours: boolean; readonly others: boolean } | null {
  if (process.platform !== 'linux') return null;
  const inodes = new Set(readListeningSockets({ port, protocol: 'tcp' }).map((s) => s.inode));
  const mine = new Set<number>();
  for (const pid of pids) for (const inode of socketInodesOf(pid)) if (inodes.has(inode)) mine.add(inode);
  return { ours: mine.size > 0, others: [...inodes].some((i) => !mine.has(i)) };
}

/**
 * For several markers at once, the processes carrying each (one read of every process's
 * environment, instead of one per marker). Empty off Linux.
 */
export function markedProcesses(markers: ReadonlySet<string>, table: ReadonlyMap<number, ProcessRow> = processTable()): Map<string, number[]> {
  const found = new Map<string, number[]>();
  if (process.platform !== 'linux' || markers.size === 0) return found;
  for (const pid of table.keys()) {
    let entries: string[];
    try {
      entries = readFileSync(`${PROC_ROOT}/${pid}/environ`, 'latin1').split('\0');
    } catch {
      // Exited, or another user's process: carries none of our markers as far as we can know.
      continue;
    }
    for (const entry of entries) if (markers.has(entry)) found.set(entry, [...(found.get(entry) ?? []), pid]);
  }
  return found;
}

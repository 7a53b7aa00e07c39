/**
 * Reads per-process files under /proc (Linux). Every reader returns null when the pid
 * is gone or not inspectable: processes exit at any moment, and that is not an error.
 *
 * These are synchronous on purpose: each is one small read of a kernel-generated file,
 * and the fd scan does thousands of them, where a thread-pool round trip per call would
 * cost more than the read itself.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { executableName, parseCmdline, parseProcStat, parseProcStatus, type ProcStat, type ProcStatus } from './parse-proc.js';

/** Root of the proc file system. */
export const PROC_ROOT = '/proc';

function readProcFile(pid: number, file: string): string | null {
  try {
    return readFileSync(`${PROC_ROOT}/${pid}/${file}`, 'utf8');
  } catch {
    // ENOENT (exited), EACCES (another user's process) or ESRCH: the caller treats the
    // pid as not inspectable, which is exactly what happened.
    return null;
  }
}

/** The short process name from /proc/PID/comm. */
export function readComm(pid: number): string | null {
  const text = readProcFile(pid, 'comm');
  return text === null ? null : text.replace(/\n$/, '');
}

/** The full command line, arguments joined by spaces. */
export function readCmdline(pid: number): string | null {
  const text = readProcFile(pid, 'cmdline');
  return text === null ? null : parseCmdline(text);
}

/**
 * The executable's full file name (see {@link executableName}): /proc/PID/exe's target,
 * or argv[0] when the link cannot be read (another user's process, for a non-root caller).
 */
export function readExecutable(pid: number): string | null {
  let target: string | null = null;
  try {
    target = readlinkSync(`${PROC_ROOT}/${pid}/exe`);
  } catch {
    // EACCES (another user's process), ENOENT (a kernel thread, or it exited): argv[0]
    // below is the next best name, and null when that is gone too.
  }
  return executableName(target, target === null ? readProcFile(pid, 'cmdline') : null);
}

/** Parsed /proc/PID/stat (state, ppid, start time). */
export function readStat(pid: number): ProcStat | null {
  const text = readProcFile(pid, 'stat');
  return text === null ? null : parseProcStat(text);
}

/** Parsed /proc/PID/status (name, ppid, effective uid). */
export function readStatus(pid: number): ProcStatus | null {
  const text = readProcFile(pid, 'status');
  return text === null ? null : parseProcStatus(text);
}

/** Every pid visible in /proc, ascending. */
export function listPids(): number[] {
  const pids: number[] = [];
  for (const name of readdirSync(PROC_ROOT)) {
    const pid = Number(name);
    if (Number.isInteger(pid) && pid > 0) pids.push(pid);
  }
  return pids.sort((a, b) => a - b);
}

const SOCKET_LINK = /^socket:\[(\d+)\]$/;

/** The socket inodes a process holds open, from its /proc/PID/fd symlinks. Empty when not inspectable. */
export function socketInodesOf(pid: number): number[] {
  let fds: string[];
  try {
    fds = readdirSync(`${PROC_ROOT}/${pid}/fd`);
  } catch {
    // EACCES for another user's process, ENOENT when it just exited: it holds nothing we can see.
    return [];
  }
  const inodes: number[] = [];
  for (const fd of fds) {
    let link: string;
    try {
      link = readlinkSync(`${PROC_ROOT}/${pid}/fd/${fd}`);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // EACCES/EPERM: the process is not inspectable (a protected or foreign process
      // whose fd directory is listable but not readable); every other fd would fail the
      // same way, so stop here instead of paying for hundreds of failed calls.
      if (code === 'EACCES' || code === 'EPERM') break;
      // ENOENT: the fd was closed between readdir and readlink; nothing to record.
      continue;
    }
    const match = SOCKET_LINK.exec(link);
    if (match) inodes.push(Number(match[1]));
  }
  return inodes;
}

/**
 * Finds which pid holds each wanted socket inode, scanning pids in ascending order and
 * stopping as soon as every inode is found. A socket shared by several processes (a
 * forking server) is attributed to the lowest pid, usually the parent that opened it.
 */
export function findSocketHolders(wanted: ReadonlySet<number>): Map<number, number> {
  const holders = new Map<number, number>();
  if (wanted.size === 0) return holders;
  for (const pid of listPids()) {
    for (const inode of socketInodesOf(pid)) {
      if (wanted.has(inode) && !holders.has(inode)) holders.set(inode, pid);
    }
    if (holders.size === wanted.size) break;
  }
  return holders;
}

/**
 * Every pid holding each wanted socket inode, ascending: a socket shared by several
 * processes (a forking server, a child that inherited the listening socket) lists them
 * all. Scans every process, so it costs more than {@link findSocketHolders}.
 */
export function findAllSocketHolders(wanted: ReadonlySet<number>): Map<number, number[]> {
  const holders = new Map<number, number[]>();
  if (wanted.size === 0) return holders;
  for (const pid of listPids()) {
    for (const inode of new Set(socketInodesOf(pid))) {
      if (!wanted.has(inode)) continue;
      const list = holders.get(inode);
      if (list) list.push(pid);
      else holders.set(inode, [pid]);
    }
  }
  return holders;
}

/** pid -> parent pid for every visible process. */
export function readParents(): Map<number, number> {
  const parents = new Map<number, number>();
  for (const pid of listPids()) {
    const stat = readStat(pid);
    if (stat) parents.set(pid, stat.ppid);
  }
  return parents;
}

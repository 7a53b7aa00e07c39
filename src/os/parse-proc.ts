/**
 * Pure parsers of per-process and sysctl text from /proc (not /proc/net: see
 * parse-proc-net.ts). No I/O.
 */
import type { PortRange } from '../types.js';

/** The fields of /proc/PID/status berth uses. */
export interface ProcStatus {
  readonly name: string;
  readonly ppid: number;
  /** Effective uid: whose rights the process runs with (what `ps -o user` shows). */
  readonly uid: number;
}

/** Parses /proc/PID/status; null when a field berth needs is missing. */
export function parseProcStatus(text: string): ProcStatus | null {
  let name: string | null = null;
  let ppid: number | null = null;
  let uid: number | null = null;
  for (const line of text.split('\n')) {
    const tab = line.indexOf(':');
    if (tab < 0) continue;
    const key = line.slice(0, tab);
    const value = line.slice(tab + 1).trim();
    if (key === 'Name') name = value;
    else if (key === 'PPid') ppid = Number(value);
    else if (key === 'Uid') uid = Number(value.split(/\s+/)[1]);
  }
  if (name === null || ppid === null || uid === null || !Number.isInteger(ppid) || !Number.isInteger(uid)) return null;
  return { name, ppid, uid };
}

/** The fields of /proc/PID/stat berth uses. */
export interface ProcStat {
  /** One letter: R, S, D, Z (zombie), T, ... */
  readonly state: string;
  readonly ppid: number;
  /** Process group id: a supervised service's group outlives its leader's pid. */
  readonly pgid: number;
  /** Start time in clock ticks since boot: with the pid, it names one process for good. */
  readonly startTime: number;
}

/**
 * Parses /proc/PID/stat. The command name sits in parentheses and may itself hold
 * spaces and parentheses, so fields are counted from the last `)`.
 */
export function parseProcStat(text: string): ProcStat | null {
  const close = text.lastIndexOf(')');
  if (close < 0) return null;
  // After ")": field 3 (state) is index 0, so field N is index N - 3.
  const fields = text.slice(close + 1).trim().split(/\s+/);
  const state = fields[0];
  const ppid = Number(fields[1]);
  const pgid = Number(fields[2]);
  const startTime = Number(fields[19]);
  if (!state || !Number.isInteger(ppid) || !Number.isInteger(pgid) || !Number.isInteger(startTime)) return null;
  return { state, ppid, pgid, startTime };
}

/** Turns /proc/PID/cmdline (NUL-separated arguments) into one line; null when empty (kernel threads, zombies). */
export function parseCmdline(raw: string): string | null {
  const line = raw.replace(/\0+$/, '').split('\0').join(' ').trim();
  return line === '' ? null : line;
}

/** What the kernel appends to /proc/PID/exe's target once the file was deleted or replaced. */
const DELETED_SUFFIX = ' (deleted)';

/** The last path component of `path` (`/usr/bin/pasta` -> `pasta`); null when empty. */
function baseName(path: string): string | null {
  const name = path.slice(path.lastIndexOf('/') + 1);
  return name === '' ? null : name;
}

/**
 * The executable's full file name from the target of /proc/PID/exe (null when the link
 * could not be read) or, failing that, from argv[0] in raw /proc/PID/cmdline
 * (NUL-separated). Unlike comm, never cut to 15 characters. A binary replaced since it
 * started (`/usr/bin/pasta (deleted)`) keeps its name. Null when neither names a file.
 */
export function executableName(exeTarget: string | null, rawCmdline: string | null): string | null {
  if (exeTarget !== null && exeTarget !== '') {
    const path = exeTarget.endsWith(DELETED_SUFFIX) ? exeTarget.slice(0, -DELETED_SUFFIX.length) : exeTarget;
    return baseName(path);
  }
  if (rawCmdline === null) return null;
  const nul = rawCmdline.indexOf('\0');
  return baseName(nul < 0 ? rawCmdline : rawCmdline.slice(0, nul));
}

/** Parses /proc/sys/net/ipv4/ip_local_port_range (`32768\t60999`). */
export function parsePortRange(text: string): PortRange | null {
  const [start, end] = text.trim().split(/\s+/).map(Number);
  if (start === undefined || end === undefined || !Number.isInteger(start) || !Number.isInteger(end) || start > end) {
    return null;
  }
  return { start, end };
}

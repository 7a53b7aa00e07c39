/**
 * Process facts: is a pid alive, and what is it. The one `isAlive` of berth.
 */
import { parsePsRows, parsePsCommands } from './parse-ps.js';
import { readCmdline, readComm, readExecutable, readStat, readStatus } from './proc-fs.js';
import { runCommandSync } from './run-command.js';
import type { ProcessInfo } from './types.js';
import { userName } from './users.js';

export { currentUid } from './users.js';

const IS_LINUX = process.platform === 'linux';

/**
 * True while `pid` exists and is not a zombie. Signal 0 checks existence without
 * delivering anything; EPERM means it exists but belongs to someone else. A zombie has
 * exited and holds no ports; it only waits for its parent to reap it.
 */
export function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid < 1) return false;
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (IS_LINUX) {
    const stat = readStat(pid);
    // stat is null when /proc hides other users' processes (hidepid): trust the signal.
    return stat === null || (stat.state !== 'Z' && stat.state !== 'X');
  }
  return true;
}

/**
 * An opaque token that names one process for good: the pid plus its start time on
 * Linux. Two different tokens for one pid mean the pid was reused. Null when the pid
 * is gone, or (off Linux) always, where berth falls back to the pid alone.
 */
export function processIdentity(pid: number): string | null {
  if (!IS_LINUX) return null;
  const stat = readStat(pid);
  return stat === null ? null : `${pid}@${stat.startTime}`;
}

/** What a pid is (name, executable, command line, parent, user), or null when it is gone or hidden. */
export function processInfo(pid: number): ProcessInfo | null {
  if (!Number.isInteger(pid) || pid < 1) return null;
  return IS_LINUX ? linuxProcessInfo(pid) : psProcessInfo(pid);
}

function linuxProcessInfo(pid: number): ProcessInfo | null {
  const status = readStatus(pid);
  if (status === null) return null;
  return {
    pid,
    ppid: status.ppid,
    // comm is the raw name; status escapes some characters.
    name: readComm(pid) ?? status.name,
    command: readCmdline(pid),
    executable: readExecutable(pid),
    user: userName(status.uid),
    uid: status.uid,
  };
}

function psProcessInfo(pid: number): ProcessInfo | null {
  const rows = runCommandSync('ps', ['-o', 'pid=,ppid=,uid=,user=,ucomm=', '-p', String(pid)]);
  const row = rows === null ? undefined : parsePsRows(rows.stdout).find((r) => r.pid === pid);
  if (row === undefined) return null;
  const commands = runCommandSync('ps', ['-ww', '-o', 'pid=,command=', '-p', String(pid)]);
  const command = commands === null ? null : (parsePsCommands(commands.stdout).get(pid) ?? null);
  // ps has no untruncated executable name of its own: take the command's first word.
  const executable = command === null ? null : (command.split(' ')[0]!.split('/').pop() || null);
  return { pid, ppid: row.ppid, name: row.name, command, executable, user: row.user, uid: row.uid };
}

/**
 * Pure parsers of BSD/procps `ps` output (used on macOS, where there is no /proc).
 * Every format berth asks for ends with the only column that may hold spaces.
 */

/** One row of `ps -o pid=,ppid=,uid=,user=,ucomm=`. */
export interface PsRow {
  readonly pid: number;
  readonly ppid: number;
  readonly uid: number;
  readonly user: string;
  readonly name: string;
}

/** Parses `ps -o pid=,ppid=,uid=,user=,ucomm=` output. */
export function parsePsRows(text: string): PsRow[] {
  const rows: PsRow[] = [];
  for (const line of text.split('\n')) {
    const match = /^\s*(\d+)\s+(\d+)\s+(\d+)\s+(\S+)\s+(.+?)\s*$/.exec(line);
    if (!match) continue;
    rows.push({ pid: Number(match[1]), ppid: Number(match[2]), uid: Number(match[3]), user: match[4]!, name: match[5]! });
  }
  return rows;
}

/** Parses `ps -ww -o pid=,command=` output into pid -> full command line. */
export function parsePsCommands(text: string): Map<number, string> {
  const commands = new Map<number, string>();
  for (const line of text.split('\n')) {
    const match = /^\s*(\d+)\s+(.+?)\s*$/.exec(line);
    if (match) commands.set(Number(match[1]), match[2]!);
  }
  return commands;
}

/** Parses `ps -A -o pid=,ppid=` output into pid -> parent pid. */
export function parsePsParents(text: string): Map<number, number> {
  const parents = new Map<number, number>();
  for (const line of text.split('\n')) {
    const match = /^\s*(\d+)\s+(\d+)\s*$/.exec(line);
    if (match) parents.set(Number(match[1]), Number(match[2]));
  }
  return parents;
}

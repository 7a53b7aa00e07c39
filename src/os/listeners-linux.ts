/**
 * Listeners on Linux, read straight from /proc: sockets from /proc/net/*, their holders
 * from /proc/PID/fd, names and command lines from /proc/PID/{comm,cmdline}.
 * Faster than spawning `ss -ltnup` (see bench/listeners.ts) and needs no package.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { RefusedError } from '../errors.js';
import type { Listener, Protocol } from '../types.js';
import { isListening, parseProcNet, passedTcpListeners, type ProcNetSocket } from './parse-proc-net.js';
import { findAllSocketHolders, findSocketHolders, PROC_ROOT, readCmdline, readComm } from './proc-fs.js';
import type { ListenerQuery } from './types.js';
import { userName } from './users.js';

/** The /proc/net files holding each protocol's sockets, IPv4 then IPv6. */
const PROC_NET_FILES: Readonly<Record<Protocol, readonly string[]>> = {
  tcp: ['tcp', 'tcp6'],
  udp: ['udp', 'udp6'],
};

/** Read size for /proc/net files: about 100 rows, so reading stops soon after the last listener. */
const PROC_NET_CHUNK_BYTES = 16 * 1024;

/**
 * Reads a /proc/net file. For TCP, stops at the first chunk that reaches the
 * established phase (see {@link passedTcpListeners}): on a machine with thousands of
 * connections that skips almost all of the file. Null when the file does not exist.
 */
function readProcNet(file: string, protocol: Protocol): string | null {
  let fd: number;
  try {
    fd = openSync(`${PROC_ROOT}/net/${file}`, 'r');
  } catch {
    // Absent: tcp6/udp6 on a kernel without IPv6 (no such sockets), or no /proc at all,
    // which the caller reports.
    return null;
  }
  try {
    const buffer = Buffer.allocUnsafe(PROC_NET_CHUNK_BYTES);
    let text = '';
    for (;;) {
      const bytes = readSync(fd, buffer, 0, buffer.length, null);
      if (bytes === 0) return text;
      const chunk = buffer.toString('latin1', 0, bytes);
      text += chunk;
      // Cut at the last full line: the rest is established-phase rows, not needed.
      if (protocol === 'tcp' && passedTcpListeners(chunk)) return text.slice(0, text.lastIndexOf('\n') + 1);
    }
  } finally {
    closeSync(fd);
  }
}

/** Listening/bound sockets from /proc/net matching the query (no pid lookup yet). */
export function readListeningSockets(query: ListenerQuery = {}): ProcNetSocket[] {
  const protocols: Protocol[] = query.protocol ? [query.protocol] : ['tcp', 'udp'];
  const sockets: ProcNetSocket[] = [];
  for (const protocol of protocols) {
    for (const file of PROC_NET_FILES[protocol]) {
      const text = readProcNet(file, protocol);
      if (text === null) {
        if (file.endsWith('6')) continue;
        throw new RefusedError(`Cannot read ${PROC_ROOT}/net/${file}: berth reads listeners from /proc; mount /proc (or run berth outside this chroot).`);
      }
      for (const socket of parseProcNet(text, protocol)) {
        if (!isListening(socket)) continue;
        if (query.port !== undefined && socket.port !== query.port) continue;
        sockets.push(socket);
      }
    }
  }
  return sockets;
}

/**
 * Every listening TCP socket and bound UDP socket on Linux, with its holder. With a port,
 * only that port's inodes are looked for and the /proc scan stops once all are found.
 * With `everyHolder`, a socket held by several processes is listed once per process.
 *
 * @throws RefusedError when /proc/net cannot be read.
 */
export function listLinuxListeners(query: ListenerQuery = {}): Listener[] {
  const sockets = readListeningSockets(query);
  const inodes = new Set(sockets.map((s) => s.inode));
  const holders: Map<number, readonly number[]> = query.everyHolder
    ? findAllSocketHolders(inodes)
    : new Map([...findSocketHolders(inodes)].map(([inode, pid]) => [inode, [pid]]));
  const processes = new Map<number, { name: string | null; command: string | null }>();
  const describe = (pid: number): { name: string | null; command: string | null } => {
    let known = processes.get(pid);
    if (!known) {
      known = { name: readComm(pid), command: readCmdline(pid) };
      processes.set(pid, known);
    }
    return known;
  };

  return sockets.flatMap((socket): Listener[] => {
    const pids: readonly (number | null)[] = holders.get(socket.inode) ?? [null];
    return pids.map((pid) => {
      const holder = pid === null ? null : describe(pid);
      return {
        protocol: socket.protocol,
        address: socket.address,
        port: socket.port,
        pid,
        process: holder?.name ?? null,
        command: holder?.command ?? null,
        user: userName(socket.uid),
        container: null,
      };
    });
  });
}

/**
 * Pure parser of /proc/net/{tcp,tcp6,udp,udp6}. No I/O: the text comes in, sockets come out.
 *
 * Each row holds the local address as hex words in host byte order, the port as big
 * hex, the socket state, the owner's uid and the socket inode (the key that links a
 * socket to the process holding it through /proc/PID/fd/N -> `socket:[INODE]`).
 */
import type { Protocol } from '../types.js';

/** TCP_LISTEN in include/net/tcp_states.h. */
export const TCP_STATE_LISTEN = 0x0a;
/** TCP_SYN_RECV: before Linux 4.4 pending requests were printed right under their listener. */
export const TCP_STATE_SYN_RECV = 0x03;
/** TCP_CLOSE: what an unconnected, bound UDP socket reports (`ss -lu` shows it as UNCONN). */
export const UDP_STATE_UNCONNECTED = 0x07;

/** One socket row of /proc/net/*. */
export interface ProcNetSocket {
  readonly protocol: Protocol;
  readonly address: string;
  readonly port: number;
  readonly state: number;
  readonly uid: number;
  readonly inode: number;
}

/** This machine's byte order, read from memory (as os.endianness() would say). */
const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * One row: `sl: local rem st tx:rx tr:when retrnsmt uid timeout inode ...`. Captures the
 * local address, local port, state, uid and inode.
 */
const ROW = /^\s*\d+:\s+([0-9A-Fa-f]+):([0-9A-Fa-f]+)\s+\S+\s+([0-9A-Fa-f]+)\s+\S+\s+\S+\s+\S+\s+(\d+)\s+\d+\s+(\d+)/gm;

/**
 * Parses the text of one /proc/net file into its socket rows (every state; see
 * {@link isListening} to keep listeners). Rows that do not parse are skipped.
 *
 * @param littleEndian byte order of the machine that produced the text (default: this one).
 */
export function parseProcNet(text: string, protocol: Protocol, littleEndian = HOST_IS_LITTLE_ENDIAN): ProcNetSocket[] {
  const sockets: ProcNetSocket[] = [];
  // Most rows share a handful of addresses (0.0.0.0, 127.0.0.1, ::): decode each once.
  const addresses = new Map<string, string | null>();
  for (const match of text.matchAll(ROW)) {
    const hex = match[1]!;
    let address = addresses.get(hex);
    if (address === undefined) {
      address = decodeProcAddress(hex, littleEndian);
      addresses.set(hex, address);
    }
    if (address === null) continue;
    sockets.push({
      protocol,
      address,
      port: Number.parseInt(match[2]!, 16),
      state: Number.parseInt(match[3]!, 16),
      uid: Number(match[4]),
      inode: Number(match[5]),
    });
  }
  return sockets;
}

const ROW_STATE = /^\s*\d+:\s+\S+\s+\S+\s+([0-9A-Fa-f]{2})\s/gm;

/**
 * True once a chunk of /proc/net/tcp or tcp6 text holds a row of the established phase.
 * The kernel prints every socket of the listening hash first (state LISTEN, and before
 * Linux 4.4 SYN_RECV requests under their listener), then walks the established hash;
 * so the first row in any other state means every listener has been printed, and the
 * reader can stop instead of paying for the walk over all connections.
 */
export function passedTcpListeners(chunk: string): boolean {
  for (const match of chunk.matchAll(ROW_STATE)) {
    const state = Number.parseInt(match[1]!, 16);
    if (state !== TCP_STATE_LISTEN && state !== TCP_STATE_SYN_RECV) return true;
  }
  return false;
}

/** True for a listening TCP socket or a bound, unconnected UDP socket on a real port. */
export function isListening(socket: ProcNetSocket): boolean {
  if (socket.port === 0) return false;
  return socket.protocol === 'tcp' ? socket.state === TCP_STATE_LISTEN : socket.state === UDP_STATE_UNCONNECTED;
}

/**
 * Decodes a /proc/net address: 8 hex digits (IPv4) or 32 (IPv6, four 32-bit words),
 * each word in the producer's byte order. IPv4-mapped IPv6 comes out as `::ffff:a.b.c.d`.
 * Returns null for anything else.
 */
export function decodeProcAddress(hex: string, littleEndian = HOST_IS_LITTLE_ENDIAN): string | null {
  if (!/^[0-9a-fA-F]+$/.test(hex) || (hex.length !== 8 && hex.length !== 32)) return null;
  const bytes: number[] = [];
  for (let word = 0; word < hex.length; word += 8) {
    const wordBytes = [0, 2, 4, 6].map((i) => Number.parseInt(hex.slice(word + i, word + i + 2), 16));
    bytes.push(...(littleEndian ? wordBytes.reverse() : wordBytes));
  }
  return bytes.length === 4 ? bytes.join('.') : formatIpv6(bytes);
}

/** Formats 16 bytes as RFC 5952 text (lowercase, longest zero run compressed, IPv4-mapped dotted). */
export function formatIpv6(bytes: readonly number[]): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0));
  const isMapped = groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff;
  if (isMapped) return `::ffff:${bytes.slice(12).join('.')}`;

  // Longest run of zero groups, at least two long; the first one wins a tie.
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hexOf = (gs: number[]): string => gs.map((g) => g.toString(16)).join(':');
  if (bestStart < 0) return hexOf(groups);
  return `${hexOf(groups.slice(0, bestStart))}::${hexOf(groups.slice(bestStart + bestLength))}`;
}

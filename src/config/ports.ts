/**
 * Parsing and validating ports and ranges: the one place that decides what a valid port is.
 */
import { UsageError } from '../errors.js';
import { MAX_PORT, PROTOCOLS, type PortRange, type Protocol } from '../types.js';

const PORT_HINT = 'a port is a whole number from 1 to 65535';

/** Parses a port given as text or number; throws UsageError naming `what` when invalid. */
export function parsePort(value: unknown, what = 'port'): number {
  const text = typeof value === 'number' ? String(value) : typeof value === 'string' ? value.trim() : '';
  if (!/^\d+$/.test(text)) throw new UsageError(`invalid ${what} '${String(value)}': ${PORT_HINT}.`);
  const port = Number(text);
  if (port < 1 || port > MAX_PORT) throw new UsageError(`invalid ${what} ${port}: ${PORT_HINT}.`);
  return port;
}

/** True when `value` is an integer port number. */
export function isPort(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= MAX_PORT;
}

/** Parses `A-B` (inclusive) into a range; throws UsageError when invalid or reversed. */
export function parseRange(value: string, what = 'range'): PortRange {
  const match = /^\s*(\S+?)\s*-\s*(\S+)\s*$/.exec(value);
  if (!match) throw new UsageError(`invalid ${what} '${value}': write it as START-END, e.g. 5000-5999.`);
  return makeRange(parsePort(match[1], `${what} start`), parsePort(match[2], `${what} end`), what);
}

/** Builds a range, checking that start <= end. */
export function makeRange(start: number, end: number, what = 'range'): PortRange {
  if (start > end) throw new UsageError(`invalid ${what} ${start}-${end}: the start is above the end; write the lower port first.`);
  return { start, end };
}

/** `5000-5999`. */
export function formatRange(range: PortRange): string {
  return `${range.start}-${range.end}`;
}

/** Whether a port lies in an inclusive range. */
export function inRange(port: number, range: PortRange): boolean {
  return port >= range.start && port <= range.end;
}

/** Parses a protocol name; throws UsageError for anything but tcp or udp. */
export function parseProtocol(value: unknown): Protocol {
  const text = String(value).toLowerCase();
  if ((PROTOCOLS as readonly string[]).includes(text)) return text as Protocol;
  throw new UsageError(`invalid protocol '${String(value)}': use tcp or udp.`);
}

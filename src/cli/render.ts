/**
 * Rendering: every command builds plain data, then either prints it as JSON (--json) or
 * as text for people. Logs and hints go to stderr.
 */
import { writeSync } from 'node:fs';
import { printable } from '../errors.js';
import type { Lease } from '../types.js';

/** Descriptors that refused a synchronous write (a non-blocking pipe, full): now streamed. */
const streamed = new Set<1 | 2>();

/**
 * Writes all of `text` to stdout (1) or stderr (2) with write(2) itself. Touching
 * process.stdout on a pipe builds a net.Socket, which loads net and the stream stack: ~5 ms
 * of a command whose whole budget is ~20 ms. A pipe the reader closed (berth list | head)
 * ends the output quietly; a non-blocking pipe that is full hands the rest, and everything
 * after it, to Node's stream, which keeps the order.
 */
function writeAll(fd: 1 | 2, text: string): void {
  // Read only when needed: the getter itself is what builds the stream.
  const stream = () => (fd === 1 ? process.stdout : process.stderr);
  if (streamed.has(fd)) {
    stream().write(text);
    return;
  }
  let rest = Buffer.from(text);
  while (rest.length > 0) {
    try {
      rest = rest.subarray(writeSync(fd, rest));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EPIPE') return;
      if (code !== 'EAGAIN') throw err;
      streamed.add(fd);
      // The stream reports a reader that goes away as an 'error' event: quiet, as above.
      stream().on('error', (error: NodeJS.ErrnoException) => {
        if (error.code !== 'EPIPE') throw error;
      });
      stream().write(rest);
      return;
    }
  }
}

/** Text for stdout, as is. */
export function writeOut(text: string): void {
  writeAll(1, text);
}

/** Text for stderr, as is. */
export function writeErr(text: string): void {
  writeAll(2, text);
}

/**
 * Text for a terminal: every control character but newline becomes `?`. Scopes, names,
 * purposes, process names and URL templates come from others; an escape sequence in one
 * must not retitle, clear or recolour the reader's terminal. JSON keeps exact values.
 */
export function forTerminal(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/g, '?');
}

/** Writes data to stdout: JSON with --json, else the text `human` makes of it. */
export function emit<T>(json: boolean, data: T, human: (data: T) => string): void {
  const text = json ? JSON.stringify(data, null, 2) : forTerminal(human(data));
  if (text !== '') writeOut(text.endsWith('\n') ? text : `${text}\n`);
}

/** A hint or log line for people, on stderr. */
export function note(message: string): void {
  writeErr(`${forTerminal(message)}\n`);
}

/** Aligns rows under headers. Empty cells print as `-`. */
export function table(headers: readonly string[], rows: readonly (readonly unknown[])[]): string {
  const cells = rows.map((row) => row.map((c) => (c === null || c === undefined || c === '' ? '-' : printable(String(c)))));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i]!.length)));
  const line = (r: readonly string[]) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  return [line(headers), ...cells.map(line)].join('\n');
}

/** The lease table used by allocate, list, release and reserve; `machines` adds a MACHINE column first (list --all-machines). */
export function leaseTable(leases: readonly Lease[], empty = 'no leases', machines = false): string {
  if (leases.length === 0) return empty;
  return table(
    [...(machines ? ['MACHINE'] : []), 'SCOPE', 'NAME', 'PORT', 'PROTO', 'STRATEGY', 'POOL', 'OWNER', 'PURPOSE'],
    leases.map((l) => [
      ...(machines ? [l.host] : []),
      l.scope,
      l.name,
      l.port,
      l.protocol,
      // Null for leases recorded before berth noted the strategy: nobody knows it.
      l.strategy,
      l.pool === null ? null : l.slot === null ? `${l.pool} fallback` : `${l.pool}#${l.slot}`,
      l.ephemeral ? `pid ${l.pid}` : null,
      l.purpose,
    ]),
  );
}

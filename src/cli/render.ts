/**
 * Rendering: every command builds plain data, then either prints it as JSON (--json) or
 * as text for people. Logs and hints go to stderr.
 */
import type { Lease } from '../types.js';

/** Writes data to stdout: JSON with --json, else the text `human` makes of it. */
export function emit<T>(json: boolean, data: T, human: (data: T) => string): void {
  const text = json ? JSON.stringify(data, null, 2) : human(data);
  if (text !== '') process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

/** A hint or log line for people, on stderr. */
export function note(message: string): void {
  process.stderr.write(`${message}\n`);
}

/** Aligns rows under headers. Empty cells print as `-`. */
export function table(headers: readonly string[], rows: readonly (readonly unknown[])[]): string {
  const cells = rows.map((row) => row.map((c) => (c === null || c === undefined || c === '' ? '-' : String(c))));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i]!.length)));
  const line = (r: readonly string[]) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  return [line(headers), ...cells.map(line)].join('\n');
}

/** The lease table used by allocate, list, release and reserve. */
export function leaseTable(leases: readonly Lease[], empty = 'no leases'): string {
  if (leases.length === 0) return empty;
  return table(
    ['SCOPE', 'NAME', 'PORT', 'PROTO', 'POOL', 'OWNER', 'PURPOSE'],
    leases.map((l) => [
      l.scope,
      l.name,
      l.port,
      l.protocol,
      l.pool === null ? null : `${l.pool}#${l.slot}`,
      l.ephemeral ? `pid ${l.pid}` : null,
      l.purpose,
    ]),
  );
}

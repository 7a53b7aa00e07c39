/**
 * The orders SQLite sorts in, for the memory store to list things the same way: text by
 * code point (SQLite's BINARY collation compares UTF-8 bytes, which sort as code points
 * do, unlike JavaScript's UTF-16 units) and NULL before any value.
 */
import type { Lease, Scope } from '../../types.js';

/** Compares text as SQLite's BINARY collation does. */
export function compareText(a: string, b: string): number {
  if (a === b) return 0;
  const left = a[Symbol.iterator]();
  const right = b[Symbol.iterator]();
  for (;;) {
    const x = left.next();
    const y = right.next();
    if (x.done || y.done) return x.done ? (y.done ? 0 : -1) : 1;
    if (x.value !== y.value) return x.value.codePointAt(0)! - y.value.codePointAt(0)!;
  }
}

function compareNullable<T>(a: T | null, b: T | null, compare: (x: T, y: T) => number): number {
  if (a === null || b === null) return a === null ? (b === null ? 0 : -1) : 1;
  return compare(a, b);
}

const compareNumber = (a: number, b: number) => a - b;

/** Leases as listLeases orders them: host, scope, pool leases last, pool, slot, port. */
export function compareLeases(a: Lease, b: Lease): number {
  return (
    compareText(a.host, b.host) ||
    compareText(a.scope, b.scope) ||
    Number(a.pool !== null) - Number(b.pool !== null) ||
    compareNullable(a.pool, b.pool, compareText) ||
    compareNullable(a.slot, b.slot, compareNumber) ||
    a.port - b.port
  );
}

/** Scopes by host, then name. */
export function compareScopes(a: Scope, b: Scope): number {
  return compareText(a.host, b.host) || compareText(a.name, b.name);
}

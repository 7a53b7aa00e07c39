/**
 * The memory store's tables, and an undo log that makes a transaction roll back: every
 * change made through `put`, `remove`, `addEvent` and `dropOldestEvents` while a
 * transaction is open records how to reverse it.
 */
import type { Lease, Protocol, RegistryEvent, Scope } from '../../types.js';

/** A scan hint as stored. */
export interface HintRow {
  readonly host: string;
  readonly protocol: Protocol;
  readonly start: number;
  readonly next: number;
}

/** A pool definition as stored: JSON text, so a caller's later changes to its object cannot reach it. */
export interface PoolRow {
  readonly host: string;
  readonly name: string;
  readonly definition: string;
}

/** A map key of several parts; JSON keeps `a/b` + `c` apart from `a` + `b/c`. */
export function keyOf(...parts: readonly (string | number)[]): string {
  return JSON.stringify(parts);
}

/** The tables of one memory store, with the undo log of the transaction in progress. */
export class MemoryState {
  /** By keyOf(host, scope, name). */
  readonly leases = new Map<string, Lease>();
  /** keyOf(host, protocol, port) to the key of the lease holding it. */
  readonly ports = new Map<string, string>();
  /** By keyOf(host, name). */
  readonly scopes = new Map<string, Scope>();
  /** By keyOf(host, protocol, start). */
  readonly hints = new Map<string, HintRow>();
  /** By keyOf(host, name). */
  readonly pools = new Map<string, PoolRow>();
  /** Oldest first; ids increase. */
  readonly events: RegistryEvent[] = [];
  /** The highest event id ever given, pruned or not. */
  lastEventId = 0;

  private undo: (() => void)[] | null = null;

  /** Starts recording changes. */
  begin(): void {
    this.undo = [];
  }

  /** Keeps the changes. */
  commit(): void {
    this.undo = null;
  }

  /** Reverses the changes since begin, newest first. */
  rollback(): void {
    const undo = this.undo ?? [];
    this.undo = null;
    for (let i = undo.length - 1; i >= 0; i--) undo[i]!();
  }

  put<V>(map: Map<string, V>, key: string, value: V): void {
    this.remember(map, key);
    map.set(key, value);
  }

  remove<V>(map: Map<string, V>, key: string): void {
    this.remember(map, key);
    map.delete(key);
  }

  private remember<V>(map: Map<string, V>, key: string): void {
    if (!this.undo) return;
    const had = map.has(key);
    const value = map.get(key);
    this.undo.push(() => (had ? map.set(key, value as V) : map.delete(key)));
  }

  /** Appends an event, giving it the next id. */
  addEvent(event: Omit<RegistryEvent, 'id'>): void {
    const previous = this.lastEventId;
    this.lastEventId++;
    this.events.push({ id: this.lastEventId, ...event });
    this.undo?.push(() => {
      this.events.pop();
      this.lastEventId = previous;
    });
  }

  /** Removes the `count` oldest events. */
  dropOldestEvents(count: number): void {
    if (count <= 0) return;
    const dropped = this.events.splice(0, count);
    this.undo?.push(() => this.events.unshift(...dropped));
  }
}

/**
 * The store interface: leases and scopes, persisted. Every backend (SQLite by default,
 * PostgreSQL when shared) implements it and passes the same conformance suite
 * (test/store/conformance.ts). Uniqueness per (host, protocol, port) and per
 * (host, scope, name) is enforced by the backend itself, so two processes can never both
 * win a port even if the engine's checks were skipped.
 *
 * History: every change to a lease row (insert, update, delete, and each lease a
 * deleteScope or reset removes) records one RegistryEvent in the same transaction, with
 * the write's intent (action and actor). No write can skip its event.
 */
import type { Actor, EventAction, Lease, NewLease, PoolConfig, Protocol, RegistryEvent, Scope } from '../types.js';

/** Which leases to list. Every field narrows the result; absent fields match all. */
export interface LeaseFilter {
  readonly host?: string;
  readonly scope?: string;
  readonly pool?: string;
  readonly protocol?: Protocol;
}

/** Fields of a lease that may change after it is created. */
export interface LeaseChanges {
  readonly port?: number;
  readonly purpose?: string | null;
  /** The strategy that chose a new port (a reassign). */
  readonly strategy?: string | null;
  readonly ephemeral?: boolean;
  readonly pid?: number | null;
}

/** Which events to list. Every field narrows the result; absent fields match all. */
export interface EventQuery {
  readonly host?: string;
  /** Only events with an id greater than this (the live feed resumes here). */
  readonly afterId?: number;
  readonly scope?: string;
  readonly name?: string;
  /** Events whose port or old port is this one. */
  readonly port?: number;
  /** Only events at or after this ISO-8601 time. */
  readonly since?: string;
  /** At most this many; with `newestFirst`, the newest ones. */
  readonly limit?: number;
  /** Newest first (history); default oldest first (the feed). */
  readonly newestFirst?: boolean;
}

/**
 * What a write transaction is doing, recorded with each event it makes. Absent: action
 * by change (created: allocate, deleted: release, moved: reassign, else update) and the
 * current process as actor.
 */
export interface WriteIntent {
  readonly action: EventAction;
  readonly actor?: Actor;
}

/** How long history is kept: events older than `maxAgeDays`, or beyond `maxEvents`, are pruned. */
export interface HistoryRetention {
  readonly maxEvents: number;
  readonly maxAgeDays: number;
}

/** Keep 90 days and at most 200,000 events unless told otherwise (BERTH_HISTORY_DAYS, BERTH_HISTORY_EVENTS). */
export const DEFAULT_RETENTION: HistoryRetention = { maxEvents: 200_000, maxAgeDays: 90 };

/** Which slot of a pool a scope holds. */
export interface SlotHolder {
  readonly slot: number;
  readonly scope: string;
}

/**
 * Operations available inside one transaction. Write transactions are serialised against
 * every other writer of the same store (other processes included), so read-check-write
 * sequences inside one are race-free.
 */
export interface StoreTx {
  getLease(host: string, scope: string, name: string): Promise<Lease | null>;
  /** The lease holding this port, if any. */
  leaseAt(host: string, protocol: Protocol, port: number): Promise<Lease | null>;
  /** Leases matching the filter, ordered by scope, then pool slot, then port. */
  listLeases(filter?: LeaseFilter): Promise<Lease[]>;
  /** Inserts a lease. Throws ConflictError when the port or the (scope, name) is taken. */
  insertLease(lease: NewLease): Promise<Lease>;
  /** Changes a lease; throws NotFoundError if absent, ConflictError if the port is taken. */
  updateLease(host: string, scope: string, name: string, changes: LeaseChanges): Promise<Lease>;
  /** Deletes one lease; returns it, or null if there was none. */
  deleteLease(host: string, scope: string, name: string): Promise<Lease | null>;
  /** Which scope holds which slot of a pool. */
  poolSlots(host: string, pool: string): Promise<SlotHolder[]>;

  getScope(host: string, name: string): Promise<Scope | null>;
  /** Creates the scope, or records a directory for it if it had none. */
  ensureScope(host: string, name: string, directory: string | null): Promise<Scope>;
  listScopes(host?: string): Promise<Scope[]>;
  /** Deletes a scope and all its leases; returns the leases deleted. */
  deleteScope(host: string, name: string): Promise<Lease[]>;

  /**
   * Scan hints make "first free port from S upward" cost the same with 50,000 leases as
   * with none: the port after the one the last walk from `start` claimed. Deleting or
   * moving a lease lowers every hint above its port, so freed ports are found first.
   */
  getScanHint(host: string, protocol: Protocol, start: number): Promise<number | null>;
  setScanHint(host: string, protocol: Protocol, start: number, next: number): Promise<void>;

  /** Events matching the query; see EventQuery for the order. */
  listEvents(query?: EventQuery): Promise<RegistryEvent[]>;
  /** The highest event id so far (0 when there is none): where a live feed starts. */
  lastEventId(): Promise<number>;

  /**
   * Pool definitions, recorded when a slot is reserved, so `list --pool`, `pools` and
   * `urls --pool` work from any directory. Saving replaces the host's definition of that name.
   */
  savePool(host: string, pool: PoolConfig): Promise<void>;
  getPool(host: string, name: string): Promise<PoolConfig | null>;
  listPools(host: string): Promise<PoolConfig[]>;

  /** Forgets every lease, scope, scan hint and pool definition of `host` (events stay: they are history). */
  reset(host: string): Promise<void>;
}

/**
 * A new lease whose port an allocation's read found free, for Store.claimNew, with the
 * scan hints (of its protocol) its walk moved.
 */
export interface NewClaim {
  readonly lease: NewLease;
  readonly hints: readonly { readonly start: number; readonly next: number }[];
  /**
   * For a claim of one lease: ports to take instead, in order, when a lease holds
   * `lease.port` (the first no lease holds, with its own hints).
   */
  readonly alternates?: readonly { readonly port: number; readonly hints: readonly { readonly start: number; readonly next: number }[] }[];
}

/** The scope a claim records, as ensureScope would. */
export interface ClaimScope {
  readonly host: string;
  readonly name: string;
  readonly directory: string | null;
}

/** What a guess's answers stood on (Store.guess), for its claim to be checked against: only the store that gave it reads the rest. */
export interface GuessBasis {
  readonly store: unknown;
  /**
   * The answers were remembered, not read: only claimNew, which checks them, may act on
   * them. Anything else (a general write transaction) reads afresh.
   */
  readonly remembered?: boolean;
}

/** A transaction's intent: readers never block writers for long, writers are serialised. */
export type TxMode = 'read' | 'write';

/** A persisted registry. */
export interface Store {
  /** `sqlite`, `postgres` or `memory`. */
  readonly kind: string;
  /** Where it lives, for messages: a file path or a connection target. */
  readonly location: string;
  /** The host (port namespace) this process allocates on. */
  readonly host: string;
  /**
   * Runs fn in one transaction; commits if it resolves, rolls back if it throws. A writer
   * waits for other writers (other processes, other engines of this process) without
   * blocking the event loop. `intent` labels the events a write records.
   */
  transaction<T>(mode: TxMode, fn: (tx: StoreTx) => Promise<T>, intent?: WriteIntent): Promise<T>;
  /**
   * Calls `onChange` soon after any writer (another process, another machine) commits
   * events, so a feed reads them at once instead of at its next poll; returns what stops
   * it. A hint only, with no guarantee: feeds still poll, and read by event id. Absent
   * when the backend has no such signal (SQLite, memory).
   */
  watch?(onChange: () => void): () => void;
  /**
   * An allocation's write in one step, for backends where each statement of a transaction
   * is a round trip to a server (PostgreSQL): one write transaction that records the scope
   * (as ensureScope) and inserts every lease with its scan hints and events, if no lease
   * holds any of their names or ports (a lone lease: its port or one of its alternates)
   * and the scope is tied to `directory` or to none.
   * Otherwise it writes nothing and returns null, and the caller runs its general write
   * transaction, which says why or walks again. Every lease belongs to `scope`, on the
   * store's own host. Absent where a transaction costs no round trips (SQLite, memory).
   */
  claimNew?(scope: ClaimScope, claims: readonly NewClaim[], intent?: WriteIntent, basis?: GuessBasis): Promise<Lease[] | null>;
  /**
   * An allocation's read for its one-step claim, where a read is a round trip and a claim
   * can check what the read saw (PostgreSQL). `fn` reads as in a read transaction, but the
   * answers may be what this store remembers of its own machine's rows (what its last such
   * read saw, and what its claims wrote since) rather than the server's (`basis.remembered`):
   * then they are fit only for a guess that claimNew checks. Passed to claimNew, `basis`
   * makes the claim refuse (write nothing, return null) when anything of the machine
   * changed since. `fn` may run twice: when the remembered answers do not cover what it
   * asks, or it throws on them, it runs again on a fresh read, whose outcome stands. Absent
   * where a read costs no round trip (SQLite, memory): read in a read transaction.
   */
  guess?<T>(fn: (tx: StoreTx, basis: GuessBasis) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/**
 * The registry as a whole: snapshots (export, import), garbage collection, reset, and the
 * history of every change.
 */
import type { Lease, RegistryEvent, Scope } from '../types.js';
import type { ScopeContext } from './context.js';

/** The snapshot format name and version this berth writes and reads. */
export const SNAPSHOT_FORMAT = 'berth-snapshot';
export const SNAPSHOT_VERSION = 1;

/** A whole registry as JSON. */
export interface Snapshot {
  readonly format: typeof SNAPSHOT_FORMAT;
  readonly version: number;
  readonly exportedAt: string;
  readonly scopes: readonly Scope[];
  readonly leases: readonly Lease[];
}

/** What an import did. */
export interface ImportResult {
  readonly imported: number;
  /** Rows already present, identical. */
  readonly unchanged: number;
  readonly replaced: boolean;
}

/** What gc reclaimed (or would reclaim, with dry-run). */
export interface GcResult {
  readonly dryRun: boolean;
  /** Ephemeral leases whose owner pid is no longer alive. */
  readonly deadLeases: readonly Lease[];
  /** Scopes whose directory no longer exists, with the leases they held. */
  readonly goneScopes: readonly { readonly scope: string; readonly directory: string; readonly leases: readonly Lease[] }[];
}

/** What reset forgot. */
export interface ResetResult {
  readonly reset: true;
  /** Where the store lives. */
  readonly store: string;
  /** The machine whose rows were forgotten. */
  readonly host: string;
  /** How many leases were forgotten. */
  readonly leases: number;
}

/** Which changes `history` lists, newest first. */
export interface HistoryQuery {
  /** Only this lease name (in any scope unless `scope` is given too). */
  readonly name?: string;
  /** Only changes to this port (as the port, or as the old port of a move). */
  readonly port?: number;
  readonly scope?: string;
  /** Only changes at or after this time: ISO-8601, or a duration ago (`90s`, `2h`, `3d`). */
  readonly since?: string;
  /** At most this many (default 50). */
  readonly limit?: number;
}

/** Options of export. */
export interface ExportOptions {
  /** Only this scope (its scope row and its leases). */
  readonly scope?: string;
}

/** Options of import. */
export interface ImportOptions {
  /** Make this machine's rows exactly the snapshot (forgets this machine's others). */
  readonly replace?: boolean;
  /** What the snapshot came from (a file name), for messages. */
  readonly source?: string;
}

/** The registry-wide operations. They act on this machine's rows only. */
export interface RegistryApi {
  /** A snapshot of this machine's scopes and leases (one scope's with `scope`). */
  export(ctx: ScopeContext, opts?: ExportOptions): Promise<Snapshot>;
  /** Imports a snapshot (validated field by field first), all or none. */
  import(ctx: ScopeContext, snapshot: unknown, opts?: ImportOptions): Promise<ImportResult>;
  /** Reclaims dead ephemeral leases and scopes whose directory is gone. */
  gc(ctx: ScopeContext, opts?: { readonly dryRun?: boolean }): Promise<GcResult>;
  /** Forgets every lease and scope of this machine. History stays. */
  reset(ctx: ScopeContext): Promise<ResetResult>;
  /** Changes, newest first: who allocated, moved or released what, and when. */
  history(ctx: ScopeContext, query?: HistoryQuery): Promise<RegistryEvent[]>;
}

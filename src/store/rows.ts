/**
 * Rows of the registry's tables as a backend's driver returns them, and the plain data
 * they stand for. The backends share the columns; only two types differ: SQLite has no
 * booleans (ephemeral is 0 or 1) and pg returns bigint ids as text.
 */
import type { EventAction, EventChange, Lease, Protocol, RegistryEvent, Scope } from '../types.js';

/** A row of `leases`. */
export interface LeaseRow {
  host: string;
  scope: string;
  name: string;
  port: number;
  protocol: Protocol;
  purpose: string | null;
  pool: string | null;
  slot: number | null;
  /** NULL in rows written before the column existed. */
  strategy: string | null;
  /** 0 or 1 from SQLite, a boolean from PostgreSQL. */
  ephemeral: number | boolean;
  pid: number | null;
  created_at: string;
  updated_at: string;
}

/** A row of `scopes`. */
export interface ScopeRow {
  host: string;
  name: string;
  directory: string | null;
  created_at: string;
}

/** A row of `events`. */
export interface EventRow {
  /** A number from SQLite, text from pg (a bigint). */
  id: number | string;
  time: string;
  host: string;
  action: EventAction;
  change: EventChange;
  scope: string;
  name: string;
  port: number;
  protocol: Protocol;
  pool: string | null;
  slot: number | null;
  old_port: number | null;
  owner_pid: number | null;
  actor_pid: number;
  actor_user: string | null;
  actor_command: string | null;
}

/** The lease a row holds. */
export function toLease(row: LeaseRow): Lease {
  return {
    host: row.host,
    scope: row.scope,
    name: row.name,
    port: row.port,
    protocol: row.protocol,
    purpose: row.purpose,
    pool: row.pool,
    slot: row.slot,
    strategy: row.strategy,
    ephemeral: isEphemeral(row),
    pid: row.pid,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** The scope a row holds. */
export function toScope(row: ScopeRow): Scope {
  return { host: row.host, name: row.name, directory: row.directory, createdAt: row.created_at };
}

/** The event a row records. */
export function toEvent(row: EventRow): RegistryEvent {
  return {
    id: Number(row.id),
    time: row.time,
    host: row.host,
    action: row.action,
    change: row.change,
    scope: row.scope,
    name: row.name,
    port: row.port,
    protocol: row.protocol,
    pool: row.pool,
    slot: row.slot,
    oldPort: row.old_port,
    ownerPid: row.owner_pid,
    actor: { pid: row.actor_pid, user: row.actor_user, command: row.actor_command },
  };
}

/** Whether a lease row is ephemeral, whichever way its backend spells it. */
export function isEphemeral(row: Pick<LeaseRow, 'ephemeral'>): boolean {
  return row.ephemeral === true || row.ephemeral === 1;
}

/**
 * Rows as the pg driver returns them (bigint as text, booleans as booleans), and the
 * plain data they stand for.
 */
import type { EventAction, EventChange, Lease, Protocol, RegistryEvent, Scope } from '../../types.js';

/** A row of `leases`. */
export interface PgLeaseRow {
  host: string;
  scope: string;
  name: string;
  port: number;
  protocol: Protocol;
  purpose: string | null;
  pool: string | null;
  slot: number | null;
  ephemeral: boolean;
  pid: number | null;
  created_at: string;
  updated_at: string;
}

/** A row of `scopes`. */
export interface PgScopeRow {
  host: string;
  name: string;
  directory: string | null;
  created_at: string;
}

/** A row of `events`; the driver returns bigint ids as text. */
export interface PgEventRow {
  id: string;
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
export function toLease(row: PgLeaseRow): Lease {
  return {
    host: row.host,
    scope: row.scope,
    name: row.name,
    port: row.port,
    protocol: row.protocol,
    purpose: row.purpose,
    pool: row.pool,
    slot: row.slot,
    ephemeral: row.ephemeral,
    pid: row.pid,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** The scope a row holds. */
export function toScope(row: PgScopeRow): Scope {
  return { host: row.host, name: row.name, directory: row.directory, createdAt: row.created_at };
}

/** The event a row records. */
export function toEvent(row: PgEventRow): RegistryEvent {
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

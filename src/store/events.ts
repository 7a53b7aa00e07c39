/**
 * What every backend records the same way: who made a change (the actor), which action a
 * change stands for when the write gave no intent, the values of an event row, and how an
 * event query's `since` is compared. Backends only store and query the events.
 */
import os from 'node:os';
import type { Actor, EventAction, EventChange, Protocol } from '../types.js';
import { isEphemeral, type LeaseRow } from './rows.js';
import type { EventQuery, WriteIntent } from './store.js';

/** Command lines longer than this are cut: an event records who, not a whole script. */
export const ACTOR_COMMAND_MAX_CHARS = 500;

/** The action a change stands for when the write said nothing. */
export const ACTION_BY_CHANGE: Readonly<Record<EventChange, EventAction>> = {
  created: 'allocate',
  deleted: 'release',
  moved: 'reassign',
  updated: 'update',
};

let processActor: Actor | undefined;

/**
 * This process as an actor: its pid, its user and its command line. Computed once, on
 * first use: a process does not change user or arguments, and reading the user costs a
 * passwd lookup.
 */
export function defaultActor(): Actor {
  processActor ??= { pid: process.pid, user: currentUser(), command: currentCommand() };
  return processActor;
}

function currentUser(): string | null {
  try {
    return os.userInfo().username;
  } catch {
    // A uid with no passwd entry (containers, `docker run -u 1234`): the pid still says who.
    return null;
  }
}

/** user:password@ in a URL (`--db postgres://me:secret@db/x`): the password is not history's to keep. */
const URL_PASSWORD = /(\b[a-z][a-z0-9+.-]*:\/\/[^:/@\s]*):[^@\s]*@/gi;

function currentCommand(): string | null {
  const command = process.argv.join(' ').replace(URL_PASSWORD, '$1:***@');
  if (command === '') return null;
  return command.length > ACTOR_COMMAND_MAX_CHARS ? `${command.slice(0, ACTOR_COMMAND_MAX_CHARS - 1)}…` : command;
}

/** The action recorded for one change: the write's intent, else the change's own. */
export function actionFor(intent: WriteIntent | undefined, change: EventChange): EventAction {
  return intent?.action ?? ACTION_BY_CHANGE[change];
}

/** The actor recorded: the write's intent, else this process. */
export function actorFor(intent: WriteIntent | undefined): Actor {
  return intent?.actor ?? defaultActor();
}

/** The owner pid an event records: the pid of an ephemeral lease, null for a sticky one. */
export function ownerPidOf(lease: { readonly ephemeral: boolean; readonly pid: number | null }): number | null {
  return lease.ephemeral ? lease.pid : null;
}

/** The values of one events row, in column order after the id (see eventValues). */
export type EventValues = [string, string, string, string, string, string, number, Protocol, string | null, number | null, number | null, number | null, number, string | null, string | null];

/**
 * The values of one `events` row for a change of lease `row` (after the change; before it,
 * for a deletion), in the column order both SQL backends insert: time, host, action,
 * change, scope, name, port, protocol, pool, slot, old_port, owner_pid, actor_pid,
 * actor_user, actor_command.
 */
export function eventValues(intent: WriteIntent | undefined, change: EventChange, row: LeaseRow, oldPort: number | null, time: string): EventValues {
  const actor = actorFor(intent);
  return [time, row.host, actionFor(intent, change), change, row.scope, row.name, row.port, row.protocol, row.pool, row.slot, oldPort, ownerPidOf({ ephemeral: isEphemeral(row), pid: row.pid }), actor.pid, actor.user, actor.command];
}

/**
 * `since` as stored times are written (toISOString, UTC, milliseconds), so comparing the
 * strings compares the instants; `2024-05-01` or `...+02:00` work too. A string Date cannot
 * read is compared as given.
 */
export function normaliseSince(since: string): string {
  const ms = Date.parse(since);
  return Number.isNaN(ms) ? since : new Date(ms).toISOString();
}

/** How many events a query's `limit` allows: undefined for all, else a count from 0. */
export function limitOf(limit: number | undefined): number | undefined {
  if (limit === undefined || !Number.isFinite(limit)) return undefined;
  return Math.max(0, Math.trunc(limit));
}

/**
 * The conditions of an event query, each with `?` for its values (in `args`, in order), and
 * each one an index serves: ids by the primary key, a port by its two indexes, a lease by
 * the lease index, `since` by the time index. Ids grow with time, so the first id at or
 * after `since` bounds the scan by id (`firstIdSince`, the backend's subquery for it, may
 * hint its index); the time condition stays too: a clock set back must not let an older
 * event in.
 */
export function eventConditions(query: EventQuery, firstIdSince: string): { where: string[]; args: unknown[] } {
  const where: string[] = [];
  const args: unknown[] = [];
  const add = (condition: string, ...values: unknown[]) => (where.push(condition), args.push(...values));
  if (query.host !== undefined) add('host = ?', query.host);
  if (query.afterId !== undefined) add('id > ?', query.afterId);
  if (query.scope !== undefined) add('scope = ?', query.scope);
  if (query.name !== undefined) add('name = ?', query.name);
  if (query.port !== undefined) add('(port = ? OR old_port = ?)', query.port, query.port);
  if (query.since !== undefined) {
    const since = normaliseSince(query.since);
    add(`id >= (${firstIdSince}) AND time >= ?`, since, since);
  }
  return { where, args };
}

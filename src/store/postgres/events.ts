/**
 * History in PostgreSQL. A write's events are collected as it goes and inserted together
 * just before COMMIT, numbered from the one row of `event_ids`: updating that row locks
 * it until the commit, so ids are handed out, and become visible, in commit order. A feed
 * that has read up to id N can therefore never later find an id below N committed (with a
 * sequence, a slower transaction of another machine could commit a lower id afterwards).
 * Writers of different machines wait for each other only for that last step.
 */
import type { EventChange, RegistryEvent } from '../../types.js';
import { eventConditions, eventValues, limitOf } from '../events.js';
import { PRUNE_BATCH_MAX_EVENTS, prunePlan } from '../retention.js';
import type { EventQuery, HistoryRetention, WriteIntent } from '../store.js';
import { toEvent, type EventRow, type LeaseRow } from '../rows.js';
import type { PgSession, Statement } from './session.js';

/** One event waiting for the commit, in the column order of EVENT_COLUMNS. */
type PendingEvent = readonly unknown[];

const EVENT_COLUMNS = 'time, host, action, change, scope, name, port, protocol, pool, slot, old_port, owner_pid, actor_pid, actor_user, actor_command';
const EVENT_TYPES =
  'time text, host text, action text, change text, scope text, name text, port integer, protocol text, pool text, slot integer, ' +
  'old_port integer, owner_pid integer, actor_pid integer, actor_user text, actor_command text';

/** The events of one write transaction, recorded at its end. */
export class EventBuffer {
  private pending: PendingEvent[] = [];

  constructor(private readonly intent: WriteIntent | undefined) {}

  /** Notes one change of one lease row; `row` is the lease after the change (before it, for a deletion). */
  add(change: EventChange, row: LeaseRow, oldPort: number | null, time: string): void {
    this.pending.push(eventValues(this.intent, change, row, oldPort, time));
  }

  /** Inserts the events noted so far, with the next ids, in one statement. */
  async flush(session: PgSession, s: string): Promise<void> {
    const insert = this.take(s);
    if (insert !== null) await session.query(insert.text, insert.values);
  }

  /**
   * Sends `first` (the machine's version raised, if given), inserts the events noted so far, tells
   * the registry's listeners (PostgresStore.watch), and commits, in one round trip (if the insert fails, the server's COMMIT rolls back):
   * the row of event_ids stays locked for as short a time as can be.
   */
  async flushAndCommit(session: PgSession, s: string, channel: string, first: Statement | null): Promise<void> {
    const insert = this.take(s);
    // NOTIFY is delivered at COMMIT, and only then: listeners read events that are there.
    const events = insert === null ? [] : [insert, { text: 'SELECT pg_notify($1, $2)', values: [channel, ''] }];
    await session.commit(first === null ? events : [first, ...events]);
  }

  /** The statement inserting the pending events, or null when there are none; forgets them. */
  private take(s: string): Statement | null {
    const taken = this.takeJson();
    if (taken === null) return null;
    return {
      text: `WITH ids AS (UPDATE ${s}.event_ids SET last = last + $1 RETURNING last)
      INSERT INTO ${s}.events (id, ${EVENT_COLUMNS})
      SELECT ids.last - $1 + e.ord, e.${EVENT_COLUMNS.split(', ').join(', e.')}
      FROM ids, ROWS FROM (json_to_recordset($2::json) AS (${EVENT_TYPES})) WITH ORDINALITY AS e(${EVENT_COLUMNS}, ord)`,
      values: [taken.count, taken.json],
    };
  }

  /**
   * The pending events as a JSON array of objects keyed by column (as the insert and the
   * claim function read them), and how many; forgets them. Null when there are none.
   */
  takeJson(): { readonly json: string; readonly count: number } | null {
    if (this.pending.length === 0) return null;
    const events = this.pending;
    this.pending = [];
    const json = JSON.stringify(events.map((values) => Object.fromEntries(EVENT_COLUMNS.split(', ').map((column, i) => [column, values[i]]))));
    return { json, count: events.length };
  }
}

/** The events a query asks for (eventConditions says which index serves each filter). */
export async function listPgEvents(session: PgSession, s: string, query: EventQuery): Promise<RegistryEvent[]> {
  const { where: conditions, args } = eventConditions(query, `SELECT min(id) FROM ${s}.events WHERE time >= ?`);
  // `?` stands for the next value, numbered $1, $2, ... as pg wants.
  let n = 0;
  const where = conditions.map((c) => c.replace(/\?/g, () => `$${++n}`));
  const limit = limitOf(query.limit);
  // The limit as a value too: one prepared statement whatever it is.
  const sql = `SELECT * FROM ${s}.events ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
               ORDER BY id ${query.newestFirst ? 'DESC' : 'ASC'}${limit !== undefined ? ` LIMIT $${n + 1}` : ''}`;
  return (await session.query<EventRow>(sql, limit !== undefined ? [...args, limit] : args)).map(toEvent);
}

/** The highest event id ever given, pruned or not. */
export async function lastPgEventId(session: PgSession, s: string): Promise<number> {
  const rows = await session.query<{ last: string }>(`SELECT last FROM ${s}.event_ids`);
  return Number(rows[0]?.last ?? 0);
}

/**
 * Deletes what the retention no longer keeps, at most PRUNE_BATCH_MAX_EVENTS events, the
 * oldest first; returns whether more is due. Ids run without gaps (event_ids is updated
 * in the transaction that inserts them, so a rollback takes both back), so the count is
 * last - first + 1.
 */
export async function prunePgEvents(session: PgSession, s: string, retention: HistoryRetention, nowMs: number): Promise<boolean> {
  const bounds = async () =>
    (await session.query<{ first: string | null; last: string | null; oldest: string | null }>(
      `SELECT (SELECT min(id) FROM ${s}.events) AS first, (SELECT max(id) FROM ${s}.events) AS last, (SELECT min(time) FROM ${s}.events) AS oldest`,
    ))[0]!;
  const { first, last, oldest } = await bounds();
  if (first === null || last === null || oldest === null) return false;
  const plan = prunePlan(retention, nowMs);
  const batchEnd = Number(first) + PRUNE_BATCH_MAX_EVENTS - 1;
  let more = false;
  if (Number(last) - Number(first) + 1 > plan.countTrigger) {
    const upTo = Number(last) - plan.maxEvents;
    await session.query(`DELETE FROM ${s}.events WHERE id <= $1`, [Math.min(upTo, batchEnd)]);
    more = upTo > batchEnd;
  }
  if (oldest < plan.ageTrigger) {
    await session.query(`DELETE FROM ${s}.events WHERE time < $1 AND id <= $2`, [plan.ageCutoff, batchEnd]);
    const left = (await bounds()).oldest;
    more ||= left !== null && left < plan.ageCutoff;
  }
  return more;
}

/**
 * History in SQLite: one row of `events` per changed lease, queries over them, and pruning.
 */
import type { EventChange, RegistryEvent } from '../../types.js';
import { eventConditions, eventValues, limitOf } from '../events.js';
import { PRUNE_BATCH_MAX_EVENTS, prunePlan } from '../retention.js';
import type { EventQuery, HistoryRetention, WriteIntent } from '../store.js';
import { toEvent, type EventRow, type LeaseRow } from '../rows.js';
import type { AdhocStatements, FixedStatements } from './statements.js';

/** Records one change of one lease row; `row` is the lease after the change (before it, for a deletion). */
export function recordEvent(st: FixedStatements, intent: WriteIntent | undefined, change: EventChange, row: LeaseRow, oldPort: number | null, time: string): void {
  st.insertEvent.run(...eventValues(intent, change, row, oldPort, time));
}

/** The events a query asks for (eventConditions says which index serves each filter). */
export function listEvents(adhoc: AdhocStatements, query: EventQuery): RegistryEvent[] {
  // INDEXED BY: left to itself, the planner finds that min(id) by walking ids from the oldest.
  const { where, args } = eventConditions(query, 'SELECT min(id) FROM events INDEXED BY events_by_time WHERE time >= ?');
  const limit = limitOf(query.limit);
  if (limit !== undefined) args.push(limit);
  const sql = `SELECT * FROM events ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
               ORDER BY id ${query.newestFirst ? 'DESC' : 'ASC'}${limit !== undefined ? ' LIMIT ?' : ''}`;
  return adhoc.get<EventRow>(sql).all(...args).map(toEvent);
}

/**
 * Deletes what the retention no longer keeps, at most PRUNE_BATCH_MAX_EVENTS events, the
 * oldest first. Returns whether more is due. Ids run without gaps from the oldest kept
 * event (they only grow, and only the oldest are deleted), so the count is last - first + 1.
 */
export function pruneEvents(st: FixedStatements, retention: HistoryRetention, nowMs: number): boolean {
  const { first, last, oldest } = st.eventBounds.get()!;
  if (first === null || last === null || oldest === null) return false;
  const plan = prunePlan(retention, nowMs);
  const batchEnd = first + PRUNE_BATCH_MAX_EVENTS - 1;
  let more = false;
  if (last - first + 1 > plan.countTrigger) {
    const upTo = last - plan.maxEvents;
    st.pruneUpTo.run(Math.min(upTo, batchEnd));
    more = upTo > batchEnd;
  }
  if (oldest < plan.ageTrigger) {
    st.pruneOlder.run(plan.ageCutoff, batchEnd);
    const left = st.eventBounds.get()!.oldest;
    more ||= left !== null && left < plan.ageCutoff;
  }
  return more;
}

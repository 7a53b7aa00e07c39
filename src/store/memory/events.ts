/**
 * History in memory: queries over the event list, and pruning by the same rules as SQLite.
 */
import type { RegistryEvent } from '../../types.js';
import { limitOf, normaliseSince } from '../events.js';
import { PRUNE_BATCH_MAX_EVENTS, prunePlan } from '../retention.js';
import type { EventQuery, HistoryRetention } from '../store.js';
import type { MemoryState } from './state.js';

/** The events a query asks for, in its order; `events` is oldest first. */
export function listEvents(events: readonly RegistryEvent[], query: EventQuery): RegistryEvent[] {
  const since = query.since === undefined ? undefined : normaliseSince(query.since);
  const limit = limitOf(query.limit) ?? Infinity;
  const matches = (e: RegistryEvent) =>
    (query.host === undefined || e.host === query.host) &&
    (query.afterId === undefined || e.id > query.afterId) &&
    (query.scope === undefined || e.scope === query.scope) &&
    (query.name === undefined || e.name === query.name) &&
    (query.port === undefined || e.port === query.port || e.oldPort === query.port) &&
    (since === undefined || e.time >= since);
  const out: RegistryEvent[] = [];
  const step = query.newestFirst ? -1 : 1;
  for (let i = query.newestFirst ? events.length - 1 : 0; i >= 0 && i < events.length && out.length < limit; i += step) {
    const event = events[i]!;
    if (matches(event)) out.push({ ...event, actor: { ...event.actor } });
  }
  return out;
}

/**
 * Drops what the retention no longer keeps, oldest first, at most PRUNE_BATCH_MAX_EVENTS;
 * returns whether more is due. Events are in time order here (one clock, one writer at a
 * time), so those past the age cut-off are a prefix.
 */
export function pruneEvents(state: MemoryState, retention: HistoryRetention, nowMs: number): boolean {
  const { events } = state;
  if (events.length === 0) return false;
  const plan = prunePlan(retention, nowMs);
  let due = events.length > plan.countTrigger ? events.length - plan.maxEvents : 0;
  if (events[0]!.time < plan.ageTrigger) {
    let old = 0;
    while (old < events.length && events[old]!.time < plan.ageCutoff) old++;
    due = Math.max(due, old);
  }
  state.dropOldestEvents(Math.min(due, PRUNE_BATCH_MAX_EVENTS));
  return due > PRUNE_BATCH_MAX_EVENTS;
}

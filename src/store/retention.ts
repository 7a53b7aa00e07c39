/**
 * When and how far history is pruned, the same for every backend. Pruning runs inside a
 * write transaction, on the first write after a store is opened and then once every
 * PRUNE_EVERY_TX writes. It deletes only when the excess is worth a write (a hundredth of
 * the limit, at most a batch), and at most a batch at a time: deleting an event costs
 * about what recording it did (~30 µs with its four index entries), so a batch of 100
 * adds a few milliseconds to one write in a hundred or so, and history is never cut
 * below what the retention keeps.
 */
import { UsageError } from '../errors.js';
import type { HistoryRetention } from './store.js';

/** Write transactions between two prunes of one connection. */
export const PRUNE_EVERY_TX = 100;

/** At most this many events are deleted by one prune; the next write goes on if more are due. */
export const PRUNE_BATCH_MAX_EVENTS = 100;

/** The share of a limit that may be exceeded before a prune deletes anything (at most a batch of events). */
const PRUNE_SLACK_FRACTION = 0.01;

const DAY_MS = 86_400_000;

/** Refuses a retention that would keep nothing sensible. */
export function checkRetention(retention: HistoryRetention): HistoryRetention {
  const { maxEvents, maxAgeDays } = retention;
  if (!(Number.isInteger(maxEvents) || maxEvents === Infinity) || maxEvents < 0) {
    throw new UsageError(`history retention: maxEvents must be a whole number from 0 (Infinity: no limit), not ${maxEvents}. Check BERTH_HISTORY_EVENTS.`);
  }
  if (typeof maxAgeDays !== 'number' || !(maxAgeDays > 0)) {
    throw new UsageError(`history retention: maxAgeDays must be a number above 0 (Infinity: forever), not ${maxAgeDays}. Check BERTH_HISTORY_DAYS.`);
  }
  return retention;
}

/** What one prune deletes, given the retention and the clock. */
export interface PrunePlan {
  /** Events older than this ISO time go, once the oldest is older than `ageTrigger`. */
  readonly ageCutoff: string;
  readonly ageTrigger: string;
  /** Down to `maxEvents`, once there are more than `countTrigger`. */
  readonly maxEvents: number;
  readonly countTrigger: number;
}

/** The cut-offs of a prune at `nowMs`. */
export function prunePlan(retention: HistoryRetention, nowMs: number): PrunePlan {
  const ageMs = retention.maxAgeDays * DAY_MS;
  // No event is older than 1970: a longer retention (even Infinity) cuts nothing, and
  // stays a time that toISOString can write.
  const time = (ms: number) => new Date(Math.max(0, ms)).toISOString();
  return {
    ageCutoff: time(nowMs - ageMs),
    ageTrigger: time(nowMs - ageMs * (1 + PRUNE_SLACK_FRACTION)),
    maxEvents: retention.maxEvents,
    countTrigger: retention.maxEvents + Math.min(PRUNE_BATCH_MAX_EVENTS, Math.floor(retention.maxEvents * PRUNE_SLACK_FRACTION)),
  };
}

/**
 * Counts the write transactions of one connection and says which of them prune: the
 * first, every PRUNE_EVERY_TX-th, and the next one after a prune that hit its batch limit.
 */
export class PruneSchedule {
  private writes = 0;
  private behind = false;

  /** Whether the write transaction now ending should prune. */
  due(): boolean {
    const due = this.behind || this.writes % PRUNE_EVERY_TX === 0;
    this.writes++;
    return due;
  }

  /** Records whether the prune left work for the next write. */
  done(more: boolean): void {
    this.behind = more;
  }
}

/**
 * The retention `env` asks for: BERTH_HISTORY_DAYS (days, a number above 0) and
 * BERTH_HISTORY_EVENTS (a whole number), each defaulting to DEFAULT_RETENTION's.
 *
 * @throws UsageError naming the variable when a value is not a number.
 */
export function retentionFromEnv(env: Readonly<Record<string, string | undefined>>, defaults: HistoryRetention): HistoryRetention {
  const read = (name: string, fallback: number): number => {
    const text = env[name];
    if (text === undefined || text.trim() === '') return fallback;
    const value = Number(text.trim());
    if (!Number.isFinite(value)) throw new UsageError(`${name}=${JSON.stringify(text)} is not a number: give days (BERTH_HISTORY_DAYS=90) or a count (BERTH_HISTORY_EVENTS=200000).`);
    return value;
  };
  return checkRetention({ maxAgeDays: read('BERTH_HISTORY_DAYS', defaults.maxAgeDays), maxEvents: read('BERTH_HISTORY_EVENTS', defaults.maxEvents) });
}

/**
 * Waiting for another process's write lock. SQLite's own busy handler sleeps inside the
 * call, blocking the event loop, in steps that grow to 100 ms and favour whoever came
 * last; berth opens connections with no busy timeout and waits here instead,
 * asynchronously, retrying after pauses chosen so that:
 *
 * - a lock held briefly is taken within a millisecond or two: the first pauses are short
 *   (0.5, 1, 2, 4 ms, ...);
 * - many waiters do not crowd the CPU the lock holder needs: a waiter's pauses grow to
 *   PAUSE_YOUNG_MAX_MS, so 60 waiters wake a few thousand times a second, not tens of
 *   thousands (on two cores, a holder preempted by waking pollers holds the lock for 10x
 *   longer);
 * - the oldest waiters go first, near enough: the longest pause shrinks with the time
 *   waited, to PAUSE_OLD_MAX_MS after FAIR_RAMP_MS, so a writer that has waited long
 *   tries ten times as often as one that just arrived, and a tail cannot starve.
 *
 * Pauses are jittered by ±50 % so that waiters do not retry in lockstep. A failed try
 * costs ~5 µs: the SQLITE_BUSY error is made without a stack trace.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { StoreError } from '../../errors.js';
import { hasCode } from './files.js';

/** How long a writer waits for other processes before giving up: concurrent writers wait, they do not give up. */
export const BUSY_TIMEOUT_MS = 60_000;

/** The first pause after SQLITE_BUSY; each further pause doubles, up to the cap for the time waited. */
const PAUSE_START_MS = 0.5;
/** The longest pause of a writer that has just started waiting. */
const PAUSE_YOUNG_MAX_MS = 40;
/** The longest pause of a writer that has waited FAIR_RAMP_MS or more. */
const PAUSE_OLD_MAX_MS = 4;
/** Over this long, a writer's longest pause shrinks from PAUSE_YOUNG_MAX_MS to PAUSE_OLD_MAX_MS. */
const FAIR_RAMP_MS = 2_000;

/**
 * The pause before retry number `attempt` (from 0) of a writer that has waited `waitedMs`:
 * PAUSE_START_MS doubling, capped by a limit that falls linearly with the time waited,
 * jittered by ±50 %.
 */
export function busyPauseMs(attempt: number, waitedMs: number): number {
  const aged = Math.min(1, Math.max(0, waitedMs) / FAIR_RAMP_MS);
  const cap = PAUSE_YOUNG_MAX_MS - (PAUSE_YOUNG_MAX_MS - PAUSE_OLD_MAX_MS) * aged;
  const base = Math.min(cap, PAUSE_START_MS * 2 ** Math.min(attempt, 16));
  return base * (0.5 + Math.random());
}

/** Whether SQLite said another connection holds a lock this one needs. */
export function isBusy(err: unknown): boolean {
  return hasCode(err, 'SQLITE_BUSY');
}

/** The error a writer gets after waiting BUSY_TIMEOUT_MS. */
export function lockedError(location: string): StoreError {
  return new StoreError(
    `the store ${location} stayed locked by another process for ${BUSY_TIMEOUT_MS / 1000} s. ` +
      'Try again; if it persists, look for a stuck berth process.',
  );
}

/**
 * One try of `step` with stack traces off: SQLITE_BUSY is expected, and capturing a stack
 * for each of them is most of a failed try's cost. Other errors thrown here are turned
 * into StoreErrors with messages of their own (see errors.ts), so the stack is not missed.
 */
function tryStep<T>(step: () => T): T {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return step();
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/**
 * Runs `step` until it does not throw SQLITE_BUSY, pausing synchronously between tries.
 * Only for opening a store, which is synchronous and happens once per connection; the
 * pauses are the asynchronous ones, so an opening process gets its turn.
 */
export function retryBusySync<T>(step: () => T): T {
  const began = Date.now();
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  for (let attempt = 0; ; attempt++) {
    try {
      return tryStep(step);
    } catch (err) {
      const waited = Date.now() - began;
      if (!isBusy(err) || waited >= BUSY_TIMEOUT_MS) throw err;
      Atomics.wait(sleeper, 0, 0, busyPauseMs(attempt, waited));
    }
  }
}

/**
 * Runs `step` until it does not throw SQLITE_BUSY, awaiting a pause between tries, so the
 * event loop (and the transaction another store of this process has open) goes on.
 * After BUSY_TIMEOUT_MS, throws the locked error.
 */
export async function retryBusy<T>(step: () => T, location: string): Promise<T> {
  const began = Date.now();
  for (let attempt = 0; ; attempt++) {
    try {
      return tryStep(step);
    } catch (err) {
      if (!isBusy(err)) throw err;
      const waited = Date.now() - began;
      if (waited >= BUSY_TIMEOUT_MS) throw lockedError(location);
      await sleep(busyPauseMs(attempt, waited));
    }
  }
}

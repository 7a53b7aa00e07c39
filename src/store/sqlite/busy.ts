/**
 * Waiting for another process's write lock. SQLite's own busy handler sleeps inside the
 * call, blocking the event loop, in steps that grow to 100 ms; berth opens connections
 * with no busy timeout and waits here instead: asynchronously, in short jittered pauses
 * that stay short, so many contending processes take turns fairly and a lock freed is
 * taken within a few milliseconds.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { StoreError } from '../../errors.js';
import { hasCode } from './files.js';

/** How long a writer waits for other processes before giving up: concurrent writers wait, they do not give up. */
export const BUSY_TIMEOUT_MS = 60_000;

/** The first pause after SQLITE_BUSY. */
const PAUSE_START_MS = 0.75;
/** Each further pause is this much longer, up to PAUSE_MAX_MS. */
const PAUSE_GROWTH = 1.25;
/** The longest pause: a freed lock is never left idle for long. */
const PAUSE_MAX_MS = 5;

/**
 * The pause before retry number `attempt` (from 0): growing slowly from PAUSE_START_MS to
 * PAUSE_MAX_MS, jittered by ±50 % so that waiting processes do not retry in lockstep.
 */
export function busyPauseMs(attempt: number): number {
  const base = Math.min(PAUSE_MAX_MS, PAUSE_START_MS * PAUSE_GROWTH ** attempt);
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
 * Runs `step` until it does not throw SQLITE_BUSY, pausing synchronously between tries.
 * Only for opening a store, which is synchronous and happens once per connection; the
 * pauses are as short as the asynchronous ones, so an opening process gets its turn.
 */
export function retryBusySync<T>(step: () => T): T {
  const deadline = Date.now() + BUSY_TIMEOUT_MS;
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  for (let attempt = 0; ; attempt++) {
    try {
      return step();
    } catch (err) {
      if (!isBusy(err) || Date.now() >= deadline) throw err;
      Atomics.wait(sleeper, 0, 0, busyPauseMs(attempt));
    }
  }
}

/**
 * Runs `step` until it does not throw SQLITE_BUSY, awaiting a short pause between tries,
 * so the event loop (and the transaction another store of this process has open) goes on.
 * After BUSY_TIMEOUT_MS, throws the locked error.
 */
export async function retryBusy<T>(step: () => T, location: string): Promise<T> {
  const deadline = Date.now() + BUSY_TIMEOUT_MS;
  for (let attempt = 0; ; attempt++) {
    try {
      return step();
    } catch (err) {
      if (!isBusy(err)) throw err;
      if (Date.now() >= deadline) throw lockedError(location);
      await sleep(busyPauseMs(attempt));
    }
  }
}

/**
 * How a SQLite writer paces its retries while another process holds the write lock
 * (src/store/sqlite/busy.ts): short at first, long for a newcomer under contention, and
 * shorter again the longer it has waited, so the oldest waiters go first.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { busyPauseMs } from '../../src/store/sqlite/busy.js';

/** The range of pauses over many draws (they are jittered by ±50 %). */
function spread(attempt: number, waitedMs: number): { min: number; max: number } {
  const draws = Array.from({ length: 500 }, () => busyPauseMs(attempt, waitedMs));
  return { min: Math.min(...draws), max: Math.max(...draws) };
}

describe('sqlite store: pauses between tries for the write lock', () => {
  it('start under a millisecond and double', () => {
    assert.ok(spread(0, 0).max <= 0.75);
    assert.ok(spread(3, 5).min >= 2 && spread(3, 5).max <= 6);
  });

  it('a newcomer backs off to tens of milliseconds; an old waiter tries every few', () => {
    const young = spread(20, 50);
    assert.ok(young.min >= 19 && young.max <= 60, `young ${JSON.stringify(young)}`);
    const old = spread(200, 2_500);
    assert.ok(old.min >= 2 && old.max <= 6, `old ${JSON.stringify(old)}`);
    assert.ok(spread(100, 1_000).max < young.max, 'the cap falls with the time waited');
  });

  it('stay finite and positive whatever the attempt count', () => {
    for (const attempt of [0, 1, 60, 10_000]) {
      const { min, max } = spread(attempt, 30_000);
      assert.ok(min > 0 && Number.isFinite(max));
    }
  });
});

/** What follows an end of a service, pure: backoff, completion, failure after max_restarts. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { afterEnd, restartDelayMs } from '../../src/launch/backoff.js';
import type { RestartSpec } from '../../src/types.js';

const SPEC: RestartSpec = { policy: 'on-failure', maxRestarts: 3, backoff: { baseMs: 100, factor: 2, capMs: 500 }, resetAfterMs: 10_000 };

test('the delay grows by the factor up to the cap', () => {
  assert.deepEqual([1, 2, 3, 4, 5].map((n) => restartDelayMs(SPEC, n)), [100, 200, 400, 500, 500]);
});

test('a crash restarts until max_restarts in a row, then fails; exit 0 completes a job unless policy always', () => {
  const crash = { code: 1, signal: null };
  assert.deepEqual(afterEnd(SPEC, crash, 0), { kind: 'restart', delayMs: 100 });
  assert.deepEqual(afterEnd(SPEC, crash, 2), { kind: 'restart', delayMs: 400 });
  const failed = afterEnd(SPEC, { code: null, signal: 'SIGKILL' }, 3);
  assert.equal(failed.kind, 'failed');
  assert.match((failed as { reason: string }).reason, /crashed 4 times in a row \(last: signal SIGKILL\); max_restarts is 3/);
  assert.deepEqual(afterEnd(SPEC, { code: 0, signal: null }, 0), { kind: 'completed' });
  assert.deepEqual(afterEnd({ ...SPEC, policy: 'always' }, { code: 0, signal: null }, 0), { kind: 'restart', delayMs: 100 });
  assert.equal(afterEnd({ ...SPEC, policy: 'no' }, crash, 0).kind, 'failed');
  assert.equal(afterEnd({ ...SPEC, maxRestarts: null }, crash, 1000).kind, 'restart');
});

/**
 * The feed's reading loop (src/wiring/event-poll.ts): pages in order, and a consumer that
 * is not ready holds the next read back.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { EVENT_PAGE, pollEvents } from '../../src/wiring/event-poll.js';
import type { RegistryEvent } from '../../src/types.js';

const event = (id: number): RegistryEvent =>
  ({ id, time: '', host: 'h', action: 'allocate', change: 'created', scope: 's', name: `n${id}`, port: 1, protocol: 'tcp', pool: null, slot: null, oldPort: null, ownerPid: null, actor: { pid: 1, user: null, command: null } }) as RegistryEvent;

it('a consumer that is not ready holds the next page back, and gets every event, in order, once it is', async () => {
  const total = EVENT_PAGE * 3;
  const reads: number[] = [];
  const got: number[] = [];
  let release: () => void = () => undefined;
  let gate: Promise<void> | null = null;
  const stop = pollEvents(
    async (afterId, limit) => {
      reads.push(afterId);
      return Array.from({ length: Math.max(0, Math.min(limit, total - afterId)) }, (_, k) => event(afterId + k + 1));
    },
    0,
    (e) => got.push(e.id),
    {
      intervalMs: 10,
      // Not ready after the first page, until released.
      ready: () => (got.length === EVENT_PAGE ? (gate ??= new Promise<void>((r) => (release = r))) : undefined),
    },
  );
  try {
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(reads, [0], 'one page read, the next held back');
    assert.equal(got.length, EVENT_PAGE);
    release();
    for (let waited = 0; got.length < total && waited < 5000; waited += 10) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(got, Array.from({ length: total }, (_, k) => k + 1));
  } finally {
    stop();
  }
});

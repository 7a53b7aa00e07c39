/**
 * The event stream against a real daemon: a snapshot first, then a change made by a
 * separate `berth allocate` process (writing the store directly, not through the daemon)
 * arrives within a second of that process exiting (the bound); Last-Event-ID
 * resumes with the changes after it and no snapshot.
 */
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { after, before, describe, it } from 'node:test';
import { berthAsync, tempDir } from '../helpers/cli.js';
import { daemonEnv, openStream, request, startDaemon, type Daemon } from './harness.js';

/** The bound: a change by another process reaches the stream within a second. */
const CHANGE_BOUND_MS = 1000;

describe('GET /v1/events from a real daemon', () => {
  const { dir, cleanup } = tempDir('berth-events-');
  let d: Daemon;

  before(async () => {
    d = await startDaemon({ dir });
    assert.equal((await request(d, { method: 'PUT', path: '/v1/leases/ev/first', body: {} })).status, 200);
  });
  after(async () => {
    await d?.stop();
    cleanup();
  });

  it("snapshot first, then another process's allocation within a second of its exit", async () => {
    const stream = await openStream(d);
    try {
      assert.equal(stream.status, 200);
      assert.match(String(stream.headers['content-type']), /^text\/event-stream/);
      for (const h of Object.keys(stream.headers)) assert.ok(!h.startsWith('access-control-'), h);
      const snapshot = await stream.next(() => true, 10_000);
      assert.equal(snapshot.event, 'snapshot', 'the first event is the snapshot');
      assert.deepEqual(
        snapshot.data.leases.map((l: { scope: string; name: string }) => `${l.scope}/${l.name}`),
        ['ev/first'],
      );
      assert.equal(snapshot.data.lastEventId, snapshot.id);

      const run = await berthAsync(['allocate', 'probe', '--scope', 'other-process', '--json'], { cwd: dir, env: daemonEnv(d.state, d.db), timeoutMs: 30_000 });
      const exited = performance.now();
      assert.equal(run.code, 0, run.stderr);
      const port = JSON.parse(run.stdout)[0].port as number;
      const change = await stream.next((e) => e.event === 'change' && e.data.name === 'probe', 10_000);
      const lateMs = Math.max(0, change.at - exited);
      assert.ok(lateMs < CHANGE_BOUND_MS, `the change arrived ${lateMs.toFixed(0)} ms after the allocating process exited`);
      assert.equal(change.data.scope, 'other-process');
      assert.equal(change.data.port, port);
      assert.equal(change.data.action, 'allocate');
      assert.ok(change.id! > snapshot.id!, 'ids increase');
      assert.equal(change.data.id, change.id);
    } finally {
      stream.close();
    }
  });

  it('Last-Event-ID resumes: the changes after it, oldest first, and no snapshot', async () => {
    const last = (await request(d, { path: '/v1/events/last' })).json.id as number;
    for (const name of ['r1', 'r2']) assert.equal((await request(d, { method: 'PUT', path: `/v1/leases/ev/${name}`, body: {} })).status, 200);
    const stream = await openStream(d, { 'Last-Event-ID': String(last) });
    try {
      const second = await stream.next((e) => e.event === 'change' && e.data.name === 'r2', 10_000);
      const seen = stream.events.filter((e) => e.id! <= second.id!);
      assert.deepEqual(
        seen.map((e) => e.event),
        ['change', 'change'],
        'no snapshot on a resume',
      );
      assert.deepEqual(
        seen.map((e) => e.data.name),
        ['r1', 'r2'],
      );
      assert.equal(seen[0]!.id, last + 1);
    } finally {
      stream.close();
    }
  });

  it('a stream opened mid-way gets a snapshot with the leases so far and its id the last change', async () => {
    const last = (await request(d, { path: '/v1/events/last' })).json.id as number;
    const stream = await openStream(d);
    try {
      const snapshot = await stream.next(() => true, 10_000);
      assert.equal(snapshot.event, 'snapshot');
      assert.equal(snapshot.id, last);
      assert.deepEqual(
        snapshot.data.leases.map((l: { name: string }) => l.name).sort(),
        ['first', 'probe', 'r1', 'r2'],
      );
    } finally {
      stream.close();
    }
  });
});

/**
 * Store conformance, history: one event per changed lease, in the same transaction, with
 * its change, action and actor; queries over events; retention.
 */
import assert from 'node:assert/strict';
import os from 'node:os';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { PRUNE_EVERY_TX } from '../../src/store/retention.js';
import type { EventQuery } from '../../src/store/store.js';
import type { Actor, RegistryEvent } from '../../src/types.js';
import { lease, useStore, withStore, type StoreFactory } from './conformance-kit.js';

function processUser(): string | null {
  try {
    return os.userInfo().username;
  } catch {
    // No passwd entry for this uid: the store records null then too.
    return null;
  }
}

/** Asserts that `actor` is this process, as the store records it by default. */
function assertThisProcess(actor: Actor): void {
  assert.equal(actor.pid, process.pid);
  assert.equal(actor.user, processUser());
  assert.ok(actor.command && actor.command.length <= 500, 'a command line, cut to ~500 characters');
  assert.ok(actor.command.startsWith(process.argv.join(' ').slice(0, 100)), actor.command);
}

/** The fields of an event that say what happened, without id, time and actor. */
function what(e: RegistryEvent) {
  const { id: _id, time: _time, actor: _actor, ...rest } = e;
  return rest;
}

const ids = (events: readonly RegistryEvent[]) => events.map((e) => e.id);

/** Registers the history part of the suite. */
export function historyConformance(factory: StoreFactory): void {
  describe('history', () => {
    const subject = useStore(factory);
    const { write, read } = subject;

    it('records each insert, move, pid hand-over and delete, with the action it stands for and this process as actor', async () => {
      const before = new Date().toISOString();
      await write((tx) => tx.insertLease(lease({ ephemeral: true, pid: 42, pool: 'p', slot: 0 })));
      await write((tx) => tx.updateLease('h1', 'app1', 'web', { port: 4100 }));
      await write((tx) => tx.updateLease('h1', 'app1', 'web', { pid: 43 }));
      await write((tx) => tx.updateLease('h1', 'app1', 'web', { ephemeral: false, purpose: 'api' }));
      await write((tx) => tx.deleteLease('h1', 'app1', 'web'));
      const after = new Date().toISOString();
      const events = await read((tx) => tx.listEvents());
      const common = { host: 'h1', scope: 'app1', name: 'web', protocol: 'tcp', pool: 'p', slot: 0 } as const;
      assert.deepEqual(events.map(what), [
        { ...common, action: 'allocate', change: 'created', port: 4000, oldPort: null, ownerPid: 42 },
        { ...common, action: 'reassign', change: 'moved', port: 4100, oldPort: 4000, ownerPid: 42 },
        { ...common, action: 'update', change: 'updated', port: 4100, oldPort: null, ownerPid: 43 },
        { ...common, action: 'update', change: 'updated', port: 4100, oldPort: null, ownerPid: null },
        { ...common, action: 'release', change: 'deleted', port: 4100, oldPort: null, ownerPid: null },
      ]);
      for (const e of events) {
        assertThisProcess(e.actor);
        assert.match(e.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
        assert.ok(e.time >= before && e.time <= after, `${e.time} within the test`);
      }
      for (let i = 1; i < events.length; i++) assert.ok(events[i]!.id > events[i - 1]!.id, 'ids increase');
      assert.equal(await read((tx) => tx.lastEventId()), events.at(-1)!.id);
    });

    it('records a deletion for each lease deleteScope removes, and none for a lease that was not there', async () => {
      await write(async (tx) => {
        await tx.ensureScope('h1', 'app1', null);
        await tx.insertLease(lease());
        await tx.insertLease(lease({ name: 'api', port: 4001 }));
        await tx.insertLease(lease({ scope: 'other', port: 4002 }));
      });
      const last = await read((tx) => tx.lastEventId());
      assert.equal(await write((tx) => tx.deleteLease('h1', 'app1', 'nope')), null);
      assert.equal(await read((tx) => tx.lastEventId()), last);
      await write((tx) => tx.deleteScope('h1', 'app1'));
      const events = await read((tx) => tx.listEvents({ afterId: last }));
      assert.deepEqual(events.map((e) => `${e.change} ${e.action} ${e.scope}/${e.name}:${e.port}`).sort(), [
        'deleted release app1/api:4001',
        'deleted release app1/web:4000',
      ]);
    });

    it('labels events with the write intent: its action, and its actor when it names one', async () => {
      const actor: Actor = { pid: 4321, user: 'ci', command: 'berth run -- npm start' };
      await write(async (tx) => {
        await tx.insertLease(lease());
        await tx.insertLease(lease({ name: 'api', port: 4001 }));
      }, { action: 'import', actor });
      await write((tx) => tx.updateLease('h1', 'app1', 'web', { pid: 9, ephemeral: true }), { action: 'handover' });
      await write((tx) => tx.updateLease('h1', 'app1', 'api', { port: 4101 }), { action: 'gc' });
      const events = await read((tx) => tx.listEvents());
      assert.deepEqual(events.map((e) => `${e.action} ${e.change} ${e.name}`), ['import created web', 'import created api', 'handover updated web', 'gc moved api']);
      assert.deepEqual(events[0]!.actor, actor);
      assert.deepEqual(events[1]!.actor, actor);
      assertThisProcess(events[2]!.actor);
      assert.equal(events[2]!.ownerPid, 9);
    });

    it('a write that throws leaves no event; the next one still gets a higher id', async () => {
      assert.equal(await read((tx) => tx.lastEventId()), 0, 'an empty store has no events');
      assert.deepEqual(await read((tx) => tx.listEvents()), []);
      await write((tx) => tx.insertLease(lease()));
      const first = await read((tx) => tx.lastEventId());
      await assert.rejects(
        write(async (tx) => {
          await tx.insertLease(lease({ name: 'api', port: 4001 }));
          await tx.deleteLease('h1', 'app1', 'web');
          throw new Error('boom');
        }),
        /boom/,
      );
      assert.equal(await read((tx) => tx.lastEventId()), first);
      assert.deepEqual(ids(await read((tx) => tx.listEvents())), [first]);
      await write((tx) => tx.insertLease(lease({ name: 'db', port: 4002 })));
      const events = await read((tx) => tx.listEvents());
      assert.equal(events.length, 2);
      assert.ok(events[1]!.id > first);
      assert.equal(events[1]!.name, 'db');
    });

    it('filters events by id, host, lease, port or old port, and time; limits and orders them', async () => {
      await write((tx) => tx.insertLease(lease({ name: 'web', port: 8000 })));
      await write((tx) => tx.insertLease(lease({ name: 'api', port: 8001 })));
      await write((tx) => tx.updateLease('h1', 'app1', 'web', { port: 9000 }));
      await sleep(3); // the events below get a later time than those above
      await write((tx) => tx.insertLease(lease({ host: 'h2', name: 'web', port: 8000 })));
      await write((tx) => tx.insertLease(lease({ scope: 'app2', name: 'db', port: 8002 })));
      await write((tx) => tx.deleteLease('h1', 'app1', 'api'));
      const all = await read((tx) => tx.listEvents());
      assert.equal(all.length, 6);
      const [e1, e2, e3, e4, e5, e6] = ids(all) as [number, number, number, number, number, number];
      for (let i = 1; i < all.length; i++) assert.ok(all[i]!.id > all[i - 1]!.id, 'ids increase');
      const q = async (query: EventQuery) => ids(await read((tx) => tx.listEvents(query)));
      assert.deepEqual(await q({ afterId: e3 }), [e4, e5, e6]);
      assert.deepEqual(await q({ afterId: e6 }), []);
      assert.deepEqual(await q({ host: 'h1', port: 8000 }), [e1, e3], 'the move away from 8000 names it as old port');
      assert.deepEqual(await q({ port: 8000 }), [e1, e3, e4]);
      assert.deepEqual(await q({ port: 9000 }), [e3]);
      assert.deepEqual(await q({ host: 'h1', scope: 'app1', name: 'web' }), [e1, e3]);
      assert.deepEqual(await q({ scope: 'app1' }), [e1, e2, e3, e4, e6]);
      assert.deepEqual(await q({ name: 'web', newestFirst: true }), [e4, e3, e1]);
      assert.deepEqual(await q({ host: 'h2' }), [e4]);
      assert.deepEqual(await q({ limit: 2 }), [e1, e2]);
      assert.deepEqual(await q({ limit: 2, newestFirst: true }), [e6, e5]);
      assert.deepEqual(await q({ limit: 0 }), []);
      assert.deepEqual(await q({ newestFirst: true }), [e6, e5, e4, e3, e2, e1]);
      assert.deepEqual(await q({ afterId: e2, port: 8001 }), [e6]);
      const since = all[3]!.time;
      assert.deepEqual(await q({ since }), [e4, e5, e6]);
      assert.deepEqual(await q({ since: since.replace('Z', '+00:00') }), [e4, e5, e6], 'any ISO-8601 spelling of the instant');
      assert.deepEqual(await q({ since: '2000-01-01' }), [e1, e2, e3, e4, e5, e6]);
      assert.deepEqual(await q({ since: '2999-01-01T00:00:00.000Z' }), []);
      assert.deepEqual(await q({ since, host: 'h1', limit: 1, newestFirst: true }), [e6]);
    });

    it('keeps at most maxEvents, the newest, pruning on the first write and every PRUNE_EVERY_TX-th', async () => {
      await withStore(factory, { retention: { maxEvents: 5, maxAgeDays: 90 } }, async (store) => {
        // Write k (from 0) prunes after its own event when k % PRUNE_EVERY_TX === 0.
        for (let k = 0; k <= PRUNE_EVERY_TX; k++) {
          await store.transaction('write', (tx) => tx.insertLease(lease({ name: `s${k}`, port: 10000 + k })));
        }
        const last = PRUNE_EVERY_TX + 1;
        const kept = await store.transaction('read', (tx) => tx.listEvents());
        assert.deepEqual(ids(kept), [last - 4, last - 3, last - 2, last - 1, last]);
        assert.deepEqual(kept.map((e) => e.name), Array.from({ length: 5 }, (_, i) => `s${PRUNE_EVERY_TX - 4 + i}`));
        assert.equal(await store.transaction('read', (tx) => tx.lastEventId()), last);
        await store.transaction('write', (tx) => tx.deleteLease('h1', 'app1', 's0'));
        assert.equal((await store.transaction('read', (tx) => tx.listEvents({ newestFirst: true, limit: 1 })))[0]!.id, last + 1);
      });
    });

    it('ids keep growing after every event was pruned', async () => {
      await withStore(factory, { retention: { maxEvents: 0, maxAgeDays: 90 } }, async (store) => {
        await store.transaction('write', (tx) => tx.insertLease(lease()));
        assert.deepEqual(await store.transaction('read', (tx) => tx.listEvents()), [], 'the first write pruned its own event');
        const last = await store.transaction('read', (tx) => tx.lastEventId());
        assert.ok(last >= 1, 'lastEventId counts pruned events');
        await store.transaction('write', (tx) => tx.deleteLease('h1', 'app1', 'web'));
        const [event] = await store.transaction('read', (tx) => tx.listEvents());
        assert.ok(event && event.id > last && event.change === 'deleted');
      });
    });

    it('keeps everything with an unbounded retention', async () => {
      await withStore(factory, { retention: { maxEvents: Infinity, maxAgeDays: Infinity } }, async (store) => {
        await store.transaction('write', (tx) => tx.insertLease(lease()));
        await store.transaction('write', (tx) => tx.deleteLease('h1', 'app1', 'web'));
        assert.equal((await store.transaction('read', (tx) => tx.listEvents())).length, 2);
      });
    });

    it('drops events older than maxAgeDays', async () => {
      const maxAgeMs = 300;
      await withStore(factory, { retention: { maxEvents: 1000, maxAgeDays: maxAgeMs / 86_400_000 } }, async (store) => {
        for (let k = 0; k < 3; k++) await store.transaction('write', (tx) => tx.insertLease(lease({ name: `old${k}`, port: 10000 + k })));
        await sleep(maxAgeMs + 100);
        for (let k = 3; k <= PRUNE_EVERY_TX; k++) await store.transaction('write', (tx) => tx.insertLease(lease({ name: `new${k}`, port: 10000 + k })));
        const names = (await store.transaction('read', (tx) => tx.listEvents())).map((e) => e.name);
        assert.ok(!names.some((n) => n.startsWith('old')), 'the old events are gone');
        assert.ok(names.includes(`new${PRUNE_EVERY_TX}`), 'the newest event stays');
        assert.equal((await store.transaction('read', (tx) => tx.listLeases())).length, PRUNE_EVERY_TX + 1, 'pruning touches events only');
      });
    });
  });
}

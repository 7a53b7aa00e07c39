/**
 * Contract: history and the live feed. Every kind of write is recorded with its action and
 * the process that made it; history answers by port, name, scope, time and limit; the feed
 * reads after an id and delivers changes another engine on the same store made.
 */
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import type { RegistryEvent } from '../../src/types.js';
import { labTest, range, waitFor, type HarnessFactory } from './support.js';

/** Registers the history and events tests. */
export function eventsContract(name: string, make: HarnessFactory): void {
  const test = labTest(make);

  describe(`${name}: history and events`, () => {
    test('every kind of write is in the history with its action, its change and this process as actor', async (lab) => {
      const b = await lab.band(30);
      const e = lab.engine;
      const dir = lab.project('hist', `project: hist\npools:\n  p:\n    ports: { r: ${b + 20} }\n    slots: 1\n`);
      const owner = await lab.owner();
      const heir = await lab.owner();
      await e.leases.allocate({ scope: 'h/a' }, [{ name: 'web', range: range(b, 10) }]);
      await e.leases.reassign({ scope: 'h/a' }, 'web', b + 9);
      await e.leases.release({ scope: 'h/a' }, ['web']);
      await e.pools.reserve({ dir, scope: 'h/pool' });
      await e.leases.allocate({ scope: 'h/eph' }, [{ name: 'tmp', range: range(b, 10) }], { ephemeral: true, pid: owner.pid });
      await e.leases.handOver({ scope: 'h/eph' }, ['tmp'], owner.pid, heir.pid);
      await heir.end();
      await e.registry.gc({});
      const snap = await e.registry.export({});
      await e.registry.reset({});
      await e.registry.import({}, snap);
      await e.registry.reset({});

      const history = await e.registry.history({}, { limit: 1000 });
      const actions = new Set(history.map((ev) => ev.action));
      for (const action of ['allocate', 'release', 'reassign', 'reserve', 'gc', 'import', 'reset', 'handover']) assert.ok(actions.has(action as RegistryEvent['action']), `a '${action}' event`);
      for (const ev of history) {
        assert.equal(ev.actor.pid, process.pid, `${ev.action} ${ev.scope}/${ev.name}: the actor is this process`);
        assert.ok(!Number.isNaN(Date.parse(ev.time)));
      }
      const ids = history.map((ev) => ev.id);
      assert.deepEqual(ids, [...ids].sort((x, y) => y - x), 'newest first');
      const find = (action: string, scope: string) => history.find((ev) => ev.action === action && ev.scope === scope);
      assert.deepEqual(pick(find('allocate', 'h/a')), { change: 'created', name: 'web', port: b, oldPort: null, pool: null, slot: null, ownerPid: null });
      assert.deepEqual(pick(find('reassign', 'h/a')), { change: 'moved', name: 'web', port: b + 9, oldPort: b, pool: null, slot: null, ownerPid: null });
      assert.deepEqual(pick(find('release', 'h/a')), { change: 'deleted', name: 'web', port: b + 9, oldPort: null, pool: null, slot: null, ownerPid: null });
      assert.deepEqual(pick(find('reserve', 'h/pool')), { change: 'created', name: 'r', port: b + 20, oldPort: null, pool: 'p', slot: 0, ownerPid: null });
      assert.equal(find('allocate', 'h/eph')?.ownerPid, owner.pid);
      assert.deepEqual([find('handover', 'h/eph')?.change, find('handover', 'h/eph')?.ownerPid], ['updated', heir.pid]);
      assert.deepEqual([find('gc', 'h/eph')?.change, find('gc', 'h/eph')?.name], ['deleted', 'tmp']);
      assert.equal(find('import', 'h/pool')?.change, 'created');
      assert.equal(find('reset', 'h/pool')?.change, 'deleted');
    });

    test("a context's actor is recorded as the one who made the change; a malformed actor is refused and nothing is written", async (lab) => {
      const b = await lab.band(10);
      const e = lab.engine;
      const actor = { pid: 4242, user: 'someone', command: 'tool allocate web' };
      await e.leases.allocate({ scope: 'who/a', actor }, [{ name: 'web', range: range(b, 10) }]);
      const [ev] = await e.registry.history({}, { scope: 'who/a' });
      assert.deepEqual([ev?.actor.pid, ev?.actor.user], [4242, 'someone']);
      // Through the daemon the command is marked as having come through it.
      assert.ok(ev?.actor.command?.startsWith('tool allocate web'), String(ev?.actor.command));
      const bad = { pid: 0, user: 'x', command: null } as unknown as typeof actor;
      await assert.rejects(e.leases.allocate({ scope: 'who/b', actor: bad }, [{ name: 'web', range: range(b, 10) }]), (err: Error & { kind?: string }) => err.kind === 'usage');
      assert.deepEqual(await e.leases.list({}, { scope: 'who/b' }), []);
    });

    test('history by port finds a released lease; by name, scope, since and limit', async (lab) => {
      const b = await lab.band(10);
      const e = lab.engine;
      await e.leases.allocate({ scope: 'q/a' }, [{ name: 'web', range: range(b, 10) }, { name: 'api', range: range(b, 10) }]);
      await e.leases.allocate({ scope: 'q/b' }, [{ name: 'web', range: range(b, 10) }]);
      await e.leases.release({ scope: 'q/a' }, ['web']);
      assert.deepEqual((await e.registry.history({}, { port: b })).map((ev) => [ev.action, ev.change, ev.scope, ev.name]), [
        ['release', 'deleted', 'q/a', 'web'],
        ['allocate', 'created', 'q/a', 'web'],
      ]);
      await e.leases.reassign({ scope: 'q/b' }, 'web', b + 8);
      assert.deepEqual((await e.registry.history({}, { port: b + 2 })).map((ev) => ev.action), ['reassign', 'allocate'], 'the old port of a move');
      assert.deepEqual((await e.registry.history({}, { name: 'web' })).map((ev) => ev.scope), ['q/b', 'q/a', 'q/b', 'q/a']);
      assert.deepEqual((await e.registry.history({}, { name: 'web', scope: 'q/b' })).map((ev) => ev.action), ['reassign', 'allocate']);
      assert.equal((await e.registry.history({}, { limit: 2 })).length, 2);
      assert.equal((await e.registry.history({}, { since: '1h' })).length, 5);
      assert.deepEqual(await e.registry.history({}, { since: new Date(Date.now() + 3_600_000).toISOString() }), []);
    });

    test('after(id) and lastId: exactly the changes since, oldest first', async (lab) => {
      const b = await lab.band(10);
      const e = lab.engine;
      await e.leases.allocate({ scope: 'ev/a' }, [{ name: 'first', range: range(b, 10) }]);
      const mark = await e.events.lastId();
      assert.ok(mark > 0);
      await e.leases.allocate({ scope: 'ev/a' }, [{ name: 'x', range: range(b, 10) }, { name: 'y', range: range(b, 10) }]);
      await e.leases.release({ scope: 'ev/a' }, ['x']);
      const since = await e.events.after(mark);
      assert.deepEqual(since.map((ev) => [ev.action, ev.name]), [
        ['allocate', 'x'],
        ['allocate', 'y'],
        ['release', 'x'],
      ]);
      assert.ok(since.every((ev, i) => ev.id > mark && (i === 0 || ev.id > since[i - 1]!.id)));
      assert.equal(await e.events.lastId(), since.at(-1)!.id);
      assert.deepEqual((await e.events.after(mark, 1)).map((ev) => ev.name), ['x']);
      assert.deepEqual(await e.events.after(await e.events.lastId()), []);
    });

    test('subscribe delivers, in order, a change another engine on the same store made', async (lab, t) => {
      if (!lab.h.peer) return t.skip('this harness cannot open a second engine on the same store');
      const b = await lab.band(10);
      const peer = await lab.h.peer();
      await lab.engine.leases.allocate({ scope: 'sub/a' }, [{ name: 'before', range: range(b, 10) }]);
      const start = await lab.engine.events.lastId();
      const seen: RegistryEvent[] = [];
      const errors: Error[] = [];
      const stop = lab.engine.events.subscribe(start, (ev) => seen.push(ev), { intervalMs: 20, onError: (err) => errors.push(err) });
      try {
        await peer.leases.allocate({ scope: 'sub/peer' }, [{ name: 'one', range: range(b, 10) }, { name: 'two', range: range(b, 10) }]);
        await waitFor('both events of the peer’s allocation', () => (seen.length >= 2 ? true : undefined));
        assert.deepEqual(seen.map((ev) => [ev.scope, ev.name, ev.action]), [
          ['sub/peer', 'one', 'allocate'],
          ['sub/peer', 'two', 'allocate'],
        ]);
        assert.ok(seen[0]!.id > start && seen[1]!.id > seen[0]!.id);
        await peer.leases.release({ scope: 'sub/peer' }, ['one']);
        await waitFor('the release', () => (seen.length >= 3 ? true : undefined));
        assert.deepEqual([seen[2]!.action, seen[2]!.name], ['release', 'one']);
      } finally {
        stop();
      }
      assert.deepEqual(errors, []);
      // A feed from 0 replays everything, in order.
      const replay: RegistryEvent[] = [];
      const stopReplay = lab.engine.events.subscribe(0, (ev) => replay.push(ev));
      try {
        await waitFor('the replay', () => (replay.length >= 4 ? true : undefined));
      } finally {
        stopReplay();
      }
      assert.deepEqual(replay.map((ev) => ev.name), ['before', 'one', 'two', 'one']);
    });
  });
}

/** The fields of an event a test compares. */
function pick(ev: RegistryEvent | undefined) {
  assert.ok(ev, 'the event is there');
  return { change: ev.change, name: ev.name, port: ev.port, oldPort: ev.oldPort, pool: ev.pool, slot: ev.slot, ownerPid: ev.ownerPid };
}

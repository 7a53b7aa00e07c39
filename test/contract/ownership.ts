/**
 * Contract: ephemeral ownership. A lease tied to a live pid is that pid's; once the pid
 * is gone, the next asker gets it; handOver and releaseOwned move and free them.
 */
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { ConflictError, UsageError } from '../../src/errors.js';
import { fails, namesOf, range, labTest, type HarnessFactory } from './support.js';

/** Registers the ownership tests. */
export function ownershipContract(name: string, make: HarnessFactory): void {
  const test = labTest(make);

  describe(`${name}: ephemeral ownership`, () => {
    test('an ephemeral lease needs a live owner pid', async (lab) => {
      const b = await lab.band(5);
      const req = [{ name: 'web', range: range(b, 5) }];
      const dead = await lab.deadPid();
      await fails(lab.engine.leases.allocate({ scope: 'own/a' }, req, { ephemeral: true, pid: dead }), UsageError, new RegExp(`pid ${dead} is not running`));
      await fails(lab.engine.leases.allocate({ scope: 'own/a' }, req, { ephemeral: true }), UsageError, /pid/);
      await fails(lab.engine.leases.allocate({ scope: 'own/a' }, req, { ephemeral: true, pid: 0 }), UsageError, /pid/);
      assert.deepEqual(await lab.engine.leases.list({}, { scope: 'own/a' }), []);
    });

    test('a live owner keeps its lease; a sticky get reads it; once the owner is gone the next asker gets it', async (lab) => {
      const b = await lab.band(5);
      const ctx = { scope: 'own/b' };
      const req = [{ name: 'eph', range: range(b, 5) }];
      const a = await lab.owner();
      const c = await lab.owner();
      const [first] = await lab.engine.leases.allocate(ctx, req, { ephemeral: true, pid: a.pid });
      assert.equal(first!.ephemeral, true);
      assert.equal(first!.pid, a.pid);
      assert.deepEqual(await lab.engine.leases.allocate(ctx, req, { ephemeral: true, pid: a.pid }), [first], 'its owner asks again: the same');
      await fails(lab.engine.leases.allocate(ctx, req, { ephemeral: true, pid: c.pid }), ConflictError, new RegExp(`belongs to pid ${a.pid}, which is still running`));
      const [read] = await lab.engine.leases.allocate(ctx, req);
      assert.equal(read!.pid, a.pid, 'a sticky get reads the lease without taking it');

      await a.end();
      const [handed] = await lab.engine.leases.allocate(ctx, req, { ephemeral: true, pid: c.pid });
      assert.equal(handed!.port, first!.port);
      assert.equal(handed!.pid, c.pid, 'the new owner holds it');
      const gc = await lab.engine.registry.gc({});
      assert.deepEqual(gc.deadLeases, [], 'gc leaves a lease whose owner lives');

      await c.end();
      const [sticky] = await lab.engine.leases.allocate(ctx, req);
      assert.equal(sticky!.port, first!.port);
      assert.equal(sticky!.ephemeral, false, 'a sticky asker after a dead owner makes it sticky');
      assert.equal(sticky!.pid, null);
    });

    test('handOver moves leases from their owner (or a dead one) to a new pid, and no others', async (lab) => {
      const b = await lab.band(10);
      const ctx = { scope: 'own/hand' };
      const parent = await lab.owner();
      const child = await lab.owner();
      const stranger = await lab.owner();
      await lab.engine.leases.allocate(ctx, ['web', 'api'].map((n) => ({ name: n, range: range(b, 10) })), { ephemeral: true, pid: parent.pid });
      await lab.engine.leases.allocate(ctx, [{ name: 'sticky', range: range(b, 10) }]);
      await lab.engine.leases.allocate(ctx, [{ name: 'theirs', range: range(b, 10) }], { ephemeral: true, pid: stranger.pid });

      const moved = await lab.engine.leases.handOver(ctx, ['web', 'sticky', 'theirs', 'ghost'], parent.pid, child.pid);
      assert.deepEqual(namesOf(moved), ['own/hand/web'], 'only an ephemeral lease of `from`; sticky, others and unknown names are skipped');
      assert.equal(moved[0]!.pid, child.pid);
      assert.equal((await lab.engine.leases.get(ctx, 'theirs')).pid, stranger.pid);
      assert.equal((await lab.engine.leases.get(ctx, 'sticky')).pid, null);

      await stranger.end();
      const taken = await lab.engine.leases.handOver(ctx, ['theirs'], parent.pid, child.pid);
      assert.deepEqual(taken.map((l) => [l.name, l.pid]), [['theirs', child.pid]], 'a dead owner’s lease may be taken over');

      const dead = await lab.deadPid();
      await fails(lab.engine.leases.handOver(ctx, ['api'], parent.pid, dead), UsageError, /not running/);
      assert.equal((await lab.engine.leases.get(ctx, 'api')).pid, parent.pid);
    });

    test('releaseOwned frees only the leases one of the pids owns', async (lab) => {
      const b = await lab.band(10);
      const ctx = { scope: 'own/rel' };
      const mine = await lab.owner();
      const other = await lab.owner();
      await lab.engine.leases.allocate(ctx, ['a', 'b'].map((n) => ({ name: n, range: range(b, 10) })), { ephemeral: true, pid: mine.pid });
      await lab.engine.leases.allocate(ctx, [{ name: 'c', range: range(b, 10) }], { ephemeral: true, pid: other.pid });
      await lab.engine.leases.allocate(ctx, [{ name: 'd', range: range(b, 10) }]);
      const released = await lab.engine.leases.releaseOwned(ctx, ['a', 'c', 'd', 'ghost'], [mine.pid]);
      assert.deepEqual(namesOf(released), ['own/rel/a']);
      assert.deepEqual(namesOf(await lab.engine.leases.list({}, { scope: 'own/rel' })), ['own/rel/b', 'own/rel/c', 'own/rel/d']);
      assert.deepEqual(namesOf(await lab.engine.leases.releaseOwned(ctx, ['b', 'c'], [mine.pid, other.pid])), ['own/rel/b', 'own/rel/c']);
    });
  });
}

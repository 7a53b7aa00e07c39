/**
 * Store conformance, one-step claims (Store.claimNew, offered by PostgreSQL): all the
 * leases with their scope, scan hints and events, or, when a name, a port or the scope's
 * directory stands in the way, nothing at all. Skipped for backends without it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { NewClaim, Store } from '../../src/store/store.js';
import { lease, useStore, type StoreFactory } from './conformance-kit.js';

/** Registers the claim part of the suite. */
export function claimConformance(factory: StoreFactory): void {
  describe('one-step claims (claimNew)', () => {
    const subject = useStore(factory);
    const { write, read } = subject;
    /** The store's claimNew, or null (the test then skips: the backend has none). */
    const claimNew = (): Store['claimNew'] => subject.store.claimNew?.bind(subject.store);
    const on = (over: Parameters<typeof lease>[0] = {}) => lease({ host: subject.store.host, ...over });
    /** Everything a claim could change, to compare before and after a refused one. */
    const everything = () =>
      read(async (tx) => ({
        leases: await tx.listLeases(),
        scopes: await tx.listScopes(),
        hint: await tx.getScanHint(subject.store.host, 'tcp', 4000),
        lastEvent: await tx.lastEventId(),
      }));

    it('claims every lease with its scope, scan hints and events, in one step', async (t) => {
      const claim = claimNew();
      if (claim === undefined) return t.skip('this backend has no one-step claim');
      const host = subject.store.host;
      await write(async (tx) => tx.setScanHint(host, 'tcp', 4000, 4000));
      const claims: NewClaim[] = [
        { lease: on({ ephemeral: true, pid: 4242, purpose: 'http', strategy: 'sequential' }), hints: [{ start: 4000, next: 4001 }] },
        { lease: on({ name: 'api', port: 4002 }), hints: [{ start: 4000, next: 4003 }] },
      ];
      const made = await claim({ host, name: 'app1', directory: '/srv/app1' }, claims, { action: 'allocate', actor: { pid: 7, user: 'ann', command: 'berth allocate' } });
      assert.ok(made !== null);
      assert.deepEqual(made.map((l) => [l.name, l.port, l.ephemeral, l.pid, l.purpose, l.strategy]), [['web', 4000, true, 4242, 'http', 'sequential'], ['api', 4002, false, null, null, null]]);
      await read(async (tx) => {
        assert.deepEqual(await tx.getLease(host, 'app1', 'web'), made[0]);
        assert.deepEqual(await tx.getLease(host, 'app1', 'api'), made[1]);
        assert.equal((await tx.getScope(host, 'app1'))?.directory, '/srv/app1');
        assert.equal(await tx.getScanHint(host, 'tcp', 4000), 4003, 'the last hint given for a start wins');
        const events = await tx.listEvents();
        assert.deepEqual(events.map((e) => [e.change, e.action, e.name, e.port, e.ownerPid, e.actor.pid, e.actor.user]), [
          ['created', 'allocate', 'web', 4000, 4242, 7, 'ann'],
          ['created', 'allocate', 'api', 4002, null, 7, 'ann'],
        ]);
        assert.equal(await tx.lastEventId(), events[1]!.id);
      });
    });

    it('writes nothing when a name or a port is taken, or the scope is tied to another directory', async (t) => {
      const claim = claimNew();
      if (claim === undefined) return t.skip('this backend has no one-step claim');
      const host = subject.store.host;
      await write(async (tx) => {
        await tx.ensureScope(host, 'app1', '/srv/app1');
        await tx.insertLease(on({ name: 'db', port: 5432 }));
        await tx.setScanHint(host, 'tcp', 4000, 4000);
      });
      const before = await everything();
      const fresh = (over: Parameters<typeof lease>[0]) => ({ lease: on(over), hints: [{ start: 4000, next: 4100 }] });
      // The second lease of each claim is the one in the way: the first is not written either.
      assert.equal(await claim({ host, name: 'app1', directory: '/srv/app1' }, [fresh({}), fresh({ name: 'db', port: 4001 })]), null, 'a name taken');
      assert.equal(await claim({ host, name: 'app1', directory: '/srv/app1' }, [fresh({}), fresh({ name: 'x', port: 5432 })]), null, 'a port taken');
      assert.equal(await claim({ host, name: 'app1', directory: '/elsewhere' }, [fresh({})]), null, 'the scope tied to another directory');
      assert.equal(await claim({ host, name: 'app1', directory: null }, [fresh({ port: 70000 })]), null, 'a port the store refuses');
      assert.equal(await claim({ host: `${host}-other`, name: 'app1', directory: null }, [fresh({ host: `${host}-other` })]), null, 'another machine');
      assert.deepEqual(await everything(), before);
      // Without a directory, a scope tied to one is no obstacle (as ensureScope leaves it).
      assert.ok(await claim({ host, name: 'app1', directory: null }, [fresh({})]));
      assert.equal((await read((tx) => tx.getScope(host, 'app1')))?.directory, '/srv/app1');
    });

    it('a lone lease whose port was taken takes the first of its alternates no lease holds, with that one\'s hints', async (t) => {
      const claim = claimNew();
      if (claim === undefined) return t.skip('this backend has no one-step claim');
      const host = subject.store.host;
      await write(async (tx) => {
        await tx.insertLease(on({ scope: 'other', name: 'a', port: 4000 }));
        await tx.insertLease(on({ scope: 'other', name: 'b', port: 4001 }));
      });
      const alternates = [4001, 4002, 4003].map((port) => ({ port, hints: [{ start: 4000, next: port + 1 }] }));
      const made = await claim({ host, name: 'app1', directory: null }, [{ lease: on(), hints: [{ start: 4000, next: 4001 }], alternates }]);
      assert.deepEqual(made?.map((l) => l.port), [4002]);
      await read(async (tx) => {
        assert.equal((await tx.getLease(host, 'app1', 'web'))?.port, 4002);
        assert.equal(await tx.getScanHint(host, 'tcp', 4000), 4003);
        assert.deepEqual((await tx.listEvents({ scope: 'app1' })).map((e) => e.port), [4002]);
      });
      // Every alternate taken too: nothing written.
      const before = await everything();
      assert.equal(await claim({ host, name: 'app1', directory: null }, [{ lease: on({ name: 'api' }), hints: [], alternates: alternates.slice(0, 2) }]), null);
      assert.deepEqual(await everything(), before);
    });

    it('of many claims of one port at once, exactly one wins', async (t) => {
      const claim = claimNew();
      if (claim === undefined) return t.skip('this backend has no one-step claim');
      const host = subject.store.host;
      await write(async (tx) => tx.ensureScope(host, 'app1', null));
      const results = await Promise.all(
        Array.from({ length: 12 }, (_, i) => claim({ host, name: 'app1', directory: null }, [{ lease: on({ name: `n${i}`, port: 4500 }), hints: [] }])),
      );
      assert.equal(results.filter((r) => r !== null).length, 1);
      assert.equal((await read((tx) => tx.listLeases())).length, 1);
      assert.equal((await read((tx) => tx.listEvents())).length, 1);
    });
  });
}

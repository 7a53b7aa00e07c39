/**
 * Contract: leases. Get-or-allocate, all or none, uniqueness across scopes, one engine
 * serving many scopes at once, release (names, whole scope), reassign.
 */
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { ConflictError, ExhaustedError, NotFoundError, RefusedError } from '../../src/errors.js';
import { fails, namesOf, portsOf, range, labTest, type HarnessFactory } from './support.js';

/** Registers the lease tests. */
export function leasesContract(name: string, make: HarnessFactory): void {
  const test = labTest(make);

  describe(`${name}: leases`, () => {
    test('get-or-allocate is idempotent: the same lease again, and get finds it', async (lab) => {
      const b = await lab.band(10);
      const ctx = { scope: 'lease/idem' };
      const [first] = await lab.engine.leases.allocate(ctx, [{ name: 'web', range: range(b, 10), purpose: 'the web app' }]);
      assert.equal(first!.scope, 'lease/idem');
      assert.equal(first!.name, 'web');
      assert.equal(first!.port, b);
      assert.equal(first!.protocol, 'tcp');
      assert.equal(first!.purpose, 'the web app');
      assert.equal(first!.ephemeral, false);
      assert.equal(first!.pid, null);
      assert.equal(first!.host, (await lab.engine.info()).host);
      const again = await lab.engine.leases.allocate(ctx, [{ name: 'web', range: range(b, 10) }]);
      assert.deepEqual(again, [first]);
      // Asked without a range, the existing lease is still what comes back.
      assert.deepEqual(await lab.engine.leases.allocate(ctx, [{ name: 'web' }]), [first]);
      assert.deepEqual(await lab.engine.leases.get(ctx, 'web'), first);
      assert.deepEqual(await lab.engine.leases.list(ctx, { scope: 'lease/idem' }), [first]);
    });

    test('all or none: when one name cannot be had, none of the others is kept', async (lab) => {
      const b = await lab.band(10);
      await lab.engine.leases.allocate({ scope: 'lease/other' }, [{ name: 'taken', port: b + 5 }]);
      const ctx = { scope: 'lease/aon' };
      const mark = await lab.engine.events.lastId();
      await fails(lab.engine.leases.allocate(ctx, [{ name: 'fine', range: range(b, 3) }, { name: 'full', range: range(b + 5, 1) }]), ExhaustedError, new RegExp(`${b + 5}`));
      await fails(lab.engine.leases.allocate(ctx, [{ name: 'fine', range: range(b, 3) }, { name: 'clash', port: b + 5 }]), ConflictError, /lease\/other\/taken/);
      assert.deepEqual(await lab.engine.leases.list({}, { scope: 'lease/aon' }), []);
      assert.equal(await lab.engine.events.lastId(), mark, 'no event of the undone attempts');
      await fails(lab.engine.leases.get(ctx, 'fine'), NotFoundError);
      // The band's first port was not used up by the failed attempts.
      assert.deepEqual(portsOf(await lab.engine.leases.allocate(ctx, [{ name: 'fine', range: range(b, 3) }])), [b]);
    });

    test('a port is leased once per machine: scopes get distinct ports, the same name in each', async (lab) => {
      const b = await lab.band(10);
      const got = [];
      for (const scope of ['u/a', 'u/b', 'u/c']) got.push(...(await lab.engine.leases.allocate({ scope }, [{ name: 'web', range: range(b, 10) }])));
      assert.deepEqual(portsOf(got), [b, b + 1, b + 2]);
      await fails(lab.engine.leases.allocate({ scope: 'u/d' }, [{ name: 'web', port: b + 1 }]), ConflictError, /u\/b\/web/);
      assert.deepEqual(namesOf(await lab.engine.leases.list({})), ['u/a/web', 'u/b/web', 'u/c/web']);
    });

    test('one engine, many scopes at once: each call acts for its own context', async (lab) => {
      const b = await lab.band(40);
      const scopes = Array.from({ length: 8 }, (_, i) => `par/ws-${i}`);
      const results = await Promise.all(scopes.map((scope) => lab.engine.leases.allocate({ scope }, [{ name: 'web', range: range(b, 40) }, { name: 'api', range: range(b, 40) }])));
      results.forEach((leases, i) => assert.deepEqual(namesOf(leases), [`${scopes[i]}/api`, `${scopes[i]}/web`]));
      const same = await Promise.all(scopes.map(() => lab.engine.leases.allocate({ scope: scopes[0]! }, [{ name: 'web', range: range(b, 40) }])));
      assert.ok(same.every((leases) => leases[0]!.port === results[0]![0]!.port), 'the same name asked for at once: one lease');
      const all = await lab.engine.leases.list({});
      assert.equal(all.length, 16);
      assert.equal(new Set(portsOf(all)).size, 16, 'no port twice');
      const gets = await Promise.all(scopes.map((scope) => lab.engine.leases.get({ scope }, 'api')));
      gets.forEach((lease, i) => assert.equal(lease.scope, scopes[i]));
      const released = await Promise.all(scopes.slice(0, 4).map((scope) => lab.engine.leases.release({ scope })));
      released.forEach((leases, i) => assert.deepEqual(namesOf(leases), [`${scopes[i]}/api`, `${scopes[i]}/web`]));
      assert.deepEqual([...new Set((await lab.engine.leases.list({})).map((l) => l.scope))].sort(), scopes.slice(4));
    });

    test('release by name frees the port for anyone; release of the scope frees all of it', async (lab) => {
      const b = await lab.band(10);
      const ctx = { scope: 'rel/a' };
      const leases = await lab.engine.leases.allocate(ctx, ['web', 'api', 'db'].map((n) => ({ name: n, range: range(b, 10) })));
      const released = await lab.engine.leases.release(ctx, ['api']);
      assert.deepEqual(released, [leases[1]]);
      assert.deepEqual(namesOf(await lab.engine.leases.list({}, { scope: 'rel/a' })), ['rel/a/db', 'rel/a/web']);
      assert.deepEqual(portsOf(await lab.engine.leases.allocate({ scope: 'rel/b' }, [{ name: 'x', port: b + 1 }])), [b + 1], 'the freed port is leasable');
      assert.deepEqual(namesOf(await lab.engine.leases.release(ctx)), ['rel/a/db', 'rel/a/web']);
      assert.deepEqual(await lab.engine.leases.list({}, { scope: 'rel/a' }), []);
      assert.deepEqual(namesOf(await lab.engine.leases.list({})), ['rel/b/x'], 'other scopes keep theirs');
      // Releasing a scope that holds nothing (a typo, the wrong variable) is NotFound, not a silent no-op.
      await fails(lab.engine.leases.release(ctx), NotFoundError, /holds no leases/);
      assert.deepEqual(namesOf(await lab.engine.leases.release({ scope: 'rel/b' }, ['x', 'x'])), ['rel/b/x'], 'a name given twice is released once');
    });

    test('unknown names: NotFoundError, and nothing is released', async (lab) => {
      const b = await lab.band(10);
      const ctx = { scope: 'nf/a' };
      await lab.engine.leases.allocate(ctx, [{ name: 'web', range: range(b, 10) }]);
      const err = await fails(lab.engine.leases.release(ctx, ['web', 'ghost']), NotFoundError, /ghost/);
      assert.match(err.message, /nothing was released/);
      assert.deepEqual(namesOf(await lab.engine.leases.list({})), ['nf/a/web']);
      await fails(lab.engine.leases.get(ctx, 'ghost'), NotFoundError, /ghost/);
      await fails(lab.engine.leases.get({ scope: 'nf/b' }, 'web'), NotFoundError, /nf\/b/);
      await fails(lab.engine.leases.reassign(ctx, 'ghost', b + 5), NotFoundError, /ghost/);
    });

    test('reassign moves a lease to a free port; refuses a leased one; asking a fixed port it lacks is a conflict', async (lab) => {
      const b = await lab.band(10);
      const ctx = { scope: 'mv/a' };
      const [web] = await lab.engine.leases.allocate(ctx, [{ name: 'web', range: range(b, 3) }]);
      await lab.engine.leases.allocate({ scope: 'mv/b' }, [{ name: 'db', port: b + 7 }]);
      const moved = await lab.engine.leases.reassign(ctx, 'web', b + 5);
      assert.equal(moved.port, b + 5);
      assert.equal(moved.createdAt, web!.createdAt);
      assert.deepEqual(await lab.engine.leases.get(ctx, 'web'), moved);
      assert.deepEqual(await lab.engine.leases.reassign(ctx, 'web', b + 5), moved, 'to its own port: unchanged');
      await fails(lab.engine.leases.reassign(ctx, 'web', b + 7), RefusedError, /mv\/b\/db/);
      assert.equal((await lab.engine.leases.get(ctx, 'web')).port, b + 5, 'a refused move leaves it where it was');
      await fails(lab.engine.leases.allocate(ctx, [{ name: 'web', port: b + 6 }]), ConflictError, new RegExp(`already holds port ${b + 5}`));
      assert.deepEqual(portsOf(await lab.engine.leases.allocate({ scope: 'mv/c' }, [{ name: 'z', port: b }])), [b], 'the old port is free again');
    });

    test('reassign refuses a port a process holds, unless forced', async (lab) => {
      const b = await lab.band(10);
      const ctx = { scope: 'mv/held' };
      await lab.engine.leases.allocate(ctx, [{ name: 'web', range: range(b, 3) }]);
      await lab.hold(b + 6);
      await fails(lab.engine.leases.reassign(ctx, 'web', b + 6), RefusedError, /in use by another process/);
      assert.equal((await lab.engine.leases.reassign(ctx, 'web', b + 6, { force: true })).port, b + 6);
    });
  });
}

/**
 * Contract: pools. A scope reserves one whole slot (idempotent), a full pool is exhausted,
 * status and URLs describe every slot, and a reserve records the pool's definition so
 * status, list and urls work from a directory without the berth.yaml.
 */
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { ConflictError, ExhaustedError, RefusedError, UsageError } from '../../src/errors.js';
import { fails, namesOf, labTest, type HarnessFactory, type Lab } from './support.js';

/** A project with a two-slot series pool `p` (backend b, b+1; frontend b+10, b+11) and its base port. */
async function poolProject(lab: Lab): Promise<{ dir: string; b: number }> {
  const b = await lab.band(20);
  const dir = lab.project('pooled', `project: pooled\npools:\n  p:\n    ports: { backend: ${b}, frontend: ${b + 10} }\n    slots: 2\n    urls: ['http://localhost:\${frontend}/cb']\n`);
  return { dir, b };
}

const rolePorts = (leases: readonly { name: string; port: number; pool: string | null; slot: number | null }[]) => leases.map((l) => [l.name, l.port, l.pool, l.slot]);

/** Registers the pool tests. */
export function poolsContract(name: string, make: HarnessFactory): void {
  const test = labTest(make);

  describe(`${name}: pools`, () => {
    test('reserve takes a whole slot, idempotently; a full pool is exhausted and nothing is leased', async (lab) => {
      const { dir, b } = await poolProject(lab);
      const s1 = await lab.engine.pools.reserve({ dir, scope: 'pool/s1' });
      assert.deepEqual(rolePorts(s1), [
        ['backend', b, 'p', 0],
        ['frontend', b + 10, 'p', 0],
      ]);
      assert.deepEqual(await lab.engine.pools.reserve({ dir, scope: 'pool/s1' }, { pool: 'p' }), s1, 'idempotent');
      assert.deepEqual(rolePorts(await lab.engine.pools.reserve({ dir, scope: 'pool/s2' })), [
        ['backend', b + 1, 'p', 1],
        ['frontend', b + 11, 'p', 1],
      ]);
      await fails(lab.engine.pools.reserve({ dir, scope: 'pool/s3' }), ExhaustedError, /pool p has no free slot.*pool\/s1/);
      assert.deepEqual(await lab.engine.leases.list({}, { scope: 'pool/s3' }), []);

      const [status] = await lab.engine.pools.status({ dir });
      assert.deepEqual(status, {
        name: 'p',
        kind: 'series',
        roles: ['backend', 'frontend'],
        slots: 2,
        used: 2,
        free: 0,
        blocked: 0,
        detail: [
          { slot: 0, ports: { backend: b, frontend: b + 10 }, scope: 'pool/s1', blocked: null, changed: null },
          { slot: 1, ports: { backend: b + 1, frontend: b + 11 }, scope: 'pool/s2', blocked: null, changed: null },
        ],
        fallback: [],
      });
      assert.deepEqual(await lab.engine.pools.urls({ dir }, 'p'), [
        { pool: 'p', slot: 0, url: `http://localhost:${b + 10}/cb`, heldBy: 'pool/s1' },
        { pool: 'p', slot: 1, url: `http://localhost:${b + 11}/cb`, heldBy: 'pool/s2' },
      ]);
      const urls = await lab.engine.wiring.urls({ dir, scope: 'pool/s2' });
      assert.ok(urls.some((u) => u.pool === 'p' && u.slot === 1 && u.url === `http://localhost:${b + 11}/cb`), JSON.stringify(urls));
    });

    test('after a reserve, status, list --pool and urls work from a directory without the berth.yaml', async (lab) => {
      const { dir, b } = await poolProject(lab);
      const definition = await lab.engine.pools.definition({ dir }, 'p');
      await lab.engine.pools.reserve({ dir, scope: 'pool/s1' });
      const elsewhere = { dir: lab.bare('elsewhere'), scope: 'pool/any' };
      assert.equal((await lab.engine.project(elsewhere)).config.file, null, 'no berth.yaml from there');
      const status = await lab.engine.pools.status(elsewhere);
      assert.deepEqual(
        status.map((s) => [s.name, s.used, s.free]),
        [['p', 1, 1]],
      );
      assert.deepEqual(namesOf(await lab.engine.leases.list(elsewhere, { pool: 'p' })), ['pool/s1/backend', 'pool/s1/frontend']);
      assert.deepEqual(await lab.engine.pools.urls(elsewhere, 'p'), [
        { pool: 'p', slot: 0, url: `http://localhost:${b + 10}/cb`, heldBy: 'pool/s1' },
        { pool: 'p', slot: 1, url: `http://localhost:${b + 11}/cb`, heldBy: null },
      ]);
      assert.deepEqual(await lab.engine.pools.definition(elsewhere, 'p'), definition);
      // The recorded definition also serves a reserve from elsewhere.
      assert.deepEqual(
        (await lab.engine.pools.reserve({ ...elsewhere, scope: 'pool/s2' }, { pool: 'p' })).map((l) => l.port),
        [b + 1, b + 11],
      );
      await fails(lab.engine.leases.list(elsewhere, { pool: 'nope' }), UsageError, /unknown pool 'nope'/);
      await fails(lab.engine.pools.urls(elsewhere, 'nope'), UsageError, /unknown pool/);
    });

    test('releasing one role releases the whole slot; a pool role cannot be reassigned', async (lab) => {
      const { dir, b } = await poolProject(lab);
      const ctx = { dir, scope: 'pool/r' };
      await lab.engine.pools.reserve(ctx);
      await fails(lab.engine.leases.reassign(ctx, 'backend', b + 5), RefusedError, /role backend of pool p slot 0/);
      assert.equal((await lab.engine.leases.get(ctx, 'backend')).port, b);
      assert.deepEqual(namesOf(await lab.engine.leases.release(ctx, ['frontend'])), ['pool/r/backend', 'pool/r/frontend']);
      assert.deepEqual(await lab.engine.leases.list({}, { scope: 'pool/r' }), []);
      const [status] = await lab.engine.pools.status({ dir });
      assert.equal(status!.used, 0);
      assert.deepEqual(rolePorts(await lab.engine.pools.reserve(ctx)), [
        ['backend', b, 'p', 0],
        ['frontend', b + 10, 'p', 0],
      ]);
    });

    test('a slot whose port a process or a lease holds is skipped; a role name the scope already uses is a conflict', async (lab) => {
      const { dir, b } = await poolProject(lab);
      await lab.hold(b + 10);
      assert.deepEqual(
        (await lab.engine.pools.reserve({ dir, scope: 'pool/h' })).map((l) => [l.port, l.slot]),
        [
          [b + 1, 1],
          [b + 11, 1],
        ],
      );
      await lab.engine.leases.allocate({ scope: 'pool/clash' }, [{ name: 'backend', port: b + 15 }]);
      await fails(lab.engine.pools.reserve({ dir, scope: 'pool/clash' }), ConflictError, /already has a lease named 'backend'/);
      assert.deepEqual(namesOf(await lab.engine.leases.list({}, { scope: 'pool/clash' })), ['pool/clash/backend']);
    });

    test('sets pools, and which pool when several or none are defined', async (lab) => {
      const b = await lab.band(10);
      const dir = lab.project('sets', `project: sets\npools:\n  one:\n    sets:\n      - { a: ${b}, b: ${b + 5} }\n      - { a: ${b + 1}, b: ${b + 6} }\n  two:\n    ports: { x: ${b + 3} }\n    slots: 1\n`);
      await fails(lab.engine.pools.reserve({ dir, scope: 'sets/1' }), UsageError, /several pools.*--pool/);
      assert.deepEqual(
        (await lab.engine.pools.reserve({ dir, scope: 'sets/1' }, { pool: 'one' })).map((l) => [l.name, l.port]),
        [
          ['a', b],
          ['b', b + 5],
        ],
      );
      assert.deepEqual((await lab.engine.pools.status({ dir })).map((s) => [s.name, s.kind, s.used, s.free]), [
        ['one', 'sets', 1, 1],
        ['two', 'series', 0, 1],
      ]);
      await fails(lab.engine.pools.reserve({ scope: 'sets/none', dir: lab.bare('no-pools') }), UsageError, /no pools are defined/);
      await fails(lab.engine.pools.reserve({ dir, scope: 'sets/1' }, { pool: 'nope' }), UsageError, /unknown pool 'nope'/);
    });

    test('an ephemeral slot belongs to its owner; once the owner is gone, gc frees the slot', async (lab) => {
      const { dir, b } = await poolProject(lab);
      const owner = await lab.owner();
      const slot = await lab.engine.pools.reserve({ dir, scope: 'pool/eph' }, { ephemeral: true, pid: owner.pid });
      assert.deepEqual(
        slot.map((l) => [l.port, l.ephemeral, l.pid]),
        [
          [b, true, owner.pid],
          [b + 10, true, owner.pid],
        ],
      );
      await owner.end();
      const gc = await lab.engine.registry.gc({});
      assert.deepEqual(namesOf(gc.deadLeases), ['pool/eph/backend', 'pool/eph/frontend']);
      assert.equal((await lab.engine.pools.status({ dir }))[0]!.used, 0);
    });

    test('an ephemeral slot follows lease ownership: its live owner keeps it, a dead owner’s slot passes to the next asker', async (lab) => {
      const { dir, b } = await poolProject(lab);
      const ctx = { dir, scope: 'pool/own' };
      const first = await lab.owner();
      const next = await lab.owner();
      await lab.engine.pools.reserve(ctx, { ephemeral: true, pid: first.pid });
      // As allocate answers for a lease whose owner is alive (see ownership.ts).
      await fails(lab.engine.pools.reserve(ctx, { ephemeral: true, pid: next.pid }), ConflictError, new RegExp(`pid ${first.pid}`));
      await first.end();
      const taken = await lab.engine.pools.reserve(ctx, { ephemeral: true, pid: next.pid });
      assert.deepEqual(
        taken.map((l) => [l.port, l.pid]),
        [
          [b, next.pid],
          [b + 10, next.pid],
        ],
        'the new owner holds the slot',
      );
      assert.deepEqual((await lab.engine.registry.gc({})).deadLeases, [], 'so gc does not free it under them');
      assert.equal((await lab.engine.leases.list({}, { scope: 'pool/own' })).length, 2);
    });
  });
}

/**
 * Contract: the registry as a whole. Export (this machine's rows; one scope's), import
 * (validated, all or none, replace), gc (dead owners, gone directories), reset.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describe } from 'node:test';
import { ConflictError, UsageError } from '../../src/errors.js';
import type { Snapshot } from '../../src/engine/index.js';
import type { Lease } from '../../src/types.js';
import { fails, namesOf, range, labTest, type HarnessFactory, type Lab } from './support.js';

/** Three leases in two named scopes, from one band; returns the band start. */
async function seed(lab: Lab): Promise<number> {
  const b = await lab.band(20);
  await lab.engine.leases.allocate({ scope: 'reg/a' }, [{ name: 'web', range: range(b, 10) }, { name: 'api', range: range(b, 10) }]);
  await lab.engine.leases.allocate({ scope: 'reg/b' }, [{ name: 'web', range: range(b, 10) }]);
  return b;
}

/** What identifies a lease in a snapshot comparison (the strategy travels with it). */
const rows = (leases: readonly Lease[]) => leases.map((l) => `${l.host} ${l.scope}/${l.name} ${l.protocol}/${l.port} ${l.ephemeral} ${l.pid} ${l.strategy}`).sort();

/** A snapshot of `leases` written by hand, as a file would hold it; with no `strategy`, as exports made before leases recorded it. */
function snapshotOf(leases: readonly Partial<Lease>[], host: string): Snapshot {
  const now = new Date().toISOString();
  const full = leases.map((l) => ({ host, protocol: 'tcp', purpose: null, pool: null, slot: null, ephemeral: false, pid: null, createdAt: now, updatedAt: now, ...l })) as Lease[];
  const scopes = [...new Set(full.map((l) => l.scope))].map((name) => ({ host, name, directory: null, createdAt: now }));
  return { format: 'berth-snapshot', version: 1, exportedAt: now, scopes, leases: full };
}

/** Registers the registry tests. */
export function registryContract(name: string, make: HarnessFactory): void {
  const test = labTest(make);

  describe(`${name}: registry`, () => {
    test('export: every scope and lease of this machine, or of one scope', async (lab) => {
      await seed(lab);
      const { host } = await lab.engine.info();
      const all = await lab.engine.registry.export({});
      assert.equal(all.format, 'berth-snapshot');
      assert.equal(all.version, 1);
      assert.ok(!Number.isNaN(Date.parse(all.exportedAt)));
      assert.deepEqual(rows(all.leases), rows(await lab.engine.leases.list({})));
      assert.deepEqual(all.scopes.map((s) => s.name).sort(), ['reg/a', 'reg/b']);
      assert.ok([...all.scopes, ...all.leases].every((row) => row.host === host), 'only this machine’s rows');
      const one = await lab.engine.registry.export({}, { scope: 'reg/a' });
      assert.deepEqual(namesOf(one.leases), ['reg/a/api', 'reg/a/web']);
      assert.deepEqual(one.scopes.map((s) => s.name), ['reg/a']);
      assert.deepEqual(JSON.parse(JSON.stringify(all)), all, 'plain JSON');
    });

    test('import: a round trip through reset, then unchanged; replace makes the store exactly the snapshot', async (lab) => {
      const b = await seed(lab);
      const before = await lab.engine.leases.list({});
      const snap = JSON.parse(JSON.stringify(await lab.engine.registry.export({})));
      await lab.engine.registry.reset({});
      assert.deepEqual(await lab.engine.registry.import({}, snap, { source: 'snap.json' }), { imported: 3, unchanged: 0, replaced: false });
      assert.deepEqual(rows(await lab.engine.leases.list({})), rows(before));
      assert.deepEqual([...new Set(before.map((l) => l.strategy))], ['range']);
      assert.deepEqual(await lab.engine.registry.import({}, snap), { imported: 0, unchanged: 3, replaced: false });

      await lab.engine.leases.allocate({ scope: 'reg/c' }, [{ name: 'extra', range: range(b + 10, 5) }]);
      const { host } = await lab.engine.info();
      const only = snapshotOf([{ scope: 'reg/z', name: 'solo', port: b + 15 }], host);
      assert.deepEqual(await lab.engine.registry.import({}, only, { replace: true }), { imported: 1, unchanged: 0, replaced: true });
      assert.deepEqual(namesOf(await lab.engine.leases.list({})), ['reg/z/solo']);
      assert.equal((await lab.engine.leases.get({ scope: 'reg/z' }, 'solo')).strategy, null, 'an export without strategies imports, the strategy unknown');
    });

    test('import is all or none: a conflicting row, a bad field or another machine’s row changes nothing', async (lab) => {
      const b = await seed(lab);
      const { host } = await lab.engine.info();
      const before = rows(await lab.engine.leases.list({}));
      const taken = (await lab.engine.leases.get({ scope: 'reg/a' }, 'web')).port;
      const conflicting = snapshotOf([{ scope: 'reg/n', name: 'fresh', port: b + 15 }, { scope: 'reg/n', name: 'clash', port: taken }], host);
      await fails(lab.engine.registry.import({}, conflicting), ConflictError, new RegExp(`port ${taken}/tcp.*reg/a/web`));
      const bad = snapshotOf([{ scope: 'reg/n', name: 'fresh', port: b + 15 }, { scope: 'reg/n', name: 'worse', port: 70000 }], host);
      await fails(lab.engine.registry.import({}, bad), UsageError, /leases\[1\]\.port/);
      const unknown = snapshotOf([{ scope: 'reg/n', name: 'fresh', port: b + 15 }, { scope: 'reg/n', name: 'odd', port: b + 16, strategy: 'lucky' }], host);
      await fails(lab.engine.registry.import({}, unknown), UsageError, /leases\[1\]\.strategy: must be one of fixed/);
      await fails(lab.engine.registry.import({}, snapshotOf([{ scope: 'reg/n', name: 'far', port: b + 16 }], `${host}-elsewhere`)), UsageError, /another host/);
      await fails(lab.engine.registry.import({}, { hello: 'world' }), UsageError, /not a berth snapshot/);
      await fails(lab.engine.registry.import({}, snapshotOf([{ scope: 'reg/n', name: 'x', port: b + 17 }, { scope: 'reg/n', name: 'y', port: b + 17 }], host)), ConflictError, /twice/);
      assert.deepEqual(rows(await lab.engine.leases.list({})), before);
    });

    test('gc: dead owners’ leases and scopes whose directory is gone; dry run changes nothing', async (lab) => {
      const b = await lab.band(10);
      const owner = await lab.owner();
      await lab.engine.leases.allocate({ scope: 'gc/eph' }, [{ name: 'tmp', range: range(b, 10) }], { ephemeral: true, pid: owner.pid });
      const projectDir = lab.bare('gone-proj');
      const [derived] = await lab.engine.leases.allocate({ dir: projectDir }, [{ name: 'web', range: range(b, 10) }]);
      assert.equal(derived!.scope, 'gone-proj');
      await lab.engine.leases.allocate({ scope: 'gc/named' }, [{ name: 'keep', range: range(b, 10) }]);
      assert.deepEqual(await lab.engine.registry.gc({}), { dryRun: false, deadLeases: [], goneScopes: [] }, 'nothing to collect yet');

      await owner.end();
      fs.rmSync(projectDir, { recursive: true });
      const dry = await lab.engine.registry.gc({}, { dryRun: true });
      assert.equal(dry.dryRun, true);
      assert.deepEqual(namesOf(dry.deadLeases), ['gc/eph/tmp']);
      assert.deepEqual(dry.goneScopes.map((s) => [s.scope, s.directory, namesOf(s.leases)]), [['gone-proj', projectDir, ['gone-proj/web']]]);
      assert.equal((await lab.engine.leases.list({})).length, 3, 'a dry run changes nothing');

      const done = await lab.engine.registry.gc({});
      assert.deepEqual(namesOf(done.deadLeases), ['gc/eph/tmp']);
      assert.deepEqual(done.goneScopes.map((s) => s.scope), ['gone-proj']);
      assert.deepEqual(namesOf(await lab.engine.leases.list({})), ['gc/named/keep']);
      assert.deepEqual((await lab.engine.registry.export({})).scopes.map((s) => s.name).sort(), ['gc/eph', 'gc/named'], 'the gone scope is forgotten');
    });

    test('a scope another engine released whole is recorded again when this engine allocates in it', async (lab, t) => {
      if (!lab.h.peer) return t.skip('this harness cannot open a second engine on the same store');
      const b = await lab.band(5);
      const peer = await lab.h.peer();
      const dir = lab.bare('twice');
      const req = [{ name: 'web', range: range(b, 5) }];
      await lab.engine.leases.allocate({ dir }, req);
      await peer.leases.release({ dir });
      await lab.engine.leases.allocate({ dir }, req);
      assert.deepEqual(
        (await lab.engine.registry.export({})).scopes.map((s) => [s.name, s.directory]),
        [['twice', dir]],
        'the scope row and its directory are back',
      );
      fs.rmSync(dir, { recursive: true });
      assert.deepEqual((await lab.engine.registry.gc({})).goneScopes.map((s) => s.scope), ['twice'], 'so gc collects it once its directory is gone');
      assert.deepEqual(await lab.engine.leases.list({}), []);
    });

    test('reset forgets every lease and scope of this machine; history stays; allocation works after', async (lab) => {
      const b = await seed(lab);
      const { host, location } = await lab.engine.info();
      const result = await lab.engine.registry.reset({});
      assert.deepEqual(result, { reset: true, store: location, host, leases: 3 });
      assert.deepEqual(await lab.engine.leases.list({}), []);
      assert.deepEqual((await lab.engine.registry.export({})).scopes, []);
      assert.ok((await lab.engine.registry.history({}, { scope: 'reg/a' })).length >= 2, 'history stays');
      assert.deepEqual((await lab.engine.leases.allocate({ scope: 'reg/a' }, [{ name: 'web', range: range(b, 10) }])).map((l) => l.port), [b]);
    });
  });
}

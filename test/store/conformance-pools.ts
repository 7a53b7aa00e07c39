/**
 * Store conformance, pool definitions and reset: definitions round-trip per host, and
 * reset(host) forgets one host's registry, records each removed lease, and keeps history.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PoolConfig, SetsPoolConfig } from '../../src/types.js';
import { seriesPool } from '../helpers/fixtures.js';
import { lease, useStore, type StoreFactory } from './conformance-kit.js';

const series = seriesPool('agents', { backend: 5001, frontend: 8001 }, { step: 2, slots: 10, urls: ['http://localhost:${frontend}/cb'] });
const sets: SetsPoolConfig = {
  kind: 'sets',
  name: 'apps',
  roles: ['web', 'db'],
  urls: [],
  protocol: 'udp',
  sets: [
    { web: 3000, db: 5432 },
    { web: 3001, db: 5433 },
  ],
};

/** Registers the pools and reset part of the suite. */
export function poolConformance(factory: StoreFactory): void {
  describe('pool definitions and reset', () => {
    const { write, read } = useStore(factory);

    it('saves pool definitions per host, reads them back equal, and replaces one saved again', async () => {
      await write(async (tx) => {
        await tx.savePool('h1', series);
        await tx.savePool('h1', sets);
      });
      assert.deepEqual(await read((tx) => tx.getPool('h1', 'agents')), series);
      assert.deepEqual(await read((tx) => tx.getPool('h1', 'apps')), sets);
      assert.deepEqual(await read((tx) => tx.listPools('h1')), [series, sets], 'ordered by name');
      assert.equal(await read((tx) => tx.getPool('h2', 'agents')), null);
      assert.deepEqual(await read((tx) => tx.listPools('h2')), []);
      const wider: PoolConfig = { ...series, slots: 20, roles: ['backend', 'frontend'] };
      await write((tx) => tx.savePool('h1', wider));
      assert.deepEqual(await read((tx) => tx.getPool('h1', 'agents')), wider);
      await assert.rejects(write(async (tx) => (await tx.savePool('h1', series), Promise.reject(new Error('boom')))), /boom/);
      assert.deepEqual(await read((tx) => tx.getPool('h1', 'agents')), wider, 'a rolled-back save leaves the definition');
    });

    it('reset(host) forgets that host\'s leases, scopes, scan hints and pools, recording each removed lease', async () => {
      for (const host of ['h1', 'h2']) {
        await write(async (tx) => {
          await tx.ensureScope(host, 'app1', `/work/${host}`);
          await tx.insertLease(lease({ host }));
          await tx.insertLease(lease({ host, name: 'be', port: 5001, pool: 'agents', slot: 0, ephemeral: true, pid: 7 }));
          await tx.setScanHint(host, 'tcp', 4000, 4001);
          await tx.savePool(host, series);
        });
      }
      const before = await read((tx) => tx.lastEventId());
      await write((tx) => tx.reset('h1'), { action: 'reset' });
      await read(async (tx) => {
        assert.deepEqual(await tx.listLeases({ host: 'h1' }), []);
        assert.deepEqual(await tx.listScopes('h1'), []);
        assert.equal(await tx.getScanHint('h1', 'tcp', 4000), null);
        assert.deepEqual(await tx.listPools('h1'), []);
        assert.equal(await tx.leaseAt('h1', 'tcp', 4000), null, 'the port is free again');
        assert.deepEqual((await tx.listLeases({ host: 'h2' })).map((l) => l.name), ['web', 'be']);
        assert.deepEqual((await tx.listScopes('h2')).map((s) => s.directory), ['/work/h2']);
        assert.equal(await tx.getScanHint('h2', 'tcp', 4000), 4001);
        assert.deepEqual(await tx.listPools('h2'), [series]);
        const removed = await tx.listEvents({ afterId: before });
        assert.deepEqual(removed.map((e) => `${e.host} ${e.action} ${e.change} ${e.name}:${e.port} ${e.ownerPid}`).sort(), [
          'h1 reset deleted be:5001 7',
          'h1 reset deleted web:4000 null',
        ]);
        assert.equal((await tx.listEvents({ afterId: 0 })).length, 6, 'events are history: reset keeps them');
      });
      // The host is usable again.
      await write((tx) => tx.insertLease(lease({ host: 'h1' })));
    });

    it('reset without an intent records a release', async () => {
      await write((tx) => tx.insertLease(lease()));
      await write((tx) => tx.reset('h1'));
      const [, event] = await read((tx) => tx.listEvents());
      assert.equal(event?.action, 'release');
      assert.equal(event?.change, 'deleted');
    });
  });
}

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openMemoryStore } from '../../src/store/memory/memory-store.js';
import { storeConformance } from './conformance.js';

storeConformance('memory', async (opts) => ({ store: openMemoryStore({ host: 'local', ...opts }), cleanup: async () => {} }));

describe('memory store', () => {
  it('names itself, and allocates on the host it is given', async () => {
    const store = openMemoryStore({ host: 'box-2' });
    assert.equal(store.kind, 'memory');
    assert.equal(store.location, 'memory');
    assert.equal(store.host, 'box-2');
    assert.equal(openMemoryStore().host, 'local');
    await store.close();
  });

  it('keeps each store apart', async () => {
    const a = openMemoryStore();
    const b = openMemoryStore();
    await a.transaction('write', (tx) => tx.savePool('local', { kind: 'sets', name: 'p', roles: [], urls: [], protocol: 'tcp', sets: [] }));
    assert.deepEqual(await b.transaction('read', (tx) => tx.listPools('local')), []);
    await Promise.all([a.close(), b.close()]);
  });
});

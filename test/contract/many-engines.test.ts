/**
 * Many engines on one SQLite file in one process: ten LocalEngines, each over its own
 * openSqliteStore of the same file, each for its own scope, allocate at the same time
 * from one shared band, with the real bind probe inside every allocation transaction.
 * Every allocation must succeed, and afterwards the file holds exactly one lease per
 * (scope, name), on distinct ports: none lost, none duplicated.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { LocalEngine } from '../../src/core/local-engine.js';
import { localMachine } from '../../src/os/machine.js';
import { openSqliteStore } from '../../src/store/sqlite-store.js';
import type { Lease } from '../../src/types.js';
import { Lab, TEST_TIMEOUT_MS } from './support.js';

const ENGINES = 10;
const NAMES = ['web', 'api', 'db', 'cache', 'worker'];

describe('many engines on one SQLite store, in one process', () => {
  it(`${ENGINES} engines with ${ENGINES} scopes allocate at the same time: all succeed, no lease lost or duplicated`, { timeout: TEST_TIMEOUT_MS }, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-many-engines-'));
    const file = path.join(dir, 'berth.db');
    const engines = Array.from({ length: ENGINES }, () => new LocalEngine({ store: openSqliteStore(file), machine: localMachine, cwd: dir, env: {} }));
    try {
      // A quiet band big enough for every lease, so the engines compete for its first ports.
      const lab = new Lab({ engine: engines[0]!, dir, real: true, cleanup: async () => {} });
      const size = ENGINES * NAMES.length + 20;
      const start = await lab.band(size);
      const band = { start, end: start + size - 1 };

      const results = await Promise.allSettled(
        engines.map((engine, i) => engine.leases.allocate({ scope: `many/ws-${i}` }, NAMES.map((name) => ({ name, strategy: 'range' as const, range: band })))),
      );
      const failures = results.flatMap((r, i) => (r.status === 'rejected' ? [`ws-${i}: ${(r.reason as Error).message}`] : []));
      assert.deepEqual(failures, [], 'every engine allocated');
      for (const [i, r] of results.entries()) {
        const leases = (r as PromiseFulfilledResult<Lease[]>).value;
        assert.deepEqual(leases.map((l) => `${l.scope}/${l.name}`), NAMES.map((n) => `many/ws-${i}/${n}`));
      }

      const listed = await engines[0]!.leases.list({});
      assert.equal(listed.length, ENGINES * NAMES.length, 'one lease per scope and name');
      assert.equal(new Set(listed.map((l) => `${l.scope}/${l.name}`)).size, listed.length, 'no (scope, name) twice');
      assert.equal(new Set(listed.map((l) => l.port)).size, listed.length, 'every port distinct');
      for (const l of listed) assert.ok(l.port >= band.start && l.port <= band.end, `${l.scope}/${l.name} on ${l.port} lies in the band`);
      for (let i = 0; i < ENGINES; i++) {
        const mine = await engines[i]!.leases.list({}, { scope: `many/ws-${i}` });
        assert.deepEqual(mine.map((l) => l.name).sort(), [...NAMES].sort(), `ws-${i} sees its own leases`);
      }
      // Every lease the engines returned is the one the store kept.
      const returned = results.flatMap((r) => (r as PromiseFulfilledResult<Lease[]>).value);
      const kept = new Map(listed.map((l) => [`${l.scope}/${l.name}`, l.port]));
      for (const l of returned) assert.equal(kept.get(`${l.scope}/${l.name}`), l.port, `${l.scope}/${l.name}`);
    } finally {
      await Promise.allSettled(engines.map((e) => e.close()));
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

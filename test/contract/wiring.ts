/**
 * Contract: wiring data. The variables and URLs of a scope, from its leases and berth.yaml.
 */
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { UsageError } from '../../src/errors.js';
import { fails, labTest, type HarnessFactory } from './support.js';

/** Registers the wiring tests. */
export function wiringContract(name: string, make: HarnessFactory): void {
  const test = labTest(make);

  describe(`${name}: wiring`, () => {
    test('env and urls: one variable per lease (or the service’s env:), URLs for services that speak HTTP', async (lab) => {
      const b = await lab.band(5);
      const dir = lab.project('wire', `project: wire\nbase: ${b}\nservices:\n  app:\n    http: true\n  db:\n    env: DATABASE_PORT\n    http: false\n`);
      await lab.engine.leases.allocate({ dir });
      const vars = await lab.engine.wiring.env({ dir });
      assert.deepEqual(vars.map((v) => [v.name, v.value, v.lease.name]), [
        ['APP_PORT', String(b), 'app'],
        ['DATABASE_PORT', String(b + 1), 'db'],
      ]);
      assert.deepEqual((await lab.engine.wiring.env({ dir }, { urls: true, host: '127.0.0.1' })).map((v) => [v.name, v.value]), [
        ['APP_PORT', String(b)],
        ['APP_URL', `http://127.0.0.1:${b}`],
        ['DATABASE_PORT', String(b + 1)],
      ]);
      assert.deepEqual(await lab.engine.wiring.urls({ dir }), [{ name: 'app', url: `http://localhost:${b}`, pool: null, slot: null }]);
      assert.deepEqual(await lab.engine.wiring.env({ dir, scope: 'wire/empty' }), [], 'a scope without leases has no variables');
      await fails(lab.engine.wiring.env({ dir }, { urls: true, host: '' }), UsageError, /host/);
    });
  });
}

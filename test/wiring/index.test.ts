import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as wiring from '../../src/wiring/index.js';
import { lease, service } from '../helpers/fixtures.js';

test('every renderer gives the same variables from the same leases', () => {
  const leases = [lease('web', 3000), lease('postgres', 5433, { pool: 'stack', slot: 0 }), lease('admin', 8002, { pool: 'stack', slot: 0 })];
  const vars = wiring.leaseVariables(leases, [service('web', { env: 'PORT' })], { urls: true });
  const expected = wiring.envObject(vars);
  assert.deepEqual(expected, {
    PORT: '3000',
    WEB_URL: 'http://localhost:3000',
    POSTGRES_PORT: '5433',
    ADMIN_PORT: '8002',
    ADMIN_URL: 'http://localhost:8002',
  });
  assert.deepEqual(JSON.parse(wiring.renderJson(vars)), expected);
  const names = Object.keys(expected);
  const dump = names.map((n) => `printf '%s=%s\\n' ${n} "$${n}"`).join('; ');
  for (const text of [wiring.renderShell(vars), wiring.renderDotenv(vars), wiring.renderComposeEnvFile(vars), wiring.mergeDotenv('# mine\nX=1\n', vars)]) {
    const out = execFileSync('sh', ['-c', `set -a; eval "$1"; ${dump}`, 'sh', text], { encoding: 'utf8', timeout: 10_000 });
    assert.deepEqual(Object.fromEntries(out.trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)])), expected);
  }
});

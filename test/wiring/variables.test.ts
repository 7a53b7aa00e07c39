import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UsageError } from '../../src/errors.js';
import { envVarName, isValidEnvName } from '../../src/wiring/env-name.js';
import { speaksHttp } from '../../src/wiring/http.js';
import { leaseVariables } from '../../src/wiring/variables.js';
import { lease, service } from '../helpers/fixtures.js';

test('envVarName makes upper snake case names', () => {
  assert.equal(envVarName('http-server'), 'HTTP_SERVER');
  assert.equal(envVarName('web.api'), 'WEB_API');
  assert.equal(envVarName('web'), 'WEB');
  assert.equal(envVarName('9front'), '_9FRONT');
  assert.equal(envVarName('webApi'), 'WEB_API');
  assert.equal(envVarName('a--b__c'), 'A_B_C');
  assert.equal(envVarName('-web-'), 'WEB');
  assert.equal(envVarName('café'), 'CAFE');
  assert.throws(() => envVarName('---'), UsageError);
  for (const n of ['http-server', '9front', 'x.y.z', 'Ünïcode']) assert.ok(isValidEnvName(envVarName(n)));
});

test('speaksHttp: config decides, else whole-word guess where databases win', () => {
  for (const n of ['web', 'api', 'frontend', 'admin-ui', 'docs', 'my-app', 'backendServer']) assert.equal(speaksHttp(n, null), true, n);
  for (const n of ['postgres', 'redis', 'mysql', 'mongo', 'redis-server', 'db', 'webapp', 'worker']) assert.equal(speaksHttp(n, null), false, n);
  assert.equal(speaksHttp('postgres', service('postgres', { http: true })), true);
  assert.equal(speaksHttp('web', service('web', { http: false })), false);
});

test("leaseVariables: _PORT per lease in berth.yaml's order (then the rest), env: override, _URL for HTTP services", () => {
  const leases = [lease('web', 3000), lease('postgres', 5432), lease('http-server', 8080), lease('cache', 6379)];
  const services = [service('postgres', { env: 'DATABASE_PORT' }), service('cache', { http: true })];
  const vars = leaseVariables(leases, services, { urls: true });
  assert.deepEqual(
    vars.map((v) => [v.name, v.value]),
    [
      ['DATABASE_PORT', '5432'],
      ['CACHE_PORT', '6379'],
      ['CACHE_URL', 'http://localhost:6379'],
      ['WEB_PORT', '3000'],
      ['WEB_URL', 'http://localhost:3000'],
      ['HTTP_SERVER_PORT', '8080'],
      ['HTTP_SERVER_URL', 'http://localhost:8080'],
    ],
  );
  assert.equal(vars[0]!.lease.name, 'postgres');
  assert.deepEqual(leaseVariables(leases, services).map((v) => v.name), ['DATABASE_PORT', 'CACHE_PORT', 'WEB_PORT', 'HTTP_SERVER_PORT']);
  assert.equal(leaseVariables([lease('web', 80)], [], { urls: true, host: '::1' })[1]!.value, 'http://[::1]:80');
  assert.equal(leaseVariables([lease('web', 80)], [], { urls: true, host: 'dev.box' })[1]!.value, 'http://dev.box:80');
});

test('leaseVariables: pool leases are named by role; UDP gets no URL', () => {
  const leases = [
    lease('postgres', 5433, { pool: 'stack', slot: 0 }),
    lease('admin', 8002, { pool: 'stack', slot: 0 }),
    lease('api', 9999, { protocol: 'udp' }),
  ];
  // env: of a services: entry named like a role names the role's variable (issue 10 item 4); nothing else of it applies.
  const vars = leaseVariables(leases, [service('admin', { env: 'ADMIN_UI_PORT', http: false })], { urls: true });
  assert.deepEqual(vars.map((v) => `${v.name}=${v.value}`), ['POSTGRES_PORT=5433', 'ADMIN_UI_PORT=8002', 'ADMIN_URL=http://localhost:8002', 'API_PORT=9999']);
});

test('leaseVariables: two leases on one variable is a UsageError naming both', () => {
  assert.throws(
    () => leaseVariables([lease('web-api', 1000), lease('web.api', 1001)], []),
    (e: unknown) => e instanceof UsageError && /web-api/.test(e.message) && /web\.api/.test(e.message) && /WEB_API_PORT/.test(e.message),
  );
  assert.throws(() => leaseVariables([lease('db', 1), lease('postgres', 2, { pool: 'p', slot: 0 })], [service('db', { env: 'POSTGRES_PORT' })]), UsageError);
  assert.throws(() => leaseVariables([lease('db', 1)], [service('db', { env: 'BAD-NAME' })]), UsageError);
});

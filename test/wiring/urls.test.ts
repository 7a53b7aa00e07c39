import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UsageError } from '../../src/errors.js';
import { expandUrlTemplate, poolUrls, scopeUrls } from '../../src/wiring/urls.js';
import { lease, seriesPool, service } from '../helpers/fixtures.js';

test('expandUrlTemplate fills ${role} placeholders', () => {
  assert.equal(expandUrlTemplate('http://localhost:${admin}/callback', { admin: 8002 }), 'http://localhost:8002/callback');
  assert.equal(expandUrlTemplate('http://a:${ web }/x?b=${api}&c=${web}', { web: 1, api: 2 }), 'http://a:1/x?b=2&c=1');
  assert.equal(expandUrlTemplate('http://no-placeholders/', {}), 'http://no-placeholders/');
});

test('expandUrlTemplate: unknown role is a UsageError naming it', () => {
  assert.throws(
    () => expandUrlTemplate('http://localhost:${amdin}/cb', { admin: 8002, mcp: 8081 }),
    (e: unknown) => e instanceof UsageError && /"amdin"/.test(e.message) && /admin, mcp/.test(e.message),
  );
  assert.throws(() => expandUrlTemplate('${toString}', {}), UsageError);
});

test('poolUrls for a 10-slot series pool lists 10 URLs in slot order', () => {
  const pool = seriesPool('stack', { postgres: 5433, mcp: 8081, admin: 8002 }, { step: 2, slots: 10, urls: ['http://localhost:${admin}/callback'] });
  const slots = Array.from({ length: 10 }, (_, k) =>
    Object.fromEntries(Object.entries(pool.ports).map(([role, base]) => [role, base + pool.step * k])),
  );
  const urls = poolUrls(pool, slots);
  assert.equal(urls.length, 10);
  assert.deepEqual(urls, Array.from({ length: 10 }, (_, k) => `http://localhost:${8002 + 2 * k}/callback`));
  const two = poolUrls({ ...pool, urls: ['http://localhost:${admin}/cb', 'http://localhost:${mcp}/mcp'] }, slots.slice(0, 2));
  assert.deepEqual(two, ['http://localhost:8002/cb', 'http://localhost:8081/mcp', 'http://localhost:8004/cb', 'http://localhost:8083/mcp']);
  assert.throws(() => poolUrls({ ...pool, urls: ['http://localhost:${web}/'] }, slots), UsageError);
});

test("scopeUrls lists HTTP services and the held pool slot, in berth.yaml's order (services, pool slots, the rest)", () => {
  const pool = seriesPool('stack', { postgres: 5433, admin: 8002 }, { urls: ['http://localhost:${admin}/callback'] });
  const leases = [
    lease('web', 3000),
    lease('postgres', 5433 + 4, { pool: 'stack', slot: 4 }),
    lease('admin', 8002 + 4, { pool: 'stack', slot: 4 }),
    lease('redis', 6379),
    lease('metrics', 9100),
  ];
  assert.deepEqual(scopeUrls(leases, [service('metrics', { http: true })], [pool], { host: '127.0.0.1' }), [
    { name: 'metrics', url: 'http://127.0.0.1:9100', pool: null, slot: null },
    { name: 'stack', url: 'http://localhost:8006/callback', pool: 'stack', slot: 4 },
    { name: 'web', url: 'http://127.0.0.1:3000', pool: null, slot: null },
  ]);
  assert.deepEqual(scopeUrls(leases, [], []).map((u) => u.url), ['http://localhost:3000']);
});

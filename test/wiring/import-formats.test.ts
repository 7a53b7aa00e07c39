/**
 * The seeds' registry files read purely (wiring/import-formats.ts): each format's shape,
 * and errors that name the file and the field.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseImport, parseImportFormat } from '../../src/wiring/import-formats.js';

const fails = (fn: () => unknown, re: RegExp) => assert.throws(fn, (e: unknown) => e instanceof Error && re.test(e.message));

test('conductor: role names from *_port keys, a reserved set by value or index, an even series as ports/step', () => {
  const sets = [0, 1, 2].map((k) => ({ postgres_port: 5433 + k, MCP_PORT: 8081 + k, adminUiPort: 8002 + k }));
  const r = parseImport('conductor', JSON.stringify({ available_port_sets: sets, reserved_ports: { a: sets[2], b: 0 } }), 'c.json');
  assert.deepEqual(r.leases.map((l) => [l.scope, l.name, l.port, l.pool, l.slot]), [
    ['a', 'postgres', 5435, 'conductor', 2], ['a', 'mcp', 8083, 'conductor', 2], ['a', 'admin_ui', 8004, 'conductor', 2],
    ['b', 'postgres', 5433, 'conductor', 0], ['b', 'mcp', 8081, 'conductor', 0], ['b', 'admin_ui', 8002, 'conductor', 0],
  ]);
  assert.deepEqual(r.pools, [{ name: 'conductor', kind: 'series', ports: { postgres: 5433, mcp: 8081, admin_ui: 8002 }, step: 1, slots: 3 }]);
  const uneven = parseImport('conductor', JSON.stringify({ available_port_sets: [{ a: 1000 }, { a: 1005 }, { a: 1007 }] }), 'c.json');
  assert.equal(uneven.pools[0]!.kind, 'sets');
});

test('conductor errors name the field', () => {
  fails(() => parseImport('conductor', '{"available_port_sets":[{"a":1},{"b":2}]}', 'c.json'), /^c\.json: available_port_sets\[1\]: every set needs the roles of the first \(a\)/);
  fails(() => parseImport('conductor', '{"available_port_sets":[{"a":1}],"reserved_ports":{"x":{"a":9}}}', 'c.json'), /reserved_ports\.x: this set .* is not one of available_port_sets/);
  fails(() => parseImport('conductor', '{"available_port_sets":[{"a":1}],"reserved_ports":{"x":0,"y":0}}', 'c.json'), /reserved_ports\.y: set 0 is reserved by x too/);
});

test('udos: list or mapping; description becomes purpose', () => {
  const list = parseImport('udos', '{"services":[{"name":"wizard","port":8765,"description":"W","process_name":"python","enabled":false}]}', 'r.json');
  assert.deepEqual(list.leases, [{ scope: null, name: 'wizard', port: 8765, purpose: 'W', pool: null, slot: null }]);
  assert.equal(list.services[0]!.enabled, false);
  const map = parseImport('udos', '{"services":{"api":{"port":"8000"}}}', 'r.json');
  assert.equal(map.leases[0]!.port, 8000);
  fails(() => parseImport('udos', '{"services":[{"port":1}]}', 'r.json'), /r\.json: services\[0\]\.name: expected the service name/);
});

test('sequential: flat or nested, purposes, base and next', () => {
  const flat = parseImport('sequential', '{"web":4000,"db":{"port":4001,"purpose":"DB"},"next_port":4002}', 'p.json');
  assert.deepEqual(flat.leases.map((l) => [l.name, l.port, l.purpose]), [['web', 4000, null], ['db', 4001, 'DB']]);
  assert.equal(flat.next, 4002);
  const nested = parseImport('sequential', '{"assignments":{"web":4000},"base_port":4000}', 'p.json');
  assert.equal(nested.base, 4000);
  fails(() => parseImport('sequential', '{"assignments":{"web":"x"}}', 'p.json'), /p\.json: assignments\.web: expected a port/);
});

test('pairs: rows on one series become slots; a pair off the series is refused', () => {
  const r = parseImport('pairs', JSON.stringify([{ model: 'm', app_num: 1, backend_port: 5001, frontend_port: 8001 }, { model: 'm', app_num: 3, backend_port: 5005, frontend_port: 8005 }]), 'p.json');
  assert.deepEqual(r.leases.map((l) => [l.scope, l.name, l.slot]), [['m/app1', 'backend', 0], ['m/app1', 'frontend', 0], ['m/app3', 'backend', 2], ['m/app3', 'frontend', 2]]);
  assert.deepEqual(r.pools, [{ name: 'pairs', kind: 'series', ports: { backend: 5001, frontend: 8001 }, step: 2, slots: null }]);
  const odd = parseImport('pairs', '{"m/app1":{"backend":5001,"frontend":8001},"m/app2":{"backend":5004,"frontend":8004}}', 'p.json');
  assert.equal((odd.pools[0] as { step: number }).step, 3);
  fails(() => parseImport('pairs', '{"m/app1":{"backend":5001,"frontend":8001},"m/app2":{"backend":5003,"frontend":8009}}', 'p.json'), /p\.json: m\/app2: backend 5003 and frontend 8009 are not a pair/);
});

test('formats and JSON', () => {
  assert.equal(parseImportFormat('udos'), 'udos');
  fails(() => parseImportFormat('x'), /unknown import format 'x'/);
  fails(() => parseImport('udos', '{', 'r.json'), /r\.json is not valid JSON/);
  fails(() => parseImport('udos', '[]', 'r.json'), /r\.json: \(top level\): expected a JSON object/);
});

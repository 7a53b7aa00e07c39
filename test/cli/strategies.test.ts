/**
 * Every strategy and both pool shapes, through the built CLI as a user runs it.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stableHash } from '../../src/core/strategy.js';
import type { Lease } from '../../src/types.js';
import { berth, json, tempDir } from '../helpers/cli.js';

let dir: string;
let cleanup: () => void;
let db: string;

function project(name: string, yaml: string): string {
  const p = path.join(dir, name);
  fs.mkdirSync(p, { recursive: true });
  fs.writeFileSync(path.join(p, 'berth.yaml'), yaml);
  return p;
}

function allocate(cwd: string, args: string[]): Lease[] {
  const res = berth(['allocate', ...args, '--json'], { cwd, db });
  assert.equal(res.code, 0, res.stderr);
  return json<Lease[]>(res);
}

const ports = (leases: Lease[]) => leases.map((l) => l.port);

/** Whether this machine lets us bind the port right now (the test adapts to a busy CI box). */
function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen({ port, host: '0.0.0.0', exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

describe('strategies through the CLI', () => {
  before(() => {
    ({ dir, cleanup } = tempDir());
    db = path.join(dir, 'berth.db');
  });
  after(() => cleanup());

  it('sequential: from base upward as services are added, idempotent', () => {
    const p = project('seq', 'project: seq\nbase: 24200\nservices:\n  web:\n  api:\n  worker:\n');
    assert.deepEqual(ports(allocate(p, [])), [24200, 24201, 24202]);
    assert.deepEqual(ports(allocate(p, [])), [24200, 24201, 24202], 'get-or-allocate returns the same leases');
    assert.deepEqual(ports(allocate(p, ['extra'])), [24203]);
    const leases = allocate(p, ['web']);
    assert.equal(leases[0]!.scope, 'seq');
    assert.equal(leases[0]!.name, 'web');
    for (const key of ['scope', 'name', 'port', 'protocol', 'purpose', 'pool', 'slot', 'ephemeral', 'pid', 'createdAt']) assert.ok(key in leases[0]!, key);
  });

  it('fixed: the configured port, or a clear error naming the lease that holds it', () => {
    const a = project('fixed-a', 'services:\n  web: 24301\n');
    const b = project('fixed-b', 'services:\n  web:\n    port: 24301\n');
    assert.deepEqual(ports(allocate(a, [])), [24301]);
    const res = berth(['allocate'], { cwd: b, db });
    assert.equal(res.code, 4);
    assert.match(res.stderr, /24301.*fixed-a\/web/);
    assert.match(res.stderr, /berth release web --scope fixed-a/);
  });

  it('preferred: the preferred port, then the next free one in its category', () => {
    const yaml = 'ranges:\n  mine: 24400-24409\nservices:\n  svc:\n    prefer: 24400\n    category: mine\n';
    const a = project('pref-a', yaml);
    const b = project('pref-b', yaml);
    assert.deepEqual(ports(allocate(a, [])), [24400]);
    assert.deepEqual(ports(allocate(b, [])), [24401]);
    assert.deepEqual(ports(allocate(b, ['other', '--prefer', '24400', '--category', 'mine'])), [24402]);
  });

  it('preferred: well-known names get their customary port, or one in their category', async () => {
    const p = project('pg', 'project: pg\n');
    // Other tests may hold 5432 for a moment: only expect 5432 when it was free on both sides.
    const freeBefore = await bindable(5432);
    const [pg] = allocate(p, ['postgres']);
    const freeAfter = pg!.port === 5432 || (await bindable(5432));
    if (freeBefore && freeAfter) assert.equal(pg!.port, 5432);
    else assert.ok(pg!.port >= 5432 && pg!.port <= 5999, `5432 or a fallback in the database category, got ${pg!.port}`);
    const [redis] = allocate(p, ['redis']);
    assert.ok(redis!.port === 6379 || (redis!.port >= 6000 && redis!.port <= 6999));
  });

  it('range: first free port in the band; exit 3 when it is full, nothing half-done', () => {
    const p = project('rng', 'project: rng\n');
    assert.deepEqual(ports(allocate(p, ['a', 'b', 'c', '--range', '24500-24502'])), [24500, 24501, 24502]);
    const before = berth(['list', '--json', '--scope', 'rng'], { cwd: p, db }).stdout;
    const full = berth(['allocate', 'd', 'e', '--range', '24500-24503'], { cwd: p, db });
    assert.equal(full.code, 3);
    assert.match(full.stderr, /no free tcp port in 24500-24503/);
    assert.match(full.stderr, /Widen the range/);
    assert.equal(berth(['list', '--json', '--scope', 'rng'], { cwd: p, db }).stdout, before, 'd was not kept when e failed');
  });

  it('category: first free port in a configured category', () => {
    const p = project('cat', 'project: cat\nranges:\n  api: 24600-24699\n');
    assert.deepEqual(ports(allocate(p, ['x', 'y', '--category', 'api'])), [24600, 24601]);
  });

  it('hash: a stable port from scope/name, the same in a fresh store, probing on collision', () => {
    const p = project('hash', 'project: hash\n');
    const expected = 25000 + (stableHash('hash/web') % 1000);
    const [web] = allocate(p, ['web', '--strategy', 'hash', '--range', '25000-25999']);
    assert.equal(web!.port, expected);
    const other = path.join(dir, 'other.db');
    const again = berth(['allocate', 'web', '--strategy', 'hash', '--range', '25000-25999', '--json'], { cwd: p, db: other });
    assert.equal(json<Lease[]>(again)[0]!.port, expected, 'same port in another store');
    // Occupy that port in a fresh store under another name: the hash probes to the next one.
    const third = path.join(dir, 'third.db');
    berth(['allocate', 'squatter', '--port', String(expected), '--scope', 'x'], { cwd: p, db: third });
    const probed = json<Lease[]>(berth(['allocate', 'web', '--strategy', 'hash', '--range', '25000-25999', '--json'], { cwd: p, db: third }));
    assert.equal(probed[0]!.port, expected === 25999 ? 25000 : expected + 1);
  });

  it('every lease records the strategy that chose its port, shown by list --json; a reassign records how it moved', () => {
    const p = project(
      'recorded',
      'base: 24800\nservices:\n  web: 24810\n  api:\n    strategy: sequential\n  cache:\n    strategy: hash\n    range: 24820-24829\n  worker:\n    range: 24830-24839\n  queue:\n    prefer: 24840\n',
    );
    const cachePort = allocate(p, []).find((l) => l.name === 'cache')!.port;
    const strategies = () => Object.fromEntries(json<Lease[]>(berth(['list', '--scope', 'recorded', '--json'], { cwd: p, db })).map((l) => [l.name, l.strategy]));
    assert.deepEqual(strategies(), { web: 'fixed', api: 'sequential', cache: 'hash', worker: 'range', queue: 'preferred' });
    // A port the person names is their choice (fixed); without one, berth walks the band (range).
    assert.equal(berth(['reassign', 'cache', String(cachePort === 24828 ? 24827 : 24828)], { cwd: p, db }).code, 0);
    assert.equal(berth(['reassign', 'api'], { cwd: p, db }).code, 0);
    assert.deepEqual(strategies(), { web: 'fixed', api: 'range', cache: 'fixed', worker: 'range', queue: 'preferred' });
  });

  it('udp leases are a separate namespace', () => {
    const p = project('udp', 'project: udp\n');
    const [t] = allocate(p, ['dns-tcp', '--port', '24700']);
    const [u] = allocate(p, ['dns-udp', '--port', '24700', '--protocol', 'udp']);
    assert.equal(t!.port, u!.port);
    assert.equal(u!.protocol, 'udp');
  });
});

describe('pools through the CLI', () => {
  before(() => {
    ({ dir, cleanup } = tempDir());
    db = path.join(dir, 'berth.db');
  });
  after(() => cleanup());

  const POOLS = [
    'pools:',
    '  apps:',
    '    ports: { backend: 25001, frontend: 28001 }',
    '    step: 2',
    '  agents:',
    '    ports: { postgres: 25433, mcp: 28081 }',
    '    slots: 2',
    '    urls: ["http://localhost:${mcp}/callback"]',
    '  fixed:',
    '    sets:',
    '      - { web: 26001, db: 26002 }',
    '      - { web: 26011, db: 26012 }',
    '',
  ].join('\n');

  it('open-ended series with step 2: app1 5001/8001, app2 5003/8003, ...', () => {
    const p = project('series', POOLS);
    for (let k = 0; k < 3; k++) {
      const res = berth(['reserve', '--pool', 'apps', '--scope', `app${k + 1}`, '--json'], { cwd: p, db });
      assert.equal(res.code, 0, res.stderr);
      const slot = json<Lease[]>(res);
      assert.deepEqual(slot.map((l) => [l.name, l.port, l.pool, l.slot]), [
        ['backend', 25001 + 2 * k, 'apps', k],
        ['frontend', 28001 + 2 * k, 'apps', k],
      ]);
    }
    assert.deepEqual(json<Lease[]>(berth(['list', '--scope', 'app1', '--json'], { cwd: p, db })).map((l) => l.strategy), ['pool', 'pool'], 'a slot\'s ports are the pool\'s');
    const again = json<Lease[]>(berth(['reserve', '--pool', 'apps', '--scope', 'app2', '--json'], { cwd: p, db }));
    assert.equal(again[0]!.slot, 1, 'reserving twice returns the slot already held');
  });

  it('bounded series: a full pool exits 3 naming who holds the slots; a release frees one', () => {
    const p = project('bounded', POOLS);
    for (const scope of ['ws-1', 'ws-2']) assert.equal(berth(['reserve', '--pool', 'agents', '--scope', scope], { cwd: p, db }).code, 0);
    const full = berth(['reserve', '--pool', 'agents', '--scope', 'ws-3'], { cwd: p, db });
    assert.equal(full.code, 3);
    assert.match(full.stderr, /pool agents has no free slot/);
    assert.match(full.stderr, /slot 0: ws-1, slot 1: ws-2/);
    assert.match(full.stderr, /berth release --scope ws-1/);
    const status = json<{ name: string; used: number; free: number }[]>(berth(['pools', '--json'], { cwd: p, db }));
    assert.deepEqual(status.find((s) => s.name === 'agents'), {
      ...status.find((s) => s.name === 'agents'),
      used: 2,
      free: 0,
    });
    assert.equal(berth(['release', '--scope', 'ws-1'], { cwd: p, db }).code, 0);
    const got = json<Lease[]>(berth(['reserve', '--pool', 'agents', '--scope', 'ws-3', '--json'], { cwd: p, db }));
    assert.deepEqual(ports(got), [25433, 28081]);
    const text = berth(['pools'], { cwd: p, db }).stdout;
    assert.match(text, /agents: 2 used, 0 free of 2/);
    assert.match(text, /ws-3/);
  });

  it('explicit sets: whole sets, all or none, skipping a set whose port is leased elsewhere', () => {
    const p = project('sets', POOLS);
    // Someone else holds 26002 (the db of set 0; a pool's port is had only with --force): set 0 is skipped whole.
    assert.equal(berth(['allocate', 'squat', '--port', '26002', '--scope', 'other'], { cwd: p, db }).code, 4, 'a pool port is refused to a fixed lease');
    assert.equal(berth(['allocate', 'squat', '--port', '26002', '--force', '--scope', 'other'], { cwd: p, db }).code, 0);
    const slot = json<Lease[]>(berth(['reserve', '--pool', 'fixed', '--scope', 's1', '--json'], { cwd: p, db }));
    assert.deepEqual(slot.map((l) => [l.name, l.port, l.slot]), [
      ['web', 26011, 1],
      ['db', 26012, 1],
    ]);
    const none = berth(['reserve', '--pool', 'fixed', '--scope', 's2'], { cwd: p, db });
    assert.equal(none.code, 3);
    assert.equal(json<Lease[]>(berth(['list', '--scope', 's2', '--json'], { cwd: p, db })).length, 0, 'no partial slot');
  });

  it('reserve without --pool needs exactly one pool', () => {
    const one = project('one-pool', 'pools:\n  only:\n    ports: { a: 26101 }\n');
    assert.deepEqual(ports(json<Lease[]>(berth(['reserve', '--json'], { cwd: one, db }))), [26101]);
    const many = project('many-pools', POOLS);
    const res = berth(['reserve'], { cwd: many, db });
    assert.equal(res.code, 2);
    assert.match(res.stderr, /--pool NAME/);
  });
});

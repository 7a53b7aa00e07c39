/**
 * The Conductor seed (shared/seeds/000): 10 port sets of postgres, MCP server and admin UI
 * (the admin UI ports are OAuth-approved callback URLs). Pool ports belong to their pool
 * (issue 10 item 1): no other strategy hands one out, `free` skips them, `reserved:` never
 * blocks the pool's own ports, and a named port of a pool is refused without --force.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Lease } from '../../src/types.js';
import { berth, json, tempDir } from '../helpers/cli.js';

let dir: string;
let cleanup: () => void;
let db: string;

const CONDUCTOR_YAML = [
  'project: conductor',
  'ranges:',
  '  api: 8000-8099',
  '  database: 5400-5499',
  'reserved: [8002]', // the admin UI of set 0, kept from everything else as the team did by hand
  'pools:',
  '  conductor:',
  '    ports: { postgres: 5433, mcp: 8081, admin: 8002 }',
  '    slots: 10',
  '    urls: ["http://localhost:${admin}/callback"]',
  '',
].join('\n');

const ok = (args: string[], cwd = dir) => {
  const res = berth(args, { cwd, db });
  assert.equal(res.code, 0, `berth ${args.join(' ')}: exit ${res.code}\n${res.stderr}`);
  return res;
};

describe('Conductor: pool ports belong to their pool', () => {
  before(() => {
    ({ dir, cleanup } = tempDir());
    db = path.join(dir, 'berth.db');
    fs.writeFileSync(path.join(dir, 'berth.yaml'), CONDUCTOR_YAML);
  });
  after(() => cleanup());

  it('category allocations skip every port of the pool', () => {
    const leases = json<Lease[]>(ok(['allocate', 'a1', 'a2', 'a3', '--category', 'api', '--scope', 'other', '--json']));
    const pool = new Set([...Array(10).keys()].flatMap((k) => [8002 + k, 8081 + k]));
    for (const l of leases) assert.ok(!pool.has(l.port), `${l.name} got pool port ${l.port}`);
  });

  it('a preferred pool port falls back; a fixed one is refused with the pool named; --force takes it', () => {
    const [pref] = json<Lease[]>(ok(['allocate', 'pg', '--prefer', '5433', '--scope', 'other', '--json']));
    // It falls back in the band that holds 5433 (database, 5400-5499), past the pool's ports.
    assert.ok(pref!.port >= 5400 && pref!.port <= 5499, `fell back outside the database band: ${pref!.port}`);
    assert.ok(pref!.port < 5433 || pref!.port > 5442, `fell back onto another set's port ${pref!.port}`);
    const fixed = berth(['allocate', 'ui', '--port', '8003', '--scope', 'other'], { cwd: dir, db });
    assert.equal(fixed.code, 4, fixed.stderr);
    assert.match(fixed.stderr, /port 8003 .* belongs to pool conductor/);
    ok(['allocate', 'ui', '--port', '8011', '--force', '--scope', 'other']);
  });

  it('free skips pool ports', () => {
    const free = ok(['free', '--from', '8000', '--count', '10']).stdout.trim().split('\n').map(Number);
    for (const p of free) assert.ok(!((p >= 8002 && p <= 8011) || (p >= 8081 && p <= 8090)), `free listed pool port ${p}`);
  });

  it('reserved: does not block the pool itself; the slot forced away above is skipped', () => {
    const pools = json<{ detail: { slot: number; scope: string | null }[]; used: number }[]>(ok(['pools', '--json']));
    assert.equal(pools[0]!.used, 0, 'no slot is used before anyone reserves');
    const slot0 = json<Lease[]>(ok(['reserve', '--scope', 'ws-1', '--json']));
    assert.deepEqual(slot0.map((l) => `${l.name}:${l.port}`), ['postgres:5433', 'mcp:8081', 'admin:8002']);
    // Slot 9's admin port 8011 was taken with --force by a lease of another scope: slot 9 is never handed out while it is.
    for (let i = 2; i <= 9; i++) ok(['reserve', '--scope', `ws-${i}`]);
    const full = berth(['reserve', '--scope', 'ws-10'], { cwd: dir, db });
    assert.equal(full.code, 3, full.stderr);
  });
});

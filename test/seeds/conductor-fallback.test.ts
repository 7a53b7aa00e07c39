/**
 * A full pool falls back (shared/seeds/000: "If port reservation fails, falls back to
 * hash-based port assignment"; issue 10 item 2): with `fallback: hash` a workspace that
 * finds no free slot gets stable hash ports for every role in the fallback band, marked
 * as the pool's fallback; once a slot frees, `reserve` moves it into the slot and says so.
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

// The band lies below the kernel's ephemeral range, where outgoing connections do not come and go.
const BAND = { start: 31000, end: 31999 };
const YAML = [
  'project: conductor',
  'pools:',
  '  conductor:',
  '    ports: { postgres: 25833, mcp: 28481, admin: 28402 }',
  '    slots: 2',
  '    fallback: hash',
  `    fallback_range: ${BAND.start}-${BAND.end}`,
  '',
].join('\n');

const run = (args: string[]) => berth(args, { cwd: dir, db });
const ok = (args: string[]) => {
  const res = run(args);
  assert.equal(res.code, 0, `berth ${args.join(' ')}: exit ${res.code}\n${res.stderr}`);
  return res;
};
const reserve = (scope: string) => {
  const res = ok(['reserve', '--scope', scope, '--json']);
  return { leases: json<Lease[]>(res), stderr: res.stderr };
};
const ports = (ls: readonly Lease[]) => Object.fromEntries(ls.map((l) => [l.name, l.port]));

describe('Conductor: a full pool falls back to stable hash ports, then moves into a freed slot', () => {
  let fallback: Record<string, number>;
  before(() => {
    ({ dir, cleanup } = tempDir());
    db = path.join(dir, 'berth.db');
    fs.writeFileSync(path.join(dir, 'berth.yaml'), YAML);
    reserve('ws-1');
    reserve('ws-2');
  });
  after(() => cleanup());

  it('a workspace that finds no free slot gets hash ports for every role, marked as fallback', () => {
    const { leases, stderr } = reserve('ws-3');
    assert.deepEqual(leases.map((l) => l.name), ['postgres', 'mcp', 'admin']);
    for (const l of leases) {
      assert.equal(l.pool, 'conductor');
      assert.equal(l.slot, null, `${l.name} is in a slot`);
      assert.ok(l.port >= BAND.start && l.port <= BAND.end, `${l.name} ${l.port} is outside the fallback band`);
    }
    assert.match(stderr, /pool conductor has no free slot: ws-3 got fallback hash ports/);
    fallback = ports(leases);
    const pools = json<{ fallback: { scope: string; ports: Record<string, number> }[] }[]>(ok(['pools', '--json']));
    assert.deepEqual(pools[0]!.fallback, [{ scope: 'ws-3', ports: fallback }]);
    assert.match(ok(['pools']).stdout, /fallback \(no slot was free\): ws-3 on postgres \d+, mcp \d+, admin \d+/);
    assert.match(ok(['list', '--scope', 'ws-3']).stdout, /conductor fallback/);
  });

  it('the hash ports are stable: the same workspace gets the same ports back', () => {
    const again = reserve('ws-3');
    assert.deepEqual(ports(again.leases), fallback);
    assert.match(again.stderr, /still has no free slot: ws-3 stays on its fallback ports/);
    ok(['release', '--scope', 'ws-3']);
    assert.deepEqual(ports(reserve('ws-3').leases), fallback);
  });

  it('fallback leases survive export and import into a fresh store', () => {
    const file = path.join(dir, 'snapshot.json');
    ok(['export', '-o', file]);
    const fresh = path.join(dir, 'fresh.db');
    const imported = berth(['import', file], { cwd: dir, db: fresh });
    assert.equal(imported.code, 0, imported.stderr);
    const leases = json<Lease[]>(berth(['list', '--scope', 'ws-3', '--json'], { cwd: dir, db: fresh }));
    assert.deepEqual(ports(leases), fallback);
    assert.ok(leases.every((l) => l.pool === 'conductor' && l.slot === null));
  });

  it('once a slot frees, reserve moves the workspace into it, says so, and frees the fallback ports', () => {
    ok(['release', '--scope', 'ws-1']);
    const { leases, stderr } = reserve('ws-3');
    assert.deepEqual(leases.map((l) => `${l.name}:${l.port}:${l.slot}`), ['postgres:25833:0', 'mcp:28481:0', 'admin:28402:0']);
    assert.match(stderr, /moved ws-3 from its fallback ports \(.*\) into slot 0 of pool conductor/);
    const all = json<Lease[]>(ok(['list', '--json']));
    for (const port of Object.values(fallback)) assert.ok(!all.some((l) => l.port === port), `fallback port ${port} is still leased`);
    assert.deepEqual(json<{ fallback: unknown[] }[]>(ok(['pools', '--json']))[0]!.fallback, []);
  });

  it('without fallback: a full pool still refuses (exit 3)', () => {
    const plain = path.join(dir, 'plain');
    fs.mkdirSync(plain);
    fs.writeFileSync(path.join(plain, 'berth.yaml'), YAML.replace('    fallback: hash\n', '').replace(/ {4}fallback_range: .*\n/, '').replace(/conductor/g, 'plainpool').replace('25833', '25933').replace('28481', '28581').replace('28402', '28502'));
    for (const ws of ['a', 'b']) assert.equal(berth(['reserve', '--scope', ws], { cwd: plain, db }).code, 0);
    const full = berth(['reserve', '--scope', 'c'], { cwd: plain, db });
    assert.equal(full.code, 3, full.stderr);
  });

  it('fallback_range without fallback: hash is a config error naming the key', () => {
    const bad = path.join(dir, 'bad');
    fs.mkdirSync(bad);
    fs.writeFileSync(path.join(bad, 'berth.yaml'), YAML.replace('    fallback: hash\n', ''));
    const res = berth(['pools'], { cwd: bad, db });
    assert.equal(res.code, 2, res.stderr);
    assert.match(res.stderr, /pools\.conductor\.fallback_range/);
  });
});

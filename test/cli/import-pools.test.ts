/**
 * `berth import` keeps pools one-scope-per-slot, all or none: a slot given to two scopes,
 * half a slot, ports or roles that are not the pool's, a pool berth does not know, a pool
 * defined differently, each checked against the store's rows too, are refused (exit 4)
 * and change nothing. Snapshots carry the pool definitions their leases use; version-1
 * files without them still import against the store's recorded pools. A huge list of
 * conflicts is cut to MAX_PROBLEMS_SHOWN lines.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { berth, json, storeState, tempDir, type CliResult } from '../helpers/cli.js';

/** The pool of berth.yaml: 4 slots; slot k is backend 27410+k, frontend 27510+k. */
const BACKEND = 27410;
const FRONTEND = 27510;
const CONFIG = `pools:\n  agents:\n    ports: { backend: ${BACKEND}, frontend: ${FRONTEND} }\n    slots: 4\n`;
/** The definition berth records for it. */
const AGENTS = { kind: 'series', name: 'agents', roles: ['backend', 'frontend'], urls: [], protocol: 'tcp', ports: { backend: BACKEND, frontend: FRONTEND }, step: 1, slots: 4 };

let dir: string;
let cleanup: () => void;
let db: string;

/** A pool lease row of a snapshot. */
function row(scope: string, name: string, port: number, pool: string | null, slot: number | null): Record<string, unknown> {
  const now = new Date().toISOString();
  return { host: 'local', scope, name, port, protocol: 'tcp', purpose: null, pool, slot, ephemeral: false, pid: null, createdAt: now, updatedAt: now };
}

/** A version-1 snapshot of `leases` (their scopes listed), with `extra` top-level fields (e.g. pools). */
function snapshotFile(name: string, leases: Record<string, unknown>[], extra: Record<string, unknown> = {}): string {
  const now = new Date().toISOString();
  const scopes = [...new Set(leases.map((l) => l.scope as string))].map((s) => ({ host: 'local', name: s, directory: null, createdAt: now }));
  const file = path.join(dir, name);
  fs.writeFileSync(file, JSON.stringify({ format: 'berth-snapshot', version: 1, exportedAt: now, scopes, leases, ...extra }));
  return file;
}

/** Asserts that `berth import ARGS` was refused with exit `code` and `message`, no stack trace, and the store did not change. */
function refused(args: string[], code: number, message: RegExp): CliResult {
  const state = storeState(db, dir);
  const res = berth(['import', ...args], { cwd: dir, db });
  assert.equal(res.code, code, `import ${args.join(' ')} -> ${res.code}\n${res.stderr}`);
  assert.match(res.stderr, message);
  assert.doesNotMatch(res.stderr, /unexpected error|\n\s+at /);
  assert.equal(storeState(db, dir), state, 'nothing was changed');
  return res;
}

describe('import: pool rows keep one scope per slot, all or none', () => {
  before(() => {
    ({ dir, cleanup } = tempDir('berth-import-pools-'));
    db = path.join(dir, 'berth.db');
    fs.writeFileSync(path.join(dir, 'berth.yaml'), CONFIG);
    // Scope a holds slot 0 (and the pool's definition is recorded); scope b holds half of slot 2, as an older berth could leave it.
    assert.equal(berth(['reserve', '--scope', 'a'], { cwd: dir, db }).code, 0);
    const raw = new Database(db);
    const now = new Date().toISOString();
    raw
      .prepare("INSERT INTO leases (host, scope, name, port, protocol, purpose, pool, slot, ephemeral, pid, created_at, updated_at) VALUES ('local', 'b', 'backend', ?, 'tcp', NULL, 'agents', 2, 0, NULL, ?, ?)")
      .run(BACKEND + 2, now, now);
    raw.prepare("INSERT INTO scopes (host, name, directory, created_at) VALUES ('local', 'b', NULL, ?)").run(now);
    raw.close();
  });
  after(() => cleanup());

  it('a slot given to two scopes (each with one role) is refused', () => {
    const file = snapshotFile('two-scopes.json', [row('c', 'backend', BACKEND + 1, 'agents', 1), row('d', 'frontend', FRONTEND + 1, 'agents', 1)]);
    refused([file], 4, /pool agents slot 1: given to c and d; a slot belongs to one scope/);
    refused([file, '--replace'], 4, /given to c and d/);
  });

  it("a slot the store gives to one scope is refused to another, checked against the store's rows", () => {
    const file = snapshotFile('store-slot.json', [row('c', 'frontend', FRONTEND + 2, 'agents', 2)]);
    refused([file], 4, /pool agents slot 2: given to b and c/);
  });

  it('half a slot is refused', () => {
    const file = snapshotFile('half.json', [row('c', 'backend', BACKEND + 3, 'agents', 3)]);
    refused([file], 4, /pool agents slot 3 of c: half a slot, without frontend/);
  });

  it("ports, roles and slots that are not the pool's are refused", () => {
    refused([snapshotFile('port.json', [row('c', 'backend', 27499, 'agents', 3), row('c', 'frontend', FRONTEND + 3, 'agents', 3)])], 4, /c\/backend: port 27499\/tcp is not pool agents's: slot 3's backend is 27413\/tcp/);
    refused([snapshotFile('role.json', [row('c', 'db', 27498, 'agents', 3)])], 4, /c\/db: pool agents has no role db \(its roles: backend, frontend\)/);
    refused([snapshotFile('slot.json', [row('c', 'backend', BACKEND + 9, 'agents', 9), row('c', 'frontend', FRONTEND + 9, 'agents', 9)])], 4, /pool agents has no slot 9 \(it has 4\)/);
    refused([snapshotFile('no-slot.json', [row('c', 'backend', BACKEND + 3, 'agents', null)])], 4, /c\/backend: pool and slot go together/);
  });

  it('a pool berth does not know is refused; carried in the snapshot, it imports and is recorded', () => {
    const rows = [row('g', 'one', 27601, 'ghost', 0), row('g', 'two', 27701, 'ghost', 0)];
    refused([snapshotFile('ghost.json', rows)], 4, /pool ghost: 2 lease\(s\) belong to it, but this store has no definition of it and the snapshot carries none/);
    const ghost = { kind: 'sets', name: 'ghost', roles: ['one', 'two'], urls: [], protocol: 'tcp', sets: [{ one: 27601, two: 27701 }] };
    const res = berth(['import', snapshotFile('ghost-defined.json', rows, { pools: [ghost] })], { cwd: dir, db });
    assert.equal(res.code, 0, res.stderr);
    const elsewhere = tempDir('berth-import-pools-elsewhere-');
    try {
      const pools = json<{ name: string; detail: { slot: number; scope: string | null }[] }[]>(berth(['pools', '--json'], { cwd: elsewhere.dir, db }));
      assert.deepEqual(pools.find((p) => p.name === 'ghost')?.detail.map((d) => [d.slot, d.scope]), [[0, 'g']], 'the definition is recorded: pools work from any directory');
    } finally {
      elsewhere.cleanup();
    }
  });

  it('a pool the snapshot defines differently from the store is refused, unless --replace', () => {
    const other = { ...AGENTS, ports: { backend: 27420, frontend: 27520 } };
    const file = snapshotFile('redefined.json', [row('c', 'backend', 27423, 'agents', 3), row('c', 'frontend', 27523, 'agents', 3)], { pools: [other] });
    refused([file], 4, /pool agents: the snapshot defines it differently from this store's recorded definition/);
    // On a copy of the store: --replace makes it the snapshot, definition included.
    const copy = path.join(dir, 'copy.db');
    for (const suffix of ['', '-wal']) if (fs.existsSync(db + suffix)) fs.copyFileSync(db + suffix, copy + suffix);
    const res = berth(['import', file, '--replace'], { cwd: dir, db: copy });
    assert.equal(res.code, 0, res.stderr);
    const elsewhere = tempDir('berth-import-pools-elsewhere-');
    try {
      const pools = json<{ name: string; detail: { ports: Record<string, number>; scope: string | null }[] }[]>(berth(['pools', '--json'], { cwd: elsewhere.dir, db: copy }));
      assert.deepEqual(pools.map((p) => [p.name, p.detail[3]]), [['agents', { slot: 3, ports: { backend: 27423, frontend: 27523 }, scope: 'c', blocked: null, changed: null }]]);
    } finally {
      elsewhere.cleanup();
    }
  });

  it('an invalid pool definition in the snapshot is bad input (exit 2), named', () => {
    const broken = { ...AGENTS, name: 'broken', ports: { backend: 70000, frontend: 27530 } };
    refused([snapshotFile('broken.json', [], { pools: [broken] })], 2, /pools\[0\]: pools\.broken\.ports\.backend: invalid port 70000/);
    refused([snapshotFile('odd.json', [], { pools: [{ ...AGENTS, roles: ['frontend', 'backend'] }] })], 2, /pools\[0\]: pool agents is not as berth records it/);
  });

  it('thousands of conflicting rows: the message names 20 and counts the rest; --json carries 20 and the count', () => {
    const rows = Array.from({ length: 5000 }, (_, i) => row(`x${i}`, 'web', BACKEND, null, null));
    const file = snapshotFile('many.json', rows);
    const res = refused([file], 4, /import refused, nothing was changed: 5000 row\(s\) conflict with the store:\n(  .*\n){20} {2}\.\.\. and 4980 more\n/);
    assert.ok(res.stderr.length < 5000, `the message stays short (${res.stderr.length} characters)`);
    const asJson = refused([file, '--json'], 4, /"error":"conflict"/);
    const error = JSON.parse(asJson.stderr) as { conflicts: string[]; count: number };
    assert.equal(error.conflicts.length, 20);
    assert.equal(error.count, 5000);
    assert.ok(asJson.stderr.length < 6000, `the JSON error stays short (${asJson.stderr.length} characters)`);
  });

  it('export carries the pool definitions; it imports into a fresh store and over itself with --replace', () => {
    const exported = path.join(dir, 'exported.json');
    assert.equal(berth(['export', '-o', exported], { cwd: dir, db }).code, 0);
    const snap = JSON.parse(fs.readFileSync(exported, 'utf8')) as { version: number; pools: { name: string }[] };
    assert.equal(snap.version, 1, 'still version 1: older berths read it, ignoring pools');
    assert.deepEqual(snap.pools.map((p) => p.name).sort(), ['agents', 'ghost']);
    const fresh = tempDir('berth-import-pools-fresh-');
    try {
      const freshDb = path.join(fresh.dir, 'fresh.db');
      // The store's own half slot (b) goes along: an export is what the store holds.
      const res = berth(['import', exported], { cwd: fresh.dir, db: freshDb });
      assert.equal(res.code, 4, 'the half slot b holds is refused in a fresh store too');
      assert.match(res.stderr, /pool agents slot 2 of b: half a slot/);
    } finally {
      fresh.cleanup();
    }
    assert.equal(berth(['release', '--scope', 'b'], { cwd: dir, db }).code, 0);
    assert.equal(berth(['export', '-o', exported], { cwd: dir, db }).code, 0);
    // Import stamps rows with its own time: compare the rest.
    const timeless = () => storeState(db, dir).replace(/"(createdAt|updatedAt)":"[^"]*"/g, '');
    const state = timeless();
    const replaced = berth(['import', exported, '--replace'], { cwd: dir, db });
    assert.equal(replaced.code, 0, replaced.stderr);
    assert.equal(timeless(), state, 'replace with its own export changes nothing but the times');
    const again = tempDir('berth-import-pools-fresh-');
    try {
      const freshDb = path.join(again.dir, 'fresh.db');
      const res = berth(['import', exported], { cwd: again.dir, db: freshDb });
      assert.equal(res.code, 0, res.stderr);
      const pools = json<{ name: string; used: number }[]>(berth(['pools', '--json'], { cwd: again.dir, db: freshDb }));
      assert.deepEqual(pools.map((p) => [p.name, p.used]).sort(), [['agents', 1], ['ghost', 1]], 'a fresh store knows the pools of the rows it took');
    } finally {
      again.cleanup();
    }
  });

  it('a version-1 snapshot without pools imports pool rows that fit the pools the store has recorded', () => {
    const file = snapshotFile('v1.json', [row('e', 'backend', BACKEND + 3, 'agents', 3), row('e', 'frontend', FRONTEND + 3, 'agents', 3)]);
    const res = berth(['import', file], { cwd: dir, db });
    assert.equal(res.code, 0, res.stderr);
    const slots = json<{ name: string; detail: { slot: number; scope: string | null }[] }[]>(berth(['pools', '--json'], { cwd: dir, db }));
    assert.deepEqual(slots.find((p) => p.name === 'agents')?.detail.map((d) => d.scope), ['a', null, null, 'e']);
  });
});

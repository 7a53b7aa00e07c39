/**
 * STRESS TEST (runs in the normal suite and in CI): 64 real processes × 25 mixed
 * operations each (allocate, get, release, reserve and release a pool slot, reassign,
 * list) on one SQLite store, through the library, all starting at once. Writers must wait
 * for each other, never give up: 0 lock timeouts, 0 errors but the expected domain ones,
 * 0 duplicate ports, no pool slot held by two scopes, integrity ok, and every committed
 * change in the history. No timing is asserted.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { openSqliteStore } from '../../src/store/sqlite-store.js';
import type { Lease, RegistryEvent } from '../../src/types.js';
import { tempDir } from '../helpers/cli.js';
import { runMixed, type WorkerResult } from './mixed-run.js';
import { MIXED_POOL, MIXED_ROLES, type MixedOp } from './mixed-worker.js';

const WORKERS = 64;
const OPS = 25;
const RANGE = '25000-27999';
const POOL_BASE = 28000;
/** Fewer slots than workers: reserves compete, and some find the pool full. */
const POOL_SLOTS = 40;

/** The failures a correct registry gives under this load: a reassign to a taken port, a full pool. */
const EXPECTED_FAILURES: Readonly<Record<string, readonly string[]>> = {
  reassign: ['refused', 'conflict'],
  reserve: ['exhausted'],
};

/** What a worker's successful operations say its scope holds at the end, and how many events they made. */
function replay(ops: readonly MixedOp[]) {
  const leases = new Map<string, number>();
  const counts = { created: 0, deleted: 0, moved: 0 };
  let slot: number | null = null;
  for (const op of ops) {
    if (!op.ok) continue;
    for (const [name, port] of Object.entries(op.created ?? {})) {
      leases.set(name, port);
      counts.created++;
    }
    for (const name of op.deleted ?? []) {
      leases.delete(name);
      counts.deleted++;
    }
    if (op.moved && op.moved.to !== op.moved.from) {
      leases.set(op.moved.name, op.moved.to);
      counts.moved++;
    }
    if (op.op === 'reserve') slot = op.slot ?? null;
    if (op.op === 'release-slot') slot = null;
  }
  return { leases, counts, slot };
}

function checkWorkers(workers: readonly WorkerResult[]): void {
  const timeouts: string[] = [];
  const unexpected: string[] = [];
  for (const w of workers) {
    assert.ok(w.done, `${w.scope} finished (exit ${w.code}, signal ${w.signal}): ${w.stderr}`);
    assert.equal(w.code, 0, `${w.scope} exit code; stderr: ${w.stderr}`);
    assert.equal(w.ops.length, OPS, `${w.scope} ran every operation`);
    for (const op of w.ops) {
      if (op.ok) continue;
      if (op.kind === 'store' && /locked/.test(op.message ?? '')) timeouts.push(`${w.scope} #${op.i} ${op.op}: ${op.message}`);
      else if (!(EXPECTED_FAILURES[op.op] ?? []).includes(op.kind!)) unexpected.push(`${w.scope} #${op.i} ${op.op} (${op.kind}): ${op.message}`);
    }
  }
  assert.deepEqual(timeouts, [], `${timeouts.length} lock timeout(s)`);
  assert.deepEqual(unexpected, [], `${unexpected.length} unexpected error(s)`);
}

async function checkStore(db: string, workers: readonly WorkerResult[]): Promise<void> {
  const raw = new Database(db, { readonly: true });
  try {
    assert.equal(raw.pragma('integrity_check', { simple: true }), 'ok');
  } finally {
    raw.close();
  }
  const store = openSqliteStore(db);
  let leases: Lease[];
  let events: RegistryEvent[];
  try {
    [leases, events] = await store.transaction('read', async (tx) => [await tx.listLeases(), await tx.listEvents()] as const);
  } finally {
    await store.close();
  }
  assert.equal(new Set(leases.map((l) => `${l.protocol}/${l.port}`)).size, leases.length, 'no port leased twice');

  // One scope per slot, whole slots on the slot's own ports.
  const slotScopes = new Map<number, Set<string>>();
  for (const l of leases.filter((x) => x.pool !== null)) {
    assert.equal(l.pool, MIXED_POOL);
    const scopes = slotScopes.get(l.slot!) ?? new Set<string>();
    scopes.add(l.scope);
    slotScopes.set(l.slot!, scopes);
    const base = l.name === MIXED_ROLES[0] ? POOL_BASE : POOL_BASE + 500;
    assert.equal(l.port, base + l.slot!, `${l.scope}/${l.name} is on its slot's port`);
  }
  for (const [slot, scopes] of slotScopes) assert.equal(scopes.size, 1, `slot ${slot} held by ${[...scopes].join(', ')}`);

  for (const w of workers) {
    const expected = replay(w.ops);
    const held = leases.filter((l) => l.scope === w.scope);
    const plain = new Map(held.filter((l) => l.pool === null).map((l) => [l.name, l.port]));
    assert.deepEqual(plain, new Map([...expected.leases].filter(([name]) => !(MIXED_ROLES as readonly string[]).includes(name))), `${w.scope}: every committed lease is in the store, nothing else`);
    const roles = held.filter((l) => l.pool !== null);
    if (expected.slot === null) assert.equal(roles.length, 0, `${w.scope} holds no slot`);
    else assert.deepEqual(roles.map((l) => [l.name, l.slot]).sort(), MIXED_ROLES.map((r) => [r, expected.slot]).sort(), `${w.scope} holds slot ${expected.slot} whole`);

    const mine = events.filter((e) => e.scope === w.scope);
    const count = (change: string) => mine.filter((e) => e.change === change).length;
    assert.deepEqual({ created: count('created'), deleted: count('deleted'), moved: count('moved') }, expected.counts, `${w.scope}: one event per committed change`);
    for (const lease of held) {
      const last = mine.filter((e) => e.name === lease.name).at(-1);
      assert.equal(last?.port, lease.port, `${w.scope}/${lease.name}: the history ends on its port`);
    }
  }
}

describe('stress: 64 processes x 25 mixed operations on one SQLite store', () => {
  it('writers wait, never give up: 0 lock timeouts, 0 unexpected errors, 0 duplicates, whole slots, integrity ok, full history', { timeout: 240_000 }, async () => {
    const { dir, cleanup } = tempDir('berth-stress-');
    try {
      const db = path.join(dir, 'stress.db');
      const { workers } = await runMixed({ dir, db, workers: WORKERS, ops: OPS, range: RANGE, poolBase: POOL_BASE, poolSlots: POOL_SLOTS, timeoutMs: 200_000 });
      checkWorkers(workers);
      const mixed = new Set(workers.flatMap((w) => w.ops.filter((o) => o.ok).map((o) => o.op)));
      for (const op of ['allocate', 'get', 'release', 'reserve', 'release-slot', 'reassign', 'list']) assert.ok(mixed.has(op as MixedOp['op']), `some ${op} succeeded`);
      await checkStore(db, workers);
    } finally {
      cleanup();
    }
  });
});

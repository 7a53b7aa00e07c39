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
import { checkLeasesAndHistory, checkWorkers } from './mixed-check.js';
import { runMixed, type WorkerResult } from './mixed-run.js';
import type { MixedOp } from './mixed-worker.js';

const WORKERS = 64;
const OPS = 25;
const RANGE = '25000-27999';
const POOL_BASE = 28000;
/** Fewer slots than workers: reserves compete, and some find the pool full. */
const POOL_SLOTS = 40;

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
  checkLeasesAndHistory(leases, events, workers, POOL_BASE);
}

describe('stress: 64 processes x 25 mixed operations on one SQLite store', () => {
  it('writers wait, never give up: 0 lock timeouts, 0 unexpected errors, 0 duplicates, whole slots, integrity ok, full history', { timeout: 240_000 }, async () => {
    const { dir, cleanup } = tempDir('berth-stress-');
    try {
      const db = path.join(dir, 'stress.db');
      const { workers } = await runMixed({ dir, db, workers: WORKERS, ops: OPS, range: RANGE, poolBase: POOL_BASE, poolSlots: POOL_SLOTS, timeoutMs: 200_000 });
      checkWorkers(workers, OPS);
      const mixed = new Set(workers.flatMap((w) => w.ops.filter((o) => o.ok).map((o) => o.op)));
      for (const op of ['allocate', 'get', 'release', 'reserve', 'release-slot', 'reassign', 'list']) assert.ok(mixed.has(op as MixedOp['op']), `some ${op} succeeded`);
      await checkStore(db, workers);
    } finally {
      cleanup();
    }
  });
});

/**
 * RACE on a shared PostgreSQL registry (a real server, see test/helpers/postgres.ts): 32
 * real processes writing as 4 machines, 135 mixed operations each (about 50 allocations,
 * with releases, pool reserves and releases, reassigns, gets and lists mixed in), all
 * starting at once; a few of them SIGKILLed mid-burst. Per machine: 0 duplicate ports,
 * whole pool slots; 0 errors but the expected domain ones, 0 lock timeouts; every change
 * a surviving worker committed is in the store and the history; a killed worker left
 * nothing half-written (its slot whole or absent, its leases exactly what its history
 * says) and lost nothing it had reported committed. No timing is asserted.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openPostgresStore } from '../../src/store/postgres/open.js';
import type { Lease, RegistryEvent } from '../../src/types.js';
import { tempDir } from '../helpers/cli.js';
import { createDatabase, dropDatabase, pgServerForFile } from '../helpers/postgres.js';
import { checkLeasesAndHistory, checkWorkers } from './mixed-check.js';
import { runMixed, type WorkerResult } from './mixed-run.js';
import { MIXED_ROLES, type MixedOp } from './mixed-worker.js';

const WORKERS = 32;
const MACHINES = 4;
const OPS = 135;
// Below the kernel's ephemeral range (32768 and up): an outgoing connection of any process
// (the suite's own PostgreSQL clients) never sits on a port this test needs.
const RANGE = '28500-30999';
const POOL_BASE = 31000;
/** Fewer slots than a machine's workers: reserves compete, and some find the pool full. */
const POOL_SLOTS = 6;
/** One worker of each machine is SIGKILLed after this many operations. */
const KILLED = [5, 10, 15, 20];
const KILL_AFTER_OPS = 30;

const { skip, server } = pgServerForFile();

/** The leases the history of `scope` ends with: name -> port. */
function replayHistory(events: readonly RegistryEvent[], scope: string): Map<string, number> {
  const held = new Map<string, number>();
  for (const e of events.filter((x) => x.scope === scope)) {
    if (e.change === 'deleted') held.delete(e.name);
    else held.set(e.name, e.port);
  }
  return held;
}

/** A killed worker: nothing half-written, nothing it reported committed lost. */
function checkKilled(w: WorkerResult, leases: readonly Lease[], events: readonly RegistryEvent[]): void {
  assert.equal(w.signal, 'SIGKILL', `${w.scope} was killed`);
  const held = leases.filter((l) => l.scope === w.scope);
  assert.deepEqual(new Map(held.map((l) => [l.name, l.port])), replayHistory(events, w.scope), `${w.scope}: its leases are exactly what its history says`);
  const roles = held.filter((l) => l.pool !== null);
  assert.ok(roles.length === 0 || (roles.length === MIXED_ROLES.length && new Set(roles.map((l) => l.slot)).size === 1), `${w.scope}: its slot is whole or absent`);
  const created = events.filter((e) => e.scope === w.scope && e.change === 'created').map((e) => `${e.name}:${e.port}`);
  for (const op of w.ops.filter((o: MixedOp) => o.ok)) {
    for (const [name, port] of Object.entries(op.created ?? {})) assert.ok(created.includes(`${name}:${port}`), `${w.scope}: committed ${name}:${port} is in the history`);
  }
}

describe('race: 32 processes as 4 machines on one PostgreSQL registry', { skip: skip ?? false }, () => {
  it('0 duplicates per machine, 0 unexpected errors, full history; SIGKILLed writers leave nothing half-written', { timeout: 400_000 }, async () => {
    const url = await createDatabase(server);
    const { dir, cleanup } = tempDir('berth-pg-race-');
    try {
      const { workers } = await runMixed({
        dir,
        db: url,
        workers: WORKERS,
        ops: OPS,
        range: RANGE,
        poolBase: POOL_BASE,
        poolSlots: POOL_SLOTS,
        timeoutMs: 360_000,
        machines: MACHINES,
        kill: { workers: KILLED, afterOps: KILL_AFTER_OPS },
      });
      const survivors = workers.filter((_, i) => !KILLED.includes(i));
      checkWorkers(survivors, OPS);
      const store = await openPostgresStore(url, { host: 'checker' });
      let leases: Lease[];
      let events: RegistryEvent[];
      try {
        [leases, events] = await store.transaction('read', async (tx) => [await tx.listLeases(), await tx.listEvents()] as const);
      } finally {
        await store.close();
      }
      checkLeasesAndHistory(leases, events, survivors, POOL_BASE, (w) => w.machine);
      for (const i of KILLED) checkKilled(workers[i]!, leases, events);
      for (let m = 0; m < MACHINES; m++) assert.ok(leases.some((l) => l.host === `m${m}`), `machine m${m} holds leases`);
      const allocations = survivors.flatMap((w) => w.ops).filter((o) => o.ok && o.op === 'allocate').length;
      assert.ok(allocations >= (WORKERS - KILLED.length) * 40, `about 50 allocations a worker, at least 40 on average (${allocations} in all)`);
      for (let i = 1; i < events.length; i++) assert.ok(events[i]!.id > events[i - 1]!.id);
    } finally {
      cleanup();
      await dropDatabase(server, url);
    }
  });
});

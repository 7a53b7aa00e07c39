/**
 * What a mixed run must leave behind, on any backend: workers that finished every
 * operation with only the failures a correct registry gives, no port leased twice on one
 * machine, whole pool slots held by one scope each, and every committed change of every
 * worker in the store and in the history. Shared by the SQLite stress test and the
 * PostgreSQL race test.
 */
import assert from 'node:assert/strict';
import type { Lease, RegistryEvent } from '../../src/types.js';
import type { WorkerResult } from './mixed-run.js';
import { MIXED_POOL, MIXED_ROLES, type MixedOp } from './mixed-worker.js';

/** The failures a correct registry gives under this load: a reassign to a taken port, a full pool. */
export const EXPECTED_FAILURES: Readonly<Record<string, readonly string[]>> = {
  reassign: ['refused', 'conflict'],
  reserve: ['exhausted'],
};

/** What a worker's successful operations say its scope holds at the end, and how many events they made. */
export function replay(ops: readonly MixedOp[]) {
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

/** Every worker finished all `ops` operations; failures only those EXPECTED_FAILURES allows, no lock timeouts. */
export function checkWorkers(workers: readonly WorkerResult[], ops: number): void {
  const timeouts: string[] = [];
  const unexpected: string[] = [];
  for (const w of workers) {
    assert.ok(w.done, `${w.scope} finished (exit ${w.code}, signal ${w.signal}): ${w.stderr}`);
    assert.equal(w.code, 0, `${w.scope} exit code; stderr: ${w.stderr}`);
    assert.equal(w.ops.length, ops, `${w.scope} ran every operation`);
    for (const op of w.ops) {
      if (op.ok) continue;
      if (op.kind === 'store' && /locked/.test(op.message ?? '')) timeouts.push(`${w.scope} #${op.i} ${op.op}: ${op.message}`);
      else if (!(EXPECTED_FAILURES[op.op] ?? []).includes(op.kind!)) unexpected.push(`${w.scope} #${op.i} ${op.op} (${op.kind}): ${op.message}`);
    }
  }
  assert.deepEqual(timeouts, [], `${timeouts.length} lock timeout(s)`);
  assert.deepEqual(unexpected, [], `${unexpected.length} unexpected error(s)`);
}

/**
 * The leases and events a run left, checked against what the workers say they committed.
 * `poolBase`: the pool's first port (front; back is 500 above). Ports are unique per
 * machine, slots are held whole by one scope per machine, and each worker's leases are on
 * its own machine (`machineOf`, default the one machine of a local store).
 */
export function checkLeasesAndHistory(
  leases: readonly Lease[],
  events: readonly RegistryEvent[],
  workers: readonly WorkerResult[],
  poolBase: number,
  machineOf: (w: WorkerResult) => string | undefined = () => undefined,
): void {
  const key = (l: Lease) => `${l.host} ${l.protocol}/${l.port}`;
  assert.equal(new Set(leases.map(key)).size, leases.length, 'no port leased twice on one machine');

  // One scope per slot of each machine, whole slots on the slot's own ports.
  const slotScopes = new Map<string, Set<string>>();
  for (const l of leases.filter((x) => x.pool !== null)) {
    assert.equal(l.pool, MIXED_POOL);
    const slot = `${l.host} #${l.slot}`;
    const scopes = slotScopes.get(slot) ?? new Set<string>();
    scopes.add(l.scope);
    slotScopes.set(slot, scopes);
    const base = l.name === MIXED_ROLES[0] ? poolBase : poolBase + 500;
    assert.equal(l.port, base + l.slot!, `${l.scope}/${l.name} is on its slot's port`);
  }
  for (const [slot, scopes] of slotScopes) assert.equal(scopes.size, 1, `slot ${slot} held by ${[...scopes].join(', ')}`);

  for (const w of workers) {
    const expected = replay(w.ops);
    const held = leases.filter((l) => l.scope === w.scope);
    const machine = machineOf(w);
    if (machine !== undefined) for (const l of held) assert.equal(l.host, machine, `${w.scope}/${l.name} is on ${w.scope}'s machine`);
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


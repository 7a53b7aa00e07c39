/**
 * One process of clients for the PostgreSQL bench (bench/postgres.ts), started with fork():
 * CLIENTS clients, each with its own store and LocalEngine (its own connections, as
 * separate processes or machines would have), allocating new names one after the other
 * through the library. On a postgres:// DB, client c writes as machine `m{(FIRST + c) % MACHINES}`.
 * It warms up (WARMUP allocations per client, not measured), says `ready`, waits for `go`,
 * runs COUNT allocations per client, and sends back every latency, every lease it got
 * (machine and port), its errors, its round trips and its CPU time.
 *
 * Usage (through fork): node postgres-worker.js DB CLIENTS COUNT SCOPE_PREFIX RANGE FIRST MACHINES WARMUP
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import type { Engine } from '../src/engine/index.js';
import { openEngine } from '../src/open.js';
import { parseRange } from '../src/config/ports.js';


/** What a worker reports. */
export interface PgWorkerReport {
  readonly latenciesMs: number[];
  /** `machine port` of every lease given, warm-up included (they count for duplicates too). */
  readonly leases: string[];
  readonly errors: number;
  readonly errorSamples: string[];
  /** Round trips to PostgreSQL during the measured allocations; 0 on SQLite. */
  readonly roundTrips: number;
  /** CPU time this process used during the measured allocations (ms, all its threads). */
  readonly cpuMs: number;
}

const [db, clientsText, countText, prefix, rangeText, firstText, machinesText, warmupText] = process.argv.slice(2);
const warmup = Number(warmupText);
const clients = Number(clientsText);
const count = Number(countText);
const range = parseRange(rangeText!);
const report: { -readonly [K in keyof PgWorkerReport]: PgWorkerReport[K] } = { latenciesMs: [], leases: [], errors: 0, errorSamples: [], roundTrips: 0, cpuMs: 0 };
// A round trip: the queries one connection is given in one turn. The store pipelines them
// (they go out together and are answered together), so queries are counted per turn and
// connection, while measuring.
let counting = false;
const inTurn = new WeakSet<pg.Client>();
const query = pg.Client.prototype.query;
pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
  if (counting && !inTurn.has(this)) {
    report.roundTrips++;
    inTurn.add(this);
    queueMicrotask(() => inTurn.delete(this));
  }
  return (query as (...a: unknown[]) => unknown).apply(this, args);
} as typeof query;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-bench-pg-'));

async function one(engine: Engine, scope: string, name: string, measured: boolean): Promise<void> {
  const start = performance.now();
  try {
    const [lease] = await engine.leases.allocate({ scope, dir }, [{ name, range }]);
    if (measured) report.latenciesMs.push(performance.now() - start);
    report.leases.push(`${lease!.host} ${lease!.port}`);
  } catch (error) {
    report.errors++;
    if (report.errorSamples.length < 3) report.errorSamples.push(String((error as Error).message));
  }
}

const engines = Array.from({ length: clients }, (_, c) =>
  openEngine({ db, cwd: dir, env: { BERTH_MACHINE: `m${(Number(firstText) + c) % Number(machinesText)}` } }),
);
const scopes = engines.map((_, c) => `${prefix}-c${c}`);
await Promise.all(engines.map(async (engine, c) => {
  for (let n = 0; n < warmup; n++) await one(engine, scopes[c]!, `warm${n}`, false);
}));
process.send!('ready');
await new Promise<void>((resolve) => process.once('message', () => resolve()));
counting = true;
const cpu = process.cpuUsage();
await Promise.all(engines.map(async (engine, c) => {
  for (let n = 0; n < count; n++) await one(engine, scopes[c]!, `n${n}`, true);
}));
const used = process.cpuUsage(cpu);
report.cpuMs = (used.user + used.system) / 1000;
counting = false;
await Promise.all(engines.map((e) => e.close()));
fs.rmSync(dir, { recursive: true, force: true });
process.send!(report, () => process.exit(0));

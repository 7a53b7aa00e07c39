/**
 * Runs N mixed-worker.js processes on one store, all starting their operations at the same
 * moment (each loads first and says `ready`; then all are told `go`). Shared by the stress
 * test (test/race/stress-64.test.ts) and the writers bench (bench/writers.ts).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MIXED_POOL, MIXED_ROLES, type MixedOp } from './mixed-worker.js';

const WORKER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'mixed-worker.js');

/** What to run. */
export interface MixedRunOptions {
  /** A directory of the caller's: berth.yaml is written there and the workers run in it. */
  readonly dir: string;
  readonly db: string;
  readonly workers: number;
  readonly ops: number;
  /** Allocations and reassigns pick ports here, e.g. `21000-23999`. */
  readonly range: string;
  /** The pool's first ports: front from here, back from here + 500, one step per slot. */
  readonly poolBase: number;
  /** Slots in the pool: fewer than workers, so reserves compete. */
  readonly poolSlots: number;
  /** Another build's library (its build/src/index.js); default this build's. */
  readonly lib?: string;
  /** A worker still running after this is killed (and shows as not done). */
  readonly timeoutMs: number;
  /** On a shared registry (`db` a postgres:// URL): worker i writes as machine `m{i % machines}`. */
  readonly machines?: number;
  /** These workers (by index) are SIGKILLed once they have reported `killAfterOps` operations. */
  readonly kill?: { readonly workers: readonly number[]; readonly afterOps: number };
}

/** What one worker did. */
export interface WorkerResult {
  readonly scope: string;
  /** The machine it wrote as (with MixedRunOptions.machines). */
  readonly machine?: string;
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly ops: readonly MixedOp[];
  /** Whether it printed its last line. */
  readonly done: boolean;
  readonly stderr: string;
}

/** The berth.yaml the workers read: one two-role pool. */
export function mixedConfig(poolBase: number, poolSlots: number): string {
  return [
    'pools:',
    `  ${MIXED_POOL}:`,
    `    ports: { ${MIXED_ROLES[0]}: ${poolBase}, ${MIXED_ROLES[1]}: ${poolBase + 500} }`,
    `    slots: ${poolSlots}`,
    '',
  ].join('\n');
}

interface Running {
  readonly ready: Promise<void>;
  readonly result: Promise<WorkerResult>;
  go(): void;
  kill(): void;
}

function start(opts: MixedRunOptions, index: number): Running {
  const scope = `w${index}`;
  const machine = opts.machines === undefined ? undefined : `m${index % opts.machines}`;
  const env = { ...process.env, ...(opts.lib ? { BERTH_MIXED_LIB: opts.lib } : {}), ...(machine ? { BERTH_MACHINE: machine } : {}) };
  const child = spawn(process.execPath, [WORKER, opts.db, scope, String(opts.ops), String(1000 + index), opts.range], {
    cwd: opts.dir,
    env,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let signalReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (signalReady = resolve));
  const doomed = opts.kill?.workers.includes(index) === true;
  child.stdout.on('data', (d) => {
    stdout += d;
    if (stdout.startsWith('ready\n')) signalReady();
    // Mid-burst: whatever it was doing in its store then is cut off with it.
    if (doomed && stdout.split('\n').filter((l) => l.startsWith('{"i"')).length >= opts.kill!.afterOps) child.kill('SIGKILL');
  });
  child.stderr.on('data', (d) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs);
  const result = new Promise<WorkerResult>((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      signalReady(); // a worker that died before `ready` must not hold the others
      const lines = stdout.split('\n').filter((l) => l.startsWith('{'));
      const parsed = lines.map((l) => JSON.parse(l) as MixedOp & { done?: boolean });
      resolve({ scope, machine, code, signal, ops: parsed.filter((l) => !l.done), done: parsed.some((l) => l.done), stderr });
    });
  });
  return {
    ready,
    result,
    go: () => child.stdin.end('go\n'),
    kill: () => child.kill('SIGKILL'),
  };
}

/** Runs the workers to the end; `ms` is from `go` to the last exit. */
export async function runMixed(opts: MixedRunOptions): Promise<{ workers: WorkerResult[]; ms: number }> {
  fs.writeFileSync(path.join(opts.dir, 'berth.yaml'), mixedConfig(opts.poolBase, opts.poolSlots));
  // Every worker opens the store (the first makes it) before `go`: the burst is the operations.
  const running: Running[] = [];
  try {
    for (let i = 0; i < opts.workers; i++) running.push(start(opts, i));
    await Promise.all(running.map((r) => r.ready));
    const began = Date.now();
    for (const r of running) r.go();
    const workers = await Promise.all(running.map((r) => r.result));
    return { workers, ms: Date.now() - began };
  } finally {
    for (const r of running) r.kill();
  }
}

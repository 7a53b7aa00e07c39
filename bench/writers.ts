/**
 * Writers under load: N processes × 25 mixed operations (allocate, get, release, reserve
 * and release a pool slot, reassign, list) on one SQLite store through the library, all
 * starting at once (test/race/mixed-run.ts, the stress test's harness). Reports how long
 * writers wait for the write transaction (timed from outside the store: from calling
 * `store.transaction('write', ...)` to its first statement), p50/p95/p99/max, at 8, 32 and
 * 64 processes, with lock timeouts and other errors; for this build ("after") and for an
 * older build ("before") when BERTH_BENCH_BEFORE names its checkout (built, with
 * build/src/index.js). The "before" figures are kept in bench/writers-before.json, so
 * `npm run bench` shows them again without the old checkout.
 *
 * Standalone: `node build/bench/writers.js` prints the section; `--write` also puts it
 * into BENCHMARKS.md in place of the previous one.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runMixed, type WorkerResult } from '../test/race/mixed-run.js';
import { fmt, mdTable, type BenchSection } from './stats.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
/** The checkout (bench runs from build/bench/). */
const ROOT = path.resolve(HERE, '..', '..');
const BEFORE_FILE = path.join(ROOT, 'bench', 'writers-before.json');
const TITLE = 'Writers under load: N processes × 25 mixed operations on one store';
const SIZES = [8, 32, 64];
const OPS = 25;
/** Fresh stores per N; their transactions are pooled. */
const ROUNDS = 3;
const RANGE = '25000-27999';
const POOL_BASE = 28000;
const POOL_SLOTS = 40;
/** A worker still running after this is killed, and counted in the errors. */
const WORKER_TIMEOUT_MS = 300_000;
/** The failures a correct registry gives under this load (see the stress test). */
const EXPECTED: Readonly<Record<string, readonly string[]>> = { reassign: ['refused', 'conflict'], reserve: ['exhausted'] };

/** One N, one build. */
interface SizeFigures {
  readonly n: number;
  readonly writes: number;
  /** Write-transaction waits, ms. */
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
  /** How long write transactions held the lock (first statement to commit), ms. */
  readonly holdP50: number;
  readonly holdP99: number;
  /** Whole operations (reads too), ms. */
  readonly opP99: number;
  readonly lockTimeouts: number;
  /** Errors other than lock timeouts and the expected domain ones, and workers that did not finish. */
  readonly otherErrors: number;
  /** Median round, seconds from `go` to the last exit. */
  readonly roundS: number;
  readonly samples: readonly string[];
}

/** One build's figures. */
interface BuildFigures {
  readonly label: string;
  readonly measuredAt: string;
  readonly command: string;
  readonly sizes: readonly SizeFigures[];
}

/** Nearest-rank percentile (p in 0..100). */
function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

function median(values: readonly number[]): number {
  return percentile(values, 50);
}

async function measureSize(n: number, lib: string | undefined): Promise<SizeFigures> {
  const waits: number[] = [];
  const holds: number[] = [];
  const opMs: number[] = [];
  const rounds: number[] = [];
  const samples: string[] = [];
  let lockTimeouts = 0;
  let otherErrors = 0;
  for (let r = 0; r < ROUNDS; r++) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-writers-bench-'));
    try {
      const run = await runMixed({ dir, db: path.join(dir, 'b.db'), workers: n, ops: OPS, range: RANGE, poolBase: POOL_BASE, poolSlots: POOL_SLOTS, lib, timeoutMs: WORKER_TIMEOUT_MS });
      rounds.push(run.ms / 1000);
      for (const w of run.workers as WorkerResult[]) {
        if (!w.done || w.code !== 0) {
          otherErrors++;
          if (samples.length < 3) samples.push(`N=${n} ${w.scope} did not finish (exit ${w.code}, ${w.signal ?? 'no signal'}): ${w.stderr.trim().split('\n')[0] ?? ''}`);
        }
        for (const op of w.ops) {
          waits.push(...op.waits);
          holds.push(...op.holds);
          opMs.push(op.ms);
          if (op.ok) continue;
          const first = (op.message ?? '').split('\n')[0]!;
          if (op.kind === 'store' && /locked/.test(first)) lockTimeouts++;
          else if (!(EXPECTED[op.op] ?? []).includes(op.kind!)) otherErrors++;
          else continue;
          if (samples.length < 3) samples.push(`N=${n} ${op.op} (${op.kind}): ${first}`);
        }
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
  return {
    n,
    writes: waits.length,
    p50: percentile(waits, 50),
    p95: percentile(waits, 95),
    p99: percentile(waits, 99),
    max: Math.max(...waits),
    holdP50: percentile(holds, 50),
    holdP99: percentile(holds, 99),
    opP99: percentile(opMs, 99),
    lockTimeouts,
    otherErrors,
    roundS: median(rounds),
    samples,
  };
}

async function measureBuild(label: string, lib: string | undefined, command: string): Promise<BuildFigures> {
  const sizes: SizeFigures[] = [];
  for (const n of SIZES) {
    process.stderr.write(`bench: writers ${label} N=${n} ...\n`);
    sizes.push(await measureSize(n, lib));
  }
  return { label, measuredAt: new Date().toISOString().slice(0, 10), command, sizes };
}

/** The "before" figures: measured now when BERTH_BENCH_BEFORE is set (and saved), else the saved ones. */
async function beforeFigures(): Promise<BuildFigures | null> {
  const checkout = process.env.BERTH_BENCH_BEFORE;
  if (!checkout) return fs.existsSync(BEFORE_FILE) ? (JSON.parse(fs.readFileSync(BEFORE_FILE, 'utf8')) as BuildFigures) : null;
  let commit = 'unknown commit';
  try {
    commit = execFileSync('git', ['-C', checkout, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    // Not a git checkout: the label says so, the figures stand.
  }
  const figures = await measureBuild(
    `before (${commit})`,
    path.join(checkout, 'build', 'src', 'index.js'),
    `BERTH_BENCH_BEFORE=${checkout} node build/bench/writers.js --write   # ${checkout}: git worktree add ${checkout} ${commit}; node_modules linked; npx tsc -p tsconfig.json && node scripts/bundle.mjs`,
  );
  fs.writeFileSync(BEFORE_FILE, `${JSON.stringify(figures, null, 2)}\n`);
  return figures;
}

const ms = (n: number): string => (n < 10 ? fmt(n, 2) : fmt(n, 0));

/** Runs the writers benchmark and returns its BENCHMARKS.md section. */
export default async function writersBench(): Promise<BenchSection> {
  const before = await beforeFigures();
  const after = await measureBuild('after (this build)', undefined, 'npm run bench, or: npm run build && node build/bench/writers.js --write');
  const builds = before ? [before, after] : [after];
  const rows = SIZES.flatMap((n) =>
    builds.map((b) => {
      const s = b.sizes.find((x) => x.n === n)!;
      return [n, b.label, s.writes, ms(s.p50), ms(s.p95), ms(s.p99), ms(s.max), `${ms(s.holdP50)} / ${ms(s.holdP99)}`, ms(s.opP99), s.lockTimeouts, s.otherErrors, fmt(s.roundS, 1)];
    }),
  );
  const samples = builds.flatMap((b) => b.sizes.flatMap((s) => s.samples.map((x) => `${b.label}: ${x}`)));
  const markdown = [
    `N processes each open one store through the library, load, then all start at once and run ${OPS} mixed operations`,
    '(allocate, get, release, reserve and release a slot of a 40-slot pool, reassign to a random port, list): the stress',
    `test's workload (test/race/stress-64.test.ts). ${ROUNDS} fresh stores per N, pooled. A writer's wait is the time from calling`,
    "`store.transaction('write', ...)` to its first statement, timed in each worker around the store (the same code for",
    'both builds): the queue for the write lock. "hold" is from that first statement to the commit: a holder that other',
    'processes keep off the CPU holds the lock longer. "op p99" is whole operations, reads included. Other errors',
    'exclude the expected ones (a reassign to a taken port, a full pool). The machine is shared: read the',
    'distribution\'s shape (p99 against p50, max) more than its milliseconds.',
    '',
    mdTable(['N', 'build', 'write transactions', 'wait p50 ms', 'p95 ms', 'p99 ms', 'max ms', 'hold p50 / p99 ms', 'op p99 ms', 'lock timeouts', 'other errors', 'round s (median)'], rows),
    '',
    ...builds.map((b) => `- ${b.label}, measured ${b.measuredAt}: \`${b.command}\``),
    ...(before ? [] : ['- no "before" figures: run once with BERTH_BENCH_BEFORE=DIR, a built checkout of the older commit.']),
    ...(samples.length ? ['', 'Errors seen:', '', ...samples.map((e) => `- ${e}`)] : []),
  ].join('\n');
  return { title: TITLE, markdown };
}

/** Puts `section` into BENCHMARKS.md in place of its previous version, or at the end. */
function writeSection(section: BenchSection): void {
  const file = path.join(ROOT, 'BENCHMARKS.md');
  const text = fs.readFileSync(file, 'utf8');
  const block = `## ${section.title}\n\n${section.markdown}\n`;
  const start = text.indexOf(`## ${section.title}\n`);
  if (start < 0) {
    fs.writeFileSync(file, `${text.trimEnd()}\n\n${block}`);
    return;
  }
  const next = text.indexOf('\n## ', start + 1);
  fs.writeFileSync(file, `${text.slice(0, start)}${block}${next < 0 ? '' : text.slice(next)}`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const section = await writersBench();
  console.log(section.markdown);
  if (process.argv.includes('--write')) writeSection(section);
}

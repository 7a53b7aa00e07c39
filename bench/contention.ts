/**
 * Contention on one store: N `berth allocate` processes started at once against one
 * SQLite file, against N `berth --version` processes (the floor: N Node start-ups at once
 * on the same cores). Reports round times and their ratio, per-process wall times (the
 * wait distribution), duplicate ports and errors. The target: at N=32 a round of
 * allocations takes at most 1.2× a round of `--version`, with 0 duplicates and 0 errors.
 *
 * BERTH_BENCH_BIN points the bench at another build's bin/berth.js (to measure an older
 * build, or while this tree's CLI does not build).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { fmt, mdTable, median, percentile, type BenchSection } from './stats.js';

const BIN = process.env.BERTH_BENCH_BIN ?? path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'berth.js');
/** Process counts whose round times are compared. */
const ROUND_SIZES = [8, 16, 32];
/** Process counts whose per-process times are shown (64 only here: it shows the queue's tail). */
const DISTRIBUTION_SIZES = [8, 32, 64];
/** Measured rounds per command and N, after one discarded warm-up round each. */
const ROUNDS = 7;
/** The N the target applies to, and the target. */
const TARGET_N = 32;
const TARGET_RATIO = 1.2;
/** A process still running after this is killed and counted as an error, so a hung lock cannot hang the bench. */
const PROCESS_TIMEOUT_MS = 60_000;

/** One finished process. */
interface Run {
  readonly code: number | null;
  /** Wall time from just before spawn to exit, as the caller sees it. */
  readonly ms: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** One round: N processes spawned back to back, then all awaited. */
interface Round {
  readonly ms: number;
  readonly runs: readonly Run[];
}

function runOne(args: readonly string[], env: NodeJS.ProcessEnv, cwd: string): Promise<Run> {
  return new Promise((resolve) => {
    const start = performance.now();
    // stdout is a pipe, as in PORT=$(berth allocate web --json | jq ...).
    const child = spawn(process.execPath, [BIN, ...args], { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), PROCESS_TIMEOUT_MS);
    child.on('error', (error) => {
      clearTimeout(timer);
      resolve({ code: null, ms: performance.now() - start, stdout, stderr: String(error) });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, ms: performance.now() - start, stdout, stderr: signal ? `killed by ${signal} after ${PROCESS_TIMEOUT_MS} ms\n${stderr}` : stderr });
    });
  });
}

async function runRound(n: number, argsFor: (i: number) => readonly string[], env: NodeJS.ProcessEnv, cwd: string): Promise<Round> {
  const start = performance.now();
  const runs = await Promise.all(Array.from({ length: n }, (_, i) => runOne(argsFor(i), env, cwd)));
  return { ms: performance.now() - start, runs };
}

/** Answers given more than once. */
function duplicates(ports: readonly number[]): number {
  return ports.length - new Set(ports).size;
}

/** The port a successful `allocate --json` printed, or null when it printed none. */
function portOf(run: Run): number | null {
  try {
    const leases = JSON.parse(run.stdout) as { port?: unknown }[];
    return typeof leases[0]?.port === 'number' ? leases[0].port : null;
  } catch {
    // Not JSON: the caller counts it as an error with its output.
    return null;
  }
}

/** Everything measured for one N. */
interface SizeResult {
  readonly n: number;
  readonly versionRounds: number[];
  readonly allocateRounds: number[];
  readonly versionPerProcess: number[];
  readonly allocatePerProcess: number[];
  /** Ports printed more than once within a round. */
  answerDuplicates: number;
  /** Ports held by more than one lease in the store afterwards, or leases missing or differing from what a process printed. */
  storeProblems: number;
  errors: number;
}

async function measureSize(n: number, dir: string, errorSamples: string[]): Promise<SizeResult> {
  const work = fs.mkdtempSync(path.join(dir, `n${n}-`));
  const env: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('BERTH_')));
  env.BERTH_DB = path.join(work, 'berth.db');
  env.BERTH_STATE_DIR = work;
  // The store exists before the first round: creating it is not what is measured.
  const warm = await runOne(['allocate', 'warmup', '--scope', 'warmup'], env, work);
  if (warm.code !== 0) throw new Error(`berth allocate warmup failed (exit ${warm.code}): ${warm.stderr}`);

  const result: SizeResult = { n, versionRounds: [], allocateRounds: [], versionPerProcess: [], allocatePerProcess: [], answerDuplicates: 0, storeProblems: 0, errors: 0 };
  const fail = (run: Run, what: string): void => {
    result.errors++;
    if (errorSamples.length < 5) errorSamples.push(`N=${n} ${what}: exit ${run.code}: ${run.stderr.trim().split('\n')[0] ?? ''}`);
  };
  for (let r = 0; r <= ROUNDS; r++) {
    const name = `svc${r}`;
    const version = (): Promise<Round> => runRound(n, () => ['--version'], env, work);
    const allocate = (): Promise<Round> => runRound(n, (i) => ['allocate', name, '--scope', `s${i}`, '--json'], env, work);
    // Alternate which goes first, so neither always runs on a machine the other just warmed.
    let v: Round;
    let a: Round;
    if (r % 2) {
      v = await version();
      a = await allocate();
    } else {
      a = await allocate();
      v = await version();
    }
    if (r === 0) continue; // warm-up round: page cache, code cache
    result.versionRounds.push(v.ms);
    result.allocateRounds.push(a.ms);
    result.versionPerProcess.push(...v.runs.map((x) => x.ms));
    result.allocatePerProcess.push(...a.runs.map((x) => x.ms));
    v.runs.filter((x) => x.code !== 0).forEach((x) => fail(x, '--version'));
    const printed = new Map<string, number>();
    a.runs.forEach((x, i) => {
      const port = x.code === 0 ? portOf(x) : null;
      if (port === null) fail(x, `allocate ${name} --scope s${i}`);
      else printed.set(`s${i}`, port);
    });
    result.answerDuplicates += duplicates([...printed.values()]);
    result.storeProblems += await checkStore(env, work, name, printed);
  }
  return result;
}

/** Counts store problems after a round: ports leased twice, and printed answers the store does not hold. */
async function checkStore(env: NodeJS.ProcessEnv, cwd: string, name: string, printed: ReadonlyMap<string, number>): Promise<number> {
  const list = await runOne(['list', '--json'], env, cwd);
  if (list.code !== 0) throw new Error(`berth list --json failed (exit ${list.code}): ${list.stderr}`);
  const leases = JSON.parse(list.stdout) as { scope: string; name: string; port: number; protocol: string }[];
  const taken = leases.map((l) => `${l.protocol}/${l.port}`);
  const held = new Map(leases.filter((l) => l.name === name).map((l) => [l.scope, l.port]));
  const mismatched = [...printed].filter(([scope, port]) => held.get(scope) !== port).length;
  return taken.length - new Set(taken).size + mismatched;
}

const ms = (n: number): string => fmt(n, 0);

/** Runs the contention benchmark and returns its BENCHMARKS.md section. */
export default async function contentionBench(): Promise<BenchSection> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-contention-bench-'));
  const errorSamples: string[] = [];
  const results = new Map<number, SizeResult>();
  try {
    for (const n of [...new Set([...ROUND_SIZES, ...DISTRIBUTION_SIZES])].sort((a, b) => a - b)) {
      process.stderr.write(`bench: contention N=${n} ...\n`);
      results.set(n, await measureSize(n, dir, errorSamples));
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }

  const ratio = (s: SizeResult): number => median(s.allocateRounds) / median(s.versionRounds);
  const roundRows = ROUND_SIZES.map((n) => results.get(n)!).map((s) => [
    s.n,
    `${ms(median(s.versionRounds))} / ${ms(percentile(s.versionRounds, 95))}`,
    `${ms(median(s.allocateRounds))} / ${ms(percentile(s.allocateRounds, 95))}`,
    `${fmt(ratio(s))}×`,
    `${s.answerDuplicates} / ${s.storeProblems}`,
    s.errors,
  ]);
  const distRows = DISTRIBUTION_SIZES.map((n) => results.get(n)!).flatMap((s) =>
    (
      [
        ['`--version`', s.versionPerProcess],
        ['`allocate`', s.allocatePerProcess],
      ] as const
    ).map(([label, t]) => [s.n, label, ms(percentile(t, 50)), ms(percentile(t, 95)), ms(percentile(t, 99)), ms(Math.max(...t))]),
  );
  const target = results.get(TARGET_N)!;
  const met = ratio(target) <= TARGET_RATIO && target.answerDuplicates + target.storeProblems === 0 && target.errors === 0;
  const markdown = [
    `N processes of the built CLI (\`node bin/berth.js\`, as a user runs it) are spawned back to back and all awaited:`,
    `\`berth allocate svcR --scope sI --json\` against one SQLite store (created before the first round), against`,
    `\`berth --version\` (the floor: N Node start-ups at once on the same cores). ${ROUNDS} rounds of each per N, interleaved,`,
    'after one warm-up round. Duplicates: ports printed twice in a round / problems in `berth list --json` afterwards',
    '(a port leased twice, or a printed port the store does not hold for that scope).',
    '',
    mdTable(['N', '`--version` round ms (median / p95)', '`allocate` round ms (median / p95)', 'allocate / --version', 'duplicates (answers / store)', 'errors'], roundRows),
    '',
    `Target at N=${TARGET_N}: a round of allocations at most ${fmt(TARGET_RATIO)}× a round of \`--version\`, 0 duplicates, 0 errors: **${met ? 'met' : 'not met'}** (${fmt(ratio(target))}×).`,
    '',
    `Each process's own wall time (spawn to exit), all ${ROUNDS} rounds pooled: how long a caller waits when N start at once.`,
    '',
    mdTable(['N', 'command', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms'], distRows),
    ...(errorSamples.length ? ['', 'Errors seen:', '', ...errorSamples.map((e) => `- ${e}`)] : []),
  ].join('\n');
  return { title: 'Contention: N `berth allocate` processes on one store', markdown };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) console.log((await contentionBench()).markdown);

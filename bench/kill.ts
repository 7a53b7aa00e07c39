/**
 * Benchmark: free a port by killing its one holder (a Node child listening on it), berth
 * in-process and as a command, against fkill and kill-port, interleaved in the same run.
 *
 * Each run starts a fresh holder (untimed), then times the kill until a bind probe on the
 * port succeeds: the moment a person can start their server again. Tools that return
 * before the holder is gone (kill-port) are polled with the same probe, so every row
 * measures the same thing. "call returns" is the tool's own time alone.
 *
 * Default export: a markdown section for BENCHMARKS.md (`npm run bench`).
 * Alone: `node build/bench/kill.js` prints it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import fkill from 'fkill';
import { openBerth, type Berth } from '../src/index.js';
import { ephemeralPortRange, isPortFree } from '../src/os/index.js';
import { fmt, mdTable, median, type BenchSection } from './stats.js';

/** Timed runs per contender; the median is reported. */
const RUNS = 15;
/** Untimed rounds first, to warm caches and the JIT. */
const WARMUP_RUNS = 2;
/** Longest wait for a holder child to listen, or for a port to bind again after a kill. */
const WAIT_LIMIT_MS = 10_000;
/** How often a port is probed while waiting for it to bind again. */
const FREE_POLL_MS = 1;
/** The grace berth and fkill give SIGTERM before SIGKILL (berth's default). */
const GRACE_MS = 3000;

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const BERTH_BIN = path.join(ROOT, 'bin', 'berth.js');
const KILL_PORT_BIN = path.join(ROOT, 'node_modules', '.bin', 'kill-port');

const killPort = createRequire(import.meta.url)('kill-port') as (port: number, method?: string) => Promise<unknown>;

const HOLDER_SCRIPT = `
const server = require('node:net').createServer();
server.listen({ host: '127.0.0.1', port: Number(process.argv[1]) }, () => console.log('ready'));
`;

interface Contender {
  readonly label: string;
  /** What the tool does, for the reader. */
  readonly does: string;
  readonly run: (port: number) => Promise<unknown>;
}

interface Row {
  readonly contender: Contender;
  readonly callMs: number[];
  readonly freeMs: number[];
  /** Runs where the holder survived or the port never bound again. */
  failures: number;
}

/** Starts a holder listening on 127.0.0.1:port and resolves once it listens. */
function startHolder(port: number): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', HOLDER_SCRIPT, String(port)], { stdio: ['ignore', 'pipe', 'ignore'] });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`holder did not listen on ${port} in time`));
    }, WAIT_LIMIT_MS);
    child.stdout!.once('data', () => {
      clearTimeout(timer);
      resolve(child);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`holder exited before listening (${code ?? signal}); is port ${port} taken?`));
    });
  });
}

/** Kills a child if it still runs and waits, bounded, for it to be reaped. */
async function reap(child: ChildProcess): Promise<boolean> {
  const gone = (): boolean => child.exitCode !== null || child.signalCode !== null;
  if (!gone()) await Promise.race([once(child, 'exit'), sleep(WAIT_LIMIT_MS)]);
  if (gone()) return true;
  child.kill('SIGKILL');
  await Promise.race([once(child, 'exit'), sleep(WAIT_LIMIT_MS)]);
  return false;
}

/** Runs a command to completion; rejects when it exits non-zero. */
function runCommand(file: string, args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve() : reject(new Error(`${file} ${args.join(' ')} exited ${code}: ${stderr.trim()}`))));
  });
}

/** A port free on every address and outside the ephemeral range. */
async function benchPort(): Promise<number> {
  const ephemeral = ephemeralPortRange();
  for (let port = 29_170; port < 32_000; port++) {
    if (ephemeral && port >= ephemeral.start && port <= ephemeral.end) continue;
    if (await isPortFree(port, 'tcp')) return port;
  }
  throw new Error('no free port from 29170 to 32000');
}

/** One timed kill: a fresh holder, the tool, then probes until the port binds. */
async function once_(row: Row, port: number, record: boolean): Promise<void> {
  const holder = await startHolder(port);
  const start = performance.now();
  let free = false;
  try {
    await row.contender.run(port);
    const called = performance.now();
    while (!(free = await isPortFree(port, 'tcp')) && performance.now() - start < WAIT_LIMIT_MS) await sleep(FREE_POLL_MS);
    const freed = performance.now();
    if (record) {
      row.callMs.push(called - start);
      row.freeMs.push(freed - start);
    }
  } finally {
    const exited = await reap(holder);
    if (record && (!exited || !free)) row.failures++;
  }
}

async function measure(contenders: readonly Contender[], port: number): Promise<Row[]> {
  const rows: Row[] = contenders.map((contender) => ({ contender, callMs: [], freeMs: [], failures: 0 }));
  for (let round = 0; round < WARMUP_RUNS + RUNS; round++) {
    for (const row of rows) await once_(row, port, round >= WARMUP_RUNS);
  }
  return rows;
}

function table(rows: readonly Row[]): string {
  const base = median(rows[0]!.freeMs);
  return mdTable(
    ['what', 'does', 'call returns', 'port binds again', 'vs berth'],
    rows.map((r) => [
      r.contender.label,
      r.contender.does,
      `${fmt(median(r.callMs))} ms`,
      `${fmt(median(r.freeMs))} ms${r.failures > 0 ? ` (${r.failures} of ${RUNS} runs failed)` : ''}`,
      r === rows[0] ? '1.0×' : `${fmt(median(r.freeMs) / base, 1)}×`,
    ]),
  );
}

/** Runs the benchmark and returns its BENCHMARKS.md section. */
export default async function benchKill(): Promise<BenchSection> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-kill-bench-'));
  let engine: Berth | undefined;
  try {
    const env = { ...process.env, BERTH_DB: path.join(dir, 'berth.db'), BERTH_SCOPE: 'bench' };
    engine = await openBerth({ db: env.BERTH_DB, cwd: dir, scope: 'bench' });
    const berth = engine;
    const port = await benchPort();

    const inProcess = await measure(
      [
        {
          label: "berth `engine.kill(':P')`",
          does: 'SIGTERM, waits for exit (SIGKILL after 3 s), bind probe',
          run: async (p) => {
            const report = await berth.kill(`:${p}`, { graceMs: GRACE_MS });
            if (!report.free) throw new Error(`berth did not free ${p}`);
          },
        },
        {
          label: `fkill \`fkill(':P', { forceAfterTimeout: ${GRACE_MS} })\``,
          does: 'finds the pid with `ss -tunlp`, SIGTERM, polls until gone (SIGKILL after 3 s)',
          run: (p) => fkill(`:${p}`, { forceAfterTimeout: GRACE_MS }),
        },
        {
          label: 'kill-port `killPort(P)`',
          does: '`lsof -i -P`, then `lsof -i tcp:P \\| grep LISTEN \\| awk \\| xargs kill -9`; does not wait',
          run: (p) => killPort(p, 'tcp'),
        },
      ],
      port,
    );
    const asProcess = await measure(
      [
        { label: '`berth kill :P`', does: 'as above, plus starting the CLI', run: (p) => runCommand(process.execPath, [BERTH_BIN, 'kill', `:${p}`], env) },
        { label: '`kill-port P` (installed bin)', does: 'as above, plus starting its CLI', run: (p) => runCommand(KILL_PORT_BIN, [String(p)], env) },
        { label: '`npx kill-port P`', does: 'as a person types it (npx finds the local install)', run: (p) => runCommand('npx', ['--no-install', 'kill-port', String(p)], env) },
      ],
      port,
    );

    const markdown = [
      `Killing the one holder of a port (a Node child listening on 127.0.0.1:${port}, started fresh and untimed before each run) ` +
        `until a bind probe on the port succeeds. Median of ${RUNS} interleaved runs after ${WARMUP_RUNS} warm-up rounds; "vs berth" divides ` +
        "the other tool's median by berth's (above 1× means berth is faster). Tools that return before the holder is gone are polled with " +
        `the same bind probe every ${FREE_POLL_MS} ms. berth's figure includes its own checks: every holder of the socket, the refusal policy ` +
        '(pid 1, itself, its ancestors, other users, container proxies), the wait for exit and the bind probe.',
      '',
      'In-process (library calls):',
      '',
      table(inProcess),
      '',
      'As a command:',
      '',
      table(asProcess),
      '',
      `Produced by \`npm run bench\` (this section alone: \`npm run build && node build/bench/kill.js\`) on Node ${process.version}, ` +
        `${os.cpus().length} CPUs, ${process.platform}.`,
    ].join('\n');
    return { title: 'Kill: free a port held by one process', markdown };
  } finally {
    await engine?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { title, markdown } = await benchKill();
  process.stdout.write(`## ${title}\n\n${markdown}\n`);
}

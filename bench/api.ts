/**
 * Allocation through the daemon's API against allocation through the library, in one
 * run: a real daemon (`node bin/berth.js serve --port P`, as a user starts it) and clients
 * on keep-alive HTTP connections over loopback TCP, each allocation a
 * `PUT /v1/leases/{scope}/{name}` of a new name; 1 client, then 32 clients (in
 * WORKERS processes: bench/api-worker.ts). The library: `openEngine` and
 * `engine.leases.allocate` in this process, 1 caller and 32 concurrent callers. Every
 * round is on a fresh store; every port given is checked for duplicates (in the answers
 * and in the store afterwards) and every failed request counted.
 *
 * The target (issue 11): at least 2,000 allocations/s from 32 clients, p99 under 20 ms,
 * 0 errors. For reference, the figures for warden (the closest peer registry with
 * an HTTP API, Python), measured earlier on this machine and not re-run here: 192
 * allocations/s from one client, 4.5 ms per allocation, and 4-9 % of simultaneous requests
 * failing with HTTP 409.
 *
 * A floor is measured alongside: a bare node:http server answering a made-up lease to the
 * same clients, which shows what HTTP over loopback costs on this machine during the run.
 *
 * BERTH_BENCH_DAEMON_ARGS passes Node flags to the daemon (e.g. `--cpu-prof
 * --cpu-prof-dir=/tmp/prof` to see where its time goes).
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { openEngine } from '../src/open.js';
import type { WorkerReport } from './api-worker.js';
import { freePort } from './ports.js';
import { fmt, mdTable, median, percentile, type BenchSection } from './stats.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const BIN = process.env.BERTH_BENCH_BIN ?? path.resolve(HERE, '..', '..', 'bin', 'berth.js');
const WORKER = path.join(HERE, 'api-worker.js');
/** Each configuration is measured this many times, each on a fresh daemon and store. */
const ROUNDS = 3;
/** Allocations per client: 1 client, and each of the 32. */
const SINGLE_COUNT = 2_000;
const MANY_CLIENTS = 32;
const MANY_COUNT = 200;
/** Processes the 32 clients run in (BERTH_BENCH_API_WORKERS, default 2: on a small machine the clients take the daemon's cores). */
const WORKERS = Number(process.env.BERTH_BENCH_API_WORKERS ?? 2);
/** Library allocations per round. */
const LIBRARY_COUNT = 5_000;
/** Named explicitly, as the throughput bench does: 51,001 ports, more than a run takes. */
const RANGE = '10000-61000';
/** The target at 32 clients. */
const TARGET_RATE = 2_000;
const TARGET_P99_MS = 20;
/** warden, from issue 11 (not measured in this run). */
const WARDEN = { rate: 192, ms: 4.5, conflicts: '4-9 %' };
/** A daemon that does not write its lockfile within this is a failed run. */
const START_TIMEOUT_MS = 30_000;

function duplicates(ports: readonly number[]): number {
  return ports.length - new Set(ports).size;
}

/** A daemon started as a user starts it, in `dir`. */
interface Serve {
  readonly port: number;
  readonly tokenFile: string;
  readonly child: ChildProcess;
}

async function startServe(dir: string): Promise<Serve> {
  const state = path.join(dir, 'state');
  const port = await freePort();
  const env: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('BERTH_')));
  Object.assign(env, { BERTH_STATE_DIR: state, BERTH_DB: path.join(dir, 'berth.db') });
  const child = spawn(process.execPath, [...(process.env.BERTH_BENCH_DAEMON_ARGS?.split(' ').filter(Boolean) ?? []), BIN, 'serve', '--port', String(port)], { cwd: dir, env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`berth serve exited ${child.exitCode}: ${stderr}`);
    try {
      if ((JSON.parse(fs.readFileSync(path.join(state, 'daemon.json'), 'utf8')) as { pid: number }).pid === child.pid) break;
    } catch {
      // Not written yet.
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`berth serve did not start within ${START_TIMEOUT_MS} ms: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return { port, tokenFile: path.join(state, 'api-token'), child };
}

async function stopServe(s: Serve): Promise<void> {
  if (s.child.exitCode !== null) return;
  const exited = new Promise((resolve) => s.child.once('exit', resolve));
  s.child.kill('SIGTERM');
  const timer = setTimeout(() => s.child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/** Every lease's port in the daemon's store. */
function storePorts(s: Serve): Promise<number[]> {
  const token = fs.readFileSync(s.tokenFile, 'utf8').trim();
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port: s.port, path: '/v1/leases', headers: { Host: `127.0.0.1:${s.port}`, Authorization: `Bearer ${token}` } }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve((JSON.parse(text) as { port: number }[]).map((l) => l.port)));
      })
      .on('error', reject);
  });
}

/** CPU time (user + system) a process has used so far, in ms, from /proc (Linux); null elsewhere. */
function cpuMsOf(pid: number): number | null {
  try {
    // Fields after the command's closing parenthesis: state is field 3, utime 14, stime 15.
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_S;
  } catch {
    // Not Linux, or the process is gone: the figure is left out.
    return null;
  }
}
/** USER_HZ: the unit of /proc's CPU times on every Linux architecture Node runs on. */
const CLOCK_TICKS_PER_S = 100;

/** One measured round. */
interface Round {
  readonly rate: number;
  /** CPU time the daemon (or this process, for the library) used per allocation, in ms; null when unknown. */
  readonly cpuMsPerAllocation: number | null;
  readonly latenciesMs: number[];
  readonly answerDuplicates: number;
  readonly storeDuplicates: number;
  readonly errors: number;
  readonly errorSamples: string[];
}

/** Where the clients send their PUTs: a daemon, or the floor server. */
interface Target {
  readonly port: number;
  readonly tokenFile: string;
  readonly child: ChildProcess;
}

/** Runs `clients` clients in `workers` processes against `target`, all started together after a warm-up. */
async function runClients(target: Target, clients: number, perClient: number, workers: number): Promise<Round & { allPorts: number[] }> {
  const procs: ChildProcess[] = [];
  try {
    const reports: Promise<WorkerReport>[] = [];
    const ready: Promise<void>[] = [];
    for (let w = 0; w < workers; w++) {
      const n = Math.floor(clients / workers) + (w < clients % workers ? 1 : 0);
      const child = fork(WORKER, [String(target.port), target.tokenFile, String(n), String(perClient), `w${w}`, RANGE], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      procs.push(child);
      ready.push(
        new Promise((resolve, reject) => {
          child.once('message', () => resolve());
          child.once('exit', (code) => reject(new Error(`api worker exited ${code} before it was ready`)));
        }),
      );
    }
    await Promise.all(ready);
    for (const child of procs) {
      child.removeAllListeners('exit');
      reports.push(
        new Promise((resolve, reject) => {
          child.once('message', (m) => resolve(m as WorkerReport));
          child.once('exit', (code) => reject(new Error(`api worker exited ${code} without a report`)));
        }),
      );
    }
    const cpuBefore = cpuMsOf(target.child.pid!);
    const start = performance.now();
    for (const child of procs) child.send('go');
    const all = await Promise.all(reports);
    const seconds = (performance.now() - start) / 1000;
    const cpuAfter = cpuMsOf(target.child.pid!);
    const allPorts = all.flatMap((r) => [...r.ports, ...r.warmupPorts]);
    const latenciesMs = all.flatMap((r) => r.latenciesMs);
    return {
      rate: latenciesMs.length / seconds,
      cpuMsPerAllocation: cpuBefore === null || cpuAfter === null ? null : (cpuAfter - cpuBefore) / latenciesMs.length,
      latenciesMs,
      allPorts,
      answerDuplicates: duplicates(allPorts),
      storeDuplicates: 0,
      // Every measured request that did not come back a lease (failed, or never answered).
      errors: clients * perClient - latenciesMs.length,
      errorSamples: all.flatMap((r) => r.errorSamples),
    };
  } finally {
    for (const child of procs) if (child.exitCode === null) child.kill('SIGKILL');
  }
}

/** One round through a fresh daemon and store. */
export async function apiRound(base: string, clients: number, perClient: number, workers: number): Promise<Round> {
  const dir = fs.mkdtempSync(path.join(base, `api-${clients}-`));
  const serve = await startServe(dir);
  try {
    const { allPorts: _, ...round } = await runClients(serve, clients, perClient, workers);
    return { ...round, storeDuplicates: duplicates(await storePorts(serve)) };
  } finally {
    await stopServe(serve);
  }
}

/**
 * The floor: a bare node:http server that answers every PUT with a made-up lease (no
 * token check, no store, nothing), driven by the same clients. What Node's HTTP over
 * loopback costs on this machine in this run; the API cannot be faster.
 */
const FLOOR_SERVER = `let p = 10000;
require('http').createServer((q, s) => { q.resume(); q.on('end', () => { const t = JSON.stringify({ port: p++ }); s.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(t) }); s.end(t); }); })
  .listen(Number(process.argv[1]), '127.0.0.1', () => console.log('up'));`;

async function floorRound(base: string, clients: number, perClient: number, workers: number): Promise<Round> {
  const dir = fs.mkdtempSync(path.join(base, `floor-${clients}-`));
  const tokenFile = path.join(dir, 'token');
  fs.writeFileSync(tokenFile, 'none\n', { mode: 0o600 });
  const port = await freePort();
  const child = spawn(process.execPath, ['-e', FLOOR_SERVER, String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    await new Promise((resolve, reject) => {
      child.stdout!.once('data', resolve);
      child.once('exit', (code) => reject(new Error(`the floor server exited ${code}`)));
    });
    const { allPorts: _, ...round } = await runClients({ port, tokenFile, child }, clients, perClient, workers);
    return round;
  } finally {
    await stopServe({ port, tokenFile, child });
  }
}

export async function libraryRound(base: string, callers: number, count: number): Promise<Round> {
  const dir = fs.mkdtempSync(path.join(base, `lib-${callers}-`));
  const engine = openEngine({ db: path.join(dir, 'berth.db'), env: {} });
  const [start, end] = RANGE.split('-').map(Number) as [number, number];
  const latenciesMs: number[] = [];
  const ports: number[] = [];
  const errorSamples: string[] = [];
  let errors = 0;
  const one = async (scope: string, name: string, measured: boolean): Promise<void> => {
    const t = performance.now();
    try {
      const [lease] = await engine.leases.allocate({ scope }, [{ name, range: { start, end } }]);
      if (measured) latenciesMs.push(performance.now() - t);
      ports.push(lease!.port);
    } catch (error) {
      errors++;
      if (errorSamples.length < 3) errorSamples.push((error as Error).message);
    }
  };
  try {
    for (let i = 0; i < 100; i++) await one('warm', `w${i}`, false);
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const per = Math.ceil(count / callers);
    await Promise.all(Array.from({ length: callers }, async (_, c) => {
      for (let i = 0; i < per; i++) await one(`lib-c${c}`, `n${i}`, true);
    }));
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const stored = (await engine.leases.list({})).map((l) => l.port);
    return { rate: latenciesMs.length / seconds, cpuMsPerAllocation: (cpu.user + cpu.system) / 1000 / latenciesMs.length, latenciesMs, answerDuplicates: duplicates(ports), storeDuplicates: duplicates(stored), errors, errorSamples };
  } finally {
    await engine.close();
  }
}

/** All rounds of one configuration, summarised. */
interface Config {
  readonly label: string;
  readonly clients: number;
  readonly rounds: Round[];
}

const ms = (n: number): string => fmt(n, 2);

function row(c: Config): (string | number)[] {
  const rates = c.rounds.map((r) => r.rate);
  const lat = c.rounds.flatMap((r) => r.latenciesMs);
  const cpu = c.rounds.map((r) => r.cpuMsPerAllocation).filter((x): x is number => x !== null);
  return [
    c.label,
    c.clients,
    lat.length,
    `${fmt(median(rates), 0)} (${fmt(Math.min(...rates), 0)}–${fmt(Math.max(...rates), 0)})`,
    cpu.length ? fmt(median(cpu) * 1000, 0) : '-',
    ms(percentile(lat, 50)),
    ms(percentile(lat, 99)),
    ms(Math.max(...lat)),
    `${c.rounds.reduce((n, r) => n + r.answerDuplicates, 0)} / ${c.rounds.reduce((n, r) => n + r.storeDuplicates, 0)}`,
    c.rounds.reduce((n, r) => n + r.errors, 0),
  ];
}

/** Runs the API benchmark and returns its BENCHMARKS.md section. */
export default async function apiBench(): Promise<BenchSection> {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-api-bench-'));
  const configs: Config[] = [
    { label: 'API, `PUT /v1/leases/{scope}/{name}`', clients: 1, rounds: [] },
    { label: 'API, `PUT /v1/leases/{scope}/{name}`', clients: MANY_CLIENTS, rounds: [] },
    { label: 'library, `engine.leases.allocate`', clients: 1, rounds: [] },
    { label: 'library, `engine.leases.allocate`', clients: MANY_CLIENTS, rounds: [] },
    { label: 'floor: bare `node:http`, no berth', clients: 1, rounds: [] },
    { label: 'floor: bare `node:http`, no berth', clients: MANY_CLIENTS, rounds: [] },
  ];
  try {
    // Interleaved: each round runs every configuration once, so drift hits all alike.
    for (let r = 0; r < ROUNDS; r++) {
      process.stderr.write(`bench: api round ${r + 1}/${ROUNDS} ...\n`);
      configs[0]!.rounds.push(await apiRound(base, 1, SINGLE_COUNT, 1));
      configs[1]!.rounds.push(await apiRound(base, MANY_CLIENTS, MANY_COUNT, WORKERS));
      configs[2]!.rounds.push(await libraryRound(base, 1, LIBRARY_COUNT));
      configs[3]!.rounds.push(await libraryRound(base, MANY_CLIENTS, LIBRARY_COUNT));
      configs[4]!.rounds.push(await floorRound(base, 1, SINGLE_COUNT, 1));
      configs[5]!.rounds.push(await floorRound(base, MANY_CLIENTS, MANY_COUNT, WORKERS));
    }
  } finally {
    fs.rmSync(base, { recursive: true, force: true });
  }
  const many = configs[1]!;
  const manyRate = median(many.rounds.map((r) => r.rate));
  const manyP99 = percentile(many.rounds.flatMap((r) => r.latenciesMs), 99);
  const floorRate = median(configs[5]!.rounds.map((r) => r.rate));
  const floorP99 = percentile(configs[5]!.rounds.flatMap((r) => r.latenciesMs), 99);
  const problems = configs.slice(0, 4).reduce((n, c) => n + c.rounds.reduce((m, r) => m + r.errors + r.answerDuplicates + r.storeDuplicates, 0), 0);
  const met = manyRate >= TARGET_RATE && manyP99 < TARGET_P99_MS && problems === 0;
  const single = median(configs[0]!.rounds.map((r) => r.rate));
  const samples = configs.flatMap((c) => c.rounds.flatMap((r) => r.errorSamples)).slice(0, 5);
  const markdown = [
    `A daemon started as a user starts it (\`node bin/berth.js serve --port P\`, SQLite store), and clients on keep-alive HTTP/1.1`,
    'connections over loopback TCP (requests written and answers read on the socket, as wrk and autocannon do: node:http\'s',
    `client would cost the clients more CPU than the daemon), each allocation a \`PUT /v1/leases/{scope}/{name}\` of a new name in ${RANGE}`,
    `(${SINGLE_COUNT} from 1 client; ${MANY_COUNT} from each of ${MANY_CLIENTS} clients in ${WORKERS} processes, all started together`,
    'after a warm-up). The library: `openEngine` and `engine.leases.allocate` in-process, the same range, 1 caller and',
    `${MANY_CLIENTS} concurrent callers (${LIBRARY_COUNT} allocations). ${ROUNDS} rounds of each, interleaved, each on a fresh daemon and store;`,
    'rates are the median round (slowest–fastest), latencies pooled over all rounds. Duplicates: ports given twice in the',
    'answers / ports leased twice in the store afterwards. CPU: user + system time of the daemon process (from /proc) or of this',
    'process (the library) over the round, per allocation, median round: what a busy machine does not inflate as much as wall time.',
    '',
    mdTable(['path', 'clients', 'allocations', 'allocations/s', 'CPU µs per allocation', 'p50 ms', 'p99 ms', 'max ms', 'duplicates', 'errors'], configs.map(row)),
    '',
    `Target at ${MANY_CLIENTS} clients: at least ${TARGET_RATE} allocations/s, p99 under ${TARGET_P99_MS} ms, 0 errors, 0 duplicates:`,
    `**${met ? 'met' : 'not met'}** (${fmt(manyRate, 0)}/s, p99 ${ms(manyP99)} ms). The floor, a bare \`node:http\` server answering a made-up`,
    `lease to the same ${MANY_CLIENTS} clients in the same run, did ${fmt(floorRate, 0)}/s with p99 ${ms(floorP99)} ms: the API runs at ${fmt(manyRate / floorRate)}× the floor's rate.`,
    '',
    `For reference, warden (Python, the closest peer registry with an HTTP API), as measured on this machine for issue 11`,
    `and not re-run here: ${WARDEN.rate} allocations/s from one client (${WARDEN.ms} ms each), and ${WARDEN.conflicts} of simultaneous`,
    `requests failing with HTTP 409. berth's API from one client: ${fmt(single / WARDEN.rate, 1)}× warden's rate.`,
    ...(samples.length ? ['', 'Errors seen:', '', ...samples.map((e) => `- ${e}`)] : []),
  ].join('\n');
  return { title: 'The API: allocations through the daemon against the library', markdown };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) console.log((await apiBench()).markdown);

/**
 * Benchmark: launching the fragile stack (db ready after 1 s, api with a child
 * worker that holds api's port, web needing api) with `berth up`, as a user runs it:
 * - time until every service is healthy, and starts before a dependency was ready;
 * - SIGKILL of api's main process → time until api is healthy again, and orphans left;
 * - every stop path (Ctrl-C to the group, SIGTERM or SIGHUP to berth alone, berth down)
 *   → time until no process of the stack is left and every port is free, and survivors;
 * - a stranger on api's port → detected before anything starts.
 * The peers (pm2, foreman, concurrently + wait-on, supervisor) run the same
 * scenarios in the same run (bench/launch-peers.ts); the table puts them beside berth.
 *
 * Default export: a markdown section for BENCHMARKS.md. Alone: `node build/bench/launch.js`.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { freePort, portFree, SVC } from './launch-peer-tools.js';
import { peerCells, runPeers } from './launch-peers.js';
import { fmt, mdTable, median, type BenchSection } from './stats.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const BERTH_BIN = path.join(ROOT, 'bin', 'berth.js');
/** Stacks brought up per measurement. */
const RUNS = 5;
/** Stacks each peer brings up (and strangers it meets): fewer, as a peer may sit out its bounds. */
const PEER_RUNS = 3;
const WAIT_LIMIT_MS = 30_000;

/** One project: berth.yaml with the fragile stack on its own ports, its own state directory. */
class Project {
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-bench-launch-'));
  readonly scope = `bench${Math.random().toString(36).slice(2, 8)}`;
  up: ChildProcess | null = null;
  out = '';

  constructor(readonly ports: readonly number[]) {
    const svc = (name: string, port: number, extra: string, env: string): string =>
      `  ${name}:\n    port: ${port}\n    http: true\n    command: [${JSON.stringify(process.execPath)}, ${JSON.stringify(SVC)}]\n    environment: {${env}}\n${extra}`;
    fs.writeFileSync(
      path.join(this.dir, 'berth.yaml'),
      `project: ${this.scope}\nservices:\n` +
        svc('db', ports[0]!, '    health: {http: /, interval: 100ms}\n', 'FX_READY_DELAY_MS: "1000"') +
        svc('api', ports[1]!, '    depends_on: [db]\n    health: {http: /, interval: 100ms}\n    stop: {grace: 2s}\n', 'FX_NEEDS: DB_URL, FX_WORKER: "1"') +
        svc('web', ports[2]!, '    depends_on: [api]\n    health: {tcp: true}\n', 'FX_NEEDS: API_URL'),
    );
  }

  env(): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('BERTH_')) env[k] = v;
    return { ...env, BERTH_STATE_DIR: path.join(this.dir, 'state'), BERTH_DB: path.join(this.dir, 'berth.db') };
  }

  cli(args: readonly string[]): { code: number | null; stdout: string; stderr: string } {
    const r = spawnSync(process.execPath, [BERTH_BIN, ...args], { cwd: this.dir, env: this.env(), encoding: 'utf8' });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  start(args: readonly string[] = []): void {
    this.out = '';
    this.up = spawn(process.execPath, [BERTH_BIN, 'up', ...args], { cwd: this.dir, env: this.env(), detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    this.up.stdout!.on('data', (d) => (this.out += d));
    this.up.stderr!.on('data', (d) => (this.out += d));
  }

  async until(what: string, check: () => boolean | Promise<boolean>): Promise<void> {
    const deadline = Date.now() + WAIT_LIMIT_MS;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`bench launch: timed out waiting for ${what}\n${this.out}`);
      await sleep(2);
    }
  }

  /** Live processes carrying this project's launch marker. */
  processes(): number[] {
    const mark = `BERTH_LAUNCH_ID=${this.scope}/`;
    const found: number[] = [];
    for (const name of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(name)) continue;
      try {
        if (/\) [ZX] /.test(fs.readFileSync(`/proc/${name}/stat`, 'utf8'))) continue;
        if (fs.readFileSync(`/proc/${name}/environ`, 'latin1').split('\0').some((e) => e.startsWith(mark))) found.push(Number(name));
      } catch {
        // Exited meanwhile, or not ours to read.
      }
    }
    return found;
  }

  async allGone(): Promise<boolean> {
    if (this.processes().length > 0) return false;
    for (const p of this.ports) if (!(await portFree(p))) return false;
    return true;
  }

  cleanup(): void {
    if (this.up?.exitCode === null && this.up.signalCode === null) {
      try {
        process.kill(-this.up.pid!, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    this.cli(['down']);
    // berth up runs the stack in the state directory's daemon (started on first use): stop it.
    this.cli(['daemon', 'stop']);
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

async function newProject(): Promise<Project> {
  return new Project([await freePort(), await freePort(), await freePort()]);
}

/** Starts the stack; resolves with ms until every service is healthy. */
async function upHealthy(p: Project): Promise<number> {
  // The daemon that runs stacks is up before the clock starts, as it is after a machine's
  // first berth up (its own start is not the stack's); berth up starts it when it is not.
  p.cli(['daemon', 'start']);
  const t0 = performance.now();
  p.start();
  await p.until('the stack to be healthy', () => p.out.includes('Ctrl-C stops the stack'));
  return performance.now() - t0;
}

type StopPath = 'Ctrl-C (SIGINT to the group)' | 'SIGTERM to berth alone' | 'SIGHUP to berth alone' | 'berth down';

async function stopBy(p: Project, how: StopPath): Promise<{ ms: number; survivors: number }> {
  const t0 = performance.now();
  if (how === 'berth down') p.cli(['down']);
  else process.kill(how.startsWith('Ctrl-C') ? -p.up!.pid! : p.up!.pid!, how.startsWith('Ctrl-C') ? 'SIGINT' : how.startsWith('SIGTERM') ? 'SIGTERM' : 'SIGHUP');
  const deadline = Date.now() + WAIT_LIMIT_MS;
  while (!(await p.allGone()) && Date.now() < deadline) await sleep(2);
  const ms = performance.now() - t0;
  return { ms, survivors: p.processes().length };
}

export default async function launchBench(): Promise<BenchSection> {
  const healthy: number[] = [];
  let early = 0;
  const crash: number[] = [];
  let orphans = 0;
  const stops = new Map<StopPath, { ms: number[]; survivors: number }>();
  const paths: StopPath[] = ['Ctrl-C (SIGINT to the group)', 'SIGTERM to berth alone', 'SIGHUP to berth alone', 'berth down'];
  for (let run = 0; run < RUNS; run += 1) {
    for (const how of paths) {
      const p = await newProject();
      try {
        healthy.push(await upHealthy(p));
        early += (p.out.match(/EARLY/g) ?? []).length;
        if (how === paths[0]) {
          // Crash: api's main process dies; its worker holds api's port.
          const api = (JSON.parse(p.cli(['ps', '--json']).stdout) as { name: string; pid: number; pids: number[] }[]).find((s) => s.name === 'api')!;
          const mark = p.out.length;
          const t0 = performance.now();
          process.kill(api.pid, 'SIGKILL');
          await p.until('api healthy again', () => p.out.slice(mark).includes('api | [berth] healthy'));
          crash.push(performance.now() - t0);
          orphans += api.pids.filter((pid) => p.processes().includes(pid)).length;
        }
        const r = await stopBy(p, how);
        const s = stops.get(how) ?? { ms: [], survivors: 0 };
        s.ms.push(r.ms);
        s.survivors += r.survivors;
        stops.set(how, s);
      } finally {
        p.cleanup();
      }
    }
  }
  // A stranger answering 200 on api's port: up must name it and start nothing.
  let detected = 0;
  const strangerRuns = RUNS;
  for (let run = 0; run < strangerRuns; run += 1) {
    const p = await newProject();
    const stranger = spawn(process.execPath, ['-e', `require('http').createServer((q, r) => r.end('ok')).listen(${p.ports[1]}, '127.0.0.1', () => console.log('ready'))`], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      await new Promise((r) => stranger.stdout!.once('data', r));
      const res = p.cli(['up', '--non-interactive']);
      if (res.code === 4 && res.stderr.includes(`pid ${stranger.pid} (node)`) && p.processes().length === 0) detected += 1;
    } finally {
      stranger.kill('SIGKILL');
      p.cleanup();
    }
  }

  const peers = await runPeers(PEER_RUNS);
  const cells = peers.map(peerCells);
  const stopAlone = (how: StopPath): string => `${fmt(median(stops.get(how)!.ms), 0)} ms median of ${stops.get(how)!.ms.length}: ${stops.get(how)!.survivors} survivors, 0 held ports`;
  const notRun = peers.map(() => 'not run');
  const rows: (string | number)[][] = [
    ['fragile stack healthy (db ready after 1 s)', `${fmt(median(healthy) / 1000)} s median of ${healthy.length}; ${early} starts before a dependency was ready`, ...cells.map((c) => c[0])],
    ['crash of api (its worker holds the port) → api answered by a new process', `${fmt(median(crash), 0)} ms median of ${crash.length}; ${orphans} orphans`, ...cells.map((c) => c[1])],
    ['stop: SIGTERM to the tool\'s own pid', stopAlone('SIGTERM to berth alone'), ...cells.map((c) => c[2])],
    ...paths.filter((how) => how !== 'SIGTERM to berth alone').map((how) => [`stop: ${how}`, stopAlone(how), ...notRun]),
    ['stranger answering 200 on api\'s port', `detected before any start ${detected}/${strangerRuns}, named by pid; exit 4, nothing started`, ...cells.map((c) => c[3])],
  ];
  const markdown = [
    'The issue\'s stack (fixture services in test/fixtures/launch/svc.mjs): db ready after 1 s, api with a child',
    'worker that holds api\'s port and exits at once when db is not ready, web needing api. berth runs it with `berth up`;',
    'beside it, in the same run, the launchers a user would use instead, configured as a user would: pm2 (ecosystem file,',
    'autorestart, own PM2_HOME), foreman `nf start` (Procfile), concurrently `--restart-tries -1` with wait-on before each',
    'dependent, supervisor (`supervisord -n`, priorities, autorestart, killasgroup). A peer is healthy when every port',
    'answers 200; crash → the time until api\'s port is answered by a process that is not of the killed tree. The tool\'s',
    'own pid is berth\'s, pm2\'s daemon (`pm2 start` returns), nf\'s, concurrently\'s, supervisord\'s. berth is',
    `timed until no process of the stack is left and every port binds again (${RUNS} stacks per stop path); each peer`,
    `runs ${PEER_RUNS} stacks and ${PEER_RUNS} strangers, every wait bounded (the bound is given when a peer never got there).`,
    '',
    mdTable(['scenario', 'berth', ...peers.map((p) => p.label)], rows),
  ].join('\n');
  return { title: 'Launch: a fragile stack, crashes and stops', markdown };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const section = await launchBench();
  process.stdout.write(`## ${section.title}\n\n${section.markdown}\n`);
}

/**
 * Benchmark: launching the issue's fragile stack (db ready after 1 s, api with a child
 * worker that holds api's port, web needing api) with `berth up`, as a user runs it:
 * - time until every service is healthy, and starts before a dependency was ready;
 * - SIGKILL of api's main process → time until api is healthy again, and orphans left;
 * - every stop path (Ctrl-C to the group, SIGTERM to berth alone, SIGHUP to the group as a
 *   closing terminal sends it, berth down) → time until no process of the stack is left and
 *   every port is free, and survivors and held ports 500 ms and 3 s after the stop began;
 * - a stranger on api's port → detected before anything starts.
 * The issue's peers (pm2, foreman, concurrently + wait-on, supervisor) run the same
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
import { SVC } from './launch-peer-tools.js';
import { freePort, heldPorts } from './ports.js';
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

  /** The CLI run without blocking the bench, so a stop can be sampled while it runs. */
  cliAsync(args: readonly string[]): Promise<void> {
    const child = spawn(process.execPath, [BERTH_BIN, ...args], { cwd: this.dir, env: this.env(), stdio: 'ignore' });
    return new Promise((resolve) => child.on('close', () => resolve()));
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

  /** Processes of the stack left and ports still held. */
  async left(): Promise<Left> {
    return { procs: this.processes().length, ports: await heldPorts(this.ports) };
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

interface Left {
  procs: number;
  ports: number;
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

type StopPath = 'Ctrl-C (SIGINT to the group)' | 'SIGTERM to berth alone' | 'SIGHUP to the group (terminal closed)' | 'berth down';
/** When what is left is counted, ms after the stop began (as for the peers). */
const CHECKPOINTS_MS = [500, 3_000] as const;

/** One stop: ms until nothing is left (or the bound), and what was left at each checkpoint. */
async function stopBy(p: Project, how: StopPath): Promise<{ ms: number; at: Left[] }> {
  const t0 = performance.now();
  let down: Promise<void> = Promise.resolve();
  if (how === 'berth down') down = p.cliAsync(['down']);
  else if (how.startsWith('SIGTERM')) process.kill(p.up!.pid!, 'SIGTERM');
  // A terminal signals its foreground job's group: Ctrl-C sends SIGINT, hanging up sends SIGHUP.
  else process.kill(-p.up!.pid!, how.startsWith('Ctrl-C') ? 'SIGINT' : 'SIGHUP');
  const at: Left[] = [];
  const deadline = Date.now() + WAIT_LIMIT_MS;
  for (;;) {
    const left = await p.left();
    const elapsed = performance.now() - t0;
    const gone = left.procs === 0 && left.ports === 0;
    while (at.length < CHECKPOINTS_MS.length && elapsed >= CHECKPOINTS_MS[at.length]!) at.push(left);
    if (gone || Date.now() > deadline) {
      await down;
      // Checkpoints still ahead are counted when they come, as for the peers: nothing may come back.
      for (const ms of CHECKPOINTS_MS.slice(at.length)) {
        await sleep(Math.max(0, ms - (performance.now() - t0)));
        at.push(await p.left());
      }
      return { ms: elapsed, at };
    }
    await sleep(2);
  }
}

export default async function launchBench(): Promise<BenchSection> {
  // Stored with the figures: on a shared machine the load says how far to trust the milliseconds.
  const loadAtStart = os.loadavg()[0]!;
  const healthy: number[] = [];
  let early = 0;
  const crash: number[] = [];
  let orphans = 0;
  const stops = new Map<StopPath, { ms: number[]; at: Left[] }>();
  const paths: StopPath[] = ['Ctrl-C (SIGINT to the group)', 'SIGTERM to berth alone', 'SIGHUP to the group (terminal closed)', 'berth down'];
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
        const s = stops.get(how) ?? { ms: [], at: CHECKPOINTS_MS.map(() => ({ procs: 0, ports: 0 })) };
        s.ms.push(r.ms);
        r.at.forEach((left, i) => {
          s.at[i]!.procs += left.procs;
          s.at[i]!.ports += left.ports;
        });
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

  const { results: peers, left } = await runPeers(PEER_RUNS);
  const cells = peers.map(peerCells);
  const berthStop = (how: StopPath): string => {
    const s = stops.get(how)!;
    const at = CHECKPOINTS_MS.map((ms, i) => `after ${ms >= 1000 ? `${ms / 1000} s` : `${ms} ms`}: ${s.at[i]!.procs} survivors, ${s.at[i]!.ports} held ports`).join('; ');
    return `${fmt(median(s.ms), 0)} ms median of ${s.ms.length} until nothing was left; ${at} (totals over ${s.ms.length} runs)`;
  };
  const rows: (string | number)[][] = [
    ['fragile stack healthy (db ready after 1 s)', `${fmt(median(healthy) / 1000)} s median of ${healthy.length}; ${early} starts before a dependency was ready`, ...cells.map((c) => c.healthy)],
    ['crash of api (its worker holds the port) → api answered by a new process', `${fmt(median(crash), 0)} ms median of ${crash.length}; ${orphans} orphans`, ...cells.map((c) => c.crash)],
    ['stop: Ctrl-C (SIGINT to the job\'s process group)', berthStop('Ctrl-C (SIGINT to the group)'), ...cells.map((c) => c.stops[0])],
    ['stop: SIGTERM to the tool\'s own pid alone', berthStop('SIGTERM to berth alone'), ...cells.map((c) => c.stops[1])],
    ['stop: SIGHUP to the job\'s process group (terminal closed)', berthStop('SIGHUP to the group (terminal closed)'), ...cells.map((c) => c.stops[2])],
    ['stop: the tool\'s own stop command', `\`berth down\`: ${berthStop('berth down')}`, ...cells.map((c) => c.stops[3])],
    ['stranger answering 200 on api\'s port', `detected before any start ${detected}/${strangerRuns}, named by pid; exit 4, nothing started`, ...cells.map((c) => c.stranger)],
  ];
  const markdown = [
    'The issue\'s stack (fixture services in test/fixtures/launch/svc.mjs): db ready after 1 s, api with a child',
    'worker that holds api\'s port and exits at once when db is not ready, web needing api. berth runs it with `berth up`;',
    'beside it, in the same run, the launchers a user would use instead, configured as a user would: pm2 (ecosystem file,',
    'autorestart, own PM2_HOME), foreman `nf start` (Procfile), concurrently `--restart-tries -1` with wait-on before each',
    'dependent, supervisor (`supervisord -n`, priorities, autorestart, killasgroup; own socket, pid file and logs). A peer is healthy when every port',
    'answers 200; crash → the time until api\'s port is answered by a process that is not of the killed tree.',
    '',
    'Stops, each on a fresh stack: the job is what the user started in a terminal, in a process group of its own (`berth up`,',
    '`nf start`, `concurrently`, `supervisord -n`, `pm2 start`, which returns at once: pm2\'s daemon and the stack run in a',
    'session of their own, so a terminal\'s signals reach nothing of them). Ctrl-C is SIGINT to that group; a closed terminal is',
    'SIGHUP to that group (the kernel hangs up the shell, which sends SIGHUP to its jobs). The tool\'s own pid is berth\'s,',
    'pm2\'s daemon\'s, nf\'s, concurrently\'s, supervisord\'s. Survivors are the stack\'s processes (4 per stack: db, api, api\'s',
    'worker, web), held ports of its 3, counted 500 ms and 3 s after the stop began. nf ends the whole stack when api exits',
    'early, so it never brings this stack up (first row); its stops run with wait-on before each dependent, as concurrently\'s.',
    `berth: ${RUNS} stacks per stop path; each peer: ${PEER_RUNS} stacks per scenario and stop path, and ${PEER_RUNS} strangers, every wait bounded`,
    `(the bound is given when a peer never got there). Processes of any peer run left when the bench ended: ${left}.`,
    'supervisord documents SIGHUP as "stop all, reload, start all": its SIGHUP cells catch it between the two (the stack',
    'comes back a few seconds later, beside the old api worker that still holds api\'s port).',
    `Load average (1 min) at the start and the end of this section: ${fmt(loadAtStart, 1)} and ${fmt(os.loadavg()[0]!, 1)} on ${os.cpus().length} cores.`,
    '',
    mdTable(['scenario', 'berth', ...peers.map((p) => p.label)], rows),
  ].join('\n');
  return { title: 'Launch: a fragile stack, crashes and stops', markdown };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const section = await launchBench();
  process.stdout.write(`## ${section.title}\n\n${section.markdown}\n`);
}

/**
 * The launch scenarios run on each peer (bench/launch-peer-tools.ts), every wait
 * bounded, so a peer that never gets there is reported as such:
 * - fragile stack healthy: every port answers 200 (bound HEALTHY_LIMIT_MS), and the
 *   "EARLY" lines of services started before their dependency was ready;
 * - crash: SIGKILL to api's root → api's port answered by a new api process again
 *   (bound CRASH_LIMIT_MS), orphans = processes of the old tree still alive, and who answers;
 * - stop (a fresh stack each time), by every path the issue names: Ctrl-C (SIGINT to the
 *   job's process group, as a terminal sends it), SIGTERM to the tool's own pid alone (an IDE
 *   stop button, a CI timeout), SIGHUP to the job's group (the terminal closed) and each of
 *   the tool's own stop commands → stack processes and held ports 500 ms after the stop
 *   began and at STOP_LIMIT_MS, and whether the tool is still running;
 * - a stranger answering 200 on api's port → did web start (bound STRANGER_LIMIT_MS), was
 *   the stranger's pid named in anything the tool printed or logged.
 */
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { markedPids, PEERS, pidAlive, stackProcs, type PeerTool, type StopCommand } from './launch-peer-tools.js';
import { freePort, heldPorts } from './ports.js';
import { fmt, median } from './stats.js';

const HEALTHY_LIMIT_MS = 10_000;
const CRASH_LIMIT_MS = 5_000;
const STOP_LIMIT_MS = 3_000;
const STRANGER_LIMIT_MS = 5_000;

/** The body of GET / on the port ("worker 1234"), or null when nothing answers 200. */
async function answer(port: number): Promise<string | null> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(500) });
    return res.ok ? await res.text() : null;
  } catch {
    return null;
  }
}

/** Polls until check() is true or limitMs passed; ms taken, or null at the bound. */
async function within(limitMs: number, check: () => boolean | Promise<boolean>): Promise<number | null> {
  const t0 = performance.now();
  while (performance.now() - t0 < limitMs) {
    if (await check()) return performance.now() - t0;
    await sleep(10);
  }
  return null;
}

/** What one peer did over its runs. */
export interface PeerResult {
  readonly label: string;
  readonly skipped?: string;
  healthy: number[];
  neverHealthy: number;
  early: number;
  crash: number[];
  crashNoRecovery: number;
  crashRuns: number;
  orphans: number;
  oldAnswering: number;
  /** Whether the stop runs gave the tool wait-on (PeerTool.waitOnForStops). */
  readonly waitOnForStops: boolean;
  /** By stop path: the signal's name or the stop command's label. */
  stops: Map<string, StopTally>;
  stopCommands: readonly string[];
  strangerRuns: number;
  webStarted: number;
  named: number;
}

/** What one stop path left, totalled over its runs. */
export interface StopTally {
  runs: number;
  /** Runs where not every port answered before the stop (bound HEALTHY_LIMIT_MS). */
  notUp: number;
  /** Runs where the signal reached no process (the job had returned, the tool had exited). */
  noTarget: number;
  at500: { procs: number; ports: number };
  atEnd: { procs: number; ports: number };
  toolRunning: number;
}

type PeerClass = (typeof PEERS)[number];

/** Every run's mark, to prove at the end that no process of any run is left. */
const marks: string[] = [];

async function newPeer(cls: PeerClass, waitOn = false): Promise<PeerTool> {
  const peer = new cls([await freePort(), await freePort(), await freePort()], waitOn);
  marks.push(peer.mark);
  return peer;
}

function allAnswer(peer: PeerTool): () => Promise<boolean> {
  return async () => (await Promise.all(peer.ports.map(answer))).every((a) => a !== null);
}

/** Signals a group; false when no process is in it any more. */
function signalGroup(pgid: number | undefined, signal: NodeJS.Signals): boolean {
  try {
    if (pgid === undefined) return false;
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

/** A way to begin a stop; true when it reached a process (a command always runs). */
type BeginStop = (peer: PeerTool) => boolean;

const SIGNAL_PATHS: readonly (readonly [string, BeginStop])[] = [
  // A terminal's Ctrl-C: SIGINT to the foreground job's process group.
  ['Ctrl-C', (peer) => signalGroup(peer.jobGroup(), 'SIGINT')],
  // An IDE stop button or a CI timeout signals this pid and nothing else.
  ['SIGTERM', (peer) => {
    const pid = peer.toolPid();
    if (pid === undefined || !pidAlive(pid)) return false;
    process.kill(pid, 'SIGTERM');
    return true;
  }],
  // A closing terminal: the kernel hangs up the shell, which sends SIGHUP to its jobs' groups.
  ['SIGHUP', (peer) => signalGroup(peer.jobGroup(), 'SIGHUP')],
];

function commandPath(cmd: StopCommand): BeginStop {
  return (peer) => {
    peer.runStop(cmd);
    return true;
  };
}

/** A stack brought up (timed, EARLY starts counted), then api's root killed. */
async function healthyCrashRun(cls: PeerClass, r: PeerResult): Promise<void> {
  const peer = await newPeer(cls);
  try {
    const t0 = performance.now();
    peer.start();
    const ok = await within(HEALTHY_LIMIT_MS, allAnswer(peer));
    if (ok === null) r.neverHealthy += 1;
    else r.healthy.push(performance.now() - t0);
    r.early += (peer.logs().match(/EARLY/g) ?? []).length;

    const api = stackProcs(peer.mark).filter((p) => p.svc === 'api');
    const root = api.find((p) => p.role === 'root');
    if (ok !== null && root !== undefined) {
      // Crash: api's root dies at once; its worker (the port's holder) is left to the tool.
      r.crashRuns += 1;
      const old = new Set(api.map((p) => p.pid));
      const t1 = performance.now();
      process.kill(root.pid, 'SIGKILL');
      const back = await within(CRASH_LIMIT_MS, async () => {
        const body = await answer(peer.ports[1]!);
        const pid = Number(body?.split(' ')[1]);
        return body !== null && !old.has(pid);
      });
      if (back === null) r.crashNoRecovery += 1;
      else r.crash.push(performance.now() - t1);
      r.orphans += [...old].filter((pid) => pid !== root.pid && pidAlive(pid)).length;
      if (old.has(Number((await answer(peer.ports[1]!))?.split(' ')[1]))) r.oldAnswering += 1;
    }
  } finally {
    await peer.cleanup();
  }
}

/** A fresh stack (no crash orphan to count twice), brought up, then stopped by one path. */
async function stopRun(cls: PeerClass, t: StopTally, begin: BeginStop): Promise<void> {
  const peer = await newPeer(cls, cls.waitOnForStops);
  try {
    peer.start();
    t.runs += 1;
    if ((await within(HEALTHY_LIMIT_MS, allAnswer(peer))) === null) t.notUp += 1;
    // Read before the stop: pm2's pid file goes with its daemon.
    const toolPid = peer.toolPid();
    const t0 = performance.now();
    if (!begin(peer)) t.noTarget += 1;
    await sleep(Math.max(0, 500 - (performance.now() - t0)));
    t.at500.procs += stackProcs(peer.mark).length;
    t.at500.ports += await heldPorts(peer.ports);
    // A full wait, not until the stack is gone: a tool may restart it (supervisord reloads on SIGHUP).
    await sleep(Math.max(0, STOP_LIMIT_MS - (performance.now() - t0)));
    t.atEnd.procs += stackProcs(peer.mark).length;
    t.atEnd.ports += await heldPorts(peer.ports);
    if (pidAlive(toolPid)) t.toolRunning += 1;
  } finally {
    await peer.cleanup();
  }
}

async function strangerRun(cls: PeerClass, r: PeerResult): Promise<void> {
  const peer = await newPeer(cls);
  const script = `require('http').createServer((q, r) => r.end('ok')).listen(${peer.ports[1]}, '127.0.0.1', () => console.log('ready'))`;
  const stranger = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'ignore'] });
  try {
    await new Promise((res) => stranger.stdout!.once('data', res));
    r.strangerRuns += 1;
    peer.start();
    if ((await within(STRANGER_LIMIT_MS, async () => (await answer(peer.ports[2]!)) !== null)) !== null) r.webStarted += 1;
    if (new RegExp(`\\b${stranger.pid}\\b`).test(peer.logs())) r.named += 1;
  } finally {
    stranger.kill('SIGKILL');
    await peer.cleanup();
  }
}

/** Every peer's results, and how many processes of all their runs were left at the end (from /proc). */
export async function runPeers(runs: number, peers: readonly PeerClass[] = PEERS): Promise<{ results: PeerResult[]; left: number }> {
  const results: PeerResult[] = [];
  for (const cls of peers) {
    const r: PeerResult = {
      label: cls.label,
      healthy: [],
      neverHealthy: 0,
      early: 0,
      crash: [],
      crashNoRecovery: 0,
      crashRuns: 0,
      orphans: 0,
      oldAnswering: 0,
      waitOnForStops: cls.waitOnForStops,
      stops: new Map(),
      stopCommands: [],
      strangerRuns: 0,
      webStarted: 0,
      named: 0,
    };
    const missing = cls.missing();
    if (missing !== null) {
      results.push({ ...r, skipped: missing });
      continue;
    }
    r.stopCommands = cls.stopCommands.map((c) => c.label);
    const paths = [...SIGNAL_PATHS, ...cls.stopCommands.map((c) => [c.label, commandPath(c)] as const)];
    for (let run = 0; run < runs; run += 1) {
      await healthyCrashRun(cls, r);
      for (const [key, begin] of paths) {
        const t = r.stops.get(key) ?? { runs: 0, notUp: 0, noTarget: 0, at500: { procs: 0, ports: 0 }, atEnd: { procs: 0, ports: 0 }, toolRunning: 0 };
        r.stops.set(key, t);
        await stopRun(cls, t, begin);
      }
      await strangerRun(cls, r);
    }
    results.push(r);
  }
  const left = marks.reduce((n, mark) => n + markedPids(mark).length, 0);
  return { results, left };
}

/** Survivors and held ports of one stop path, totalled over its runs. */
function stopCell(t: StopTally | undefined): string {
  if (t === undefined) return 'not run';
  return (
    `after 500 ms: ${t.at500.procs} survivors, ${t.at500.ports} held ports; after ${STOP_LIMIT_MS / 1000} s: ${t.atEnd.procs} survivors, ${t.atEnd.ports} held ports; ` +
    `tool still running in ${t.toolRunning}/${t.runs}` +
    (t.noTarget > 0 ? `; the signal reached no process in ${t.noTarget}/${t.runs}` : '') +
    (t.notUp > 0 ? `; stack not up before the stop in ${t.notUp}/${t.runs}` : '') +
    ` (totals over ${t.runs} runs)`
  );
}

/** The peer's cells for launch.ts's rows. */
export interface PeerCells {
  readonly healthy: string;
  readonly crash: string;
  /** Ctrl-C, SIGTERM, SIGHUP, the tool's own stop commands. */
  readonly stops: readonly [string, string, string, string];
  readonly stranger: string;
}

export function peerCells(r: PeerResult): PeerCells {
  if (r.skipped !== undefined) return { healthy: `not run: ${r.skipped}`, crash: '—', stops: ['—', '—', '—', '—'], stranger: '—' };
  const runs = r.healthy.length + r.neverHealthy;
  const healthy =
    (r.healthy.length > 0 ? `${fmt(median(r.healthy) / 1000)} s median of ${r.healthy.length}` : 'never') +
    (r.neverHealthy > 0 ? `; not healthy within ${HEALTHY_LIMIT_MS / 1000} s in ${r.neverHealthy}/${runs}` : '') +
    `; ${r.early} starts before a dependency was ready`;
  const crash =
    r.crashRuns === 0
      ? 'not run (stack never healthy)'
      : (r.crash.length > 0 ? `${fmt(median(r.crash), 0)} ms median of ${r.crash.length}` : 'never') +
        (r.crashNoRecovery > 0 ? `; no new api answering within ${CRASH_LIMIT_MS / 1000} s in ${r.crashNoRecovery}/${r.crashRuns}` : '') +
        `; ${r.orphans} orphans; old worker still answering api's port in ${r.oldAnswering}/${r.crashRuns}`;
  // nf never brings the fragile stack up as configured (see the healthy row), so its stops run with wait-on.
  const how = r.waitOnForStops ? 'with wait-on before each dependent: ' : '';
  const commands =
    r.stopCommands.length === 0 ? `none: ${r.label} has no stop command` : r.stopCommands.map((c) => `\`${c}\`: ${stopCell(r.stops.get(c))}`).join('; ');
  const stops = [how + stopCell(r.stops.get('Ctrl-C')), how + stopCell(r.stops.get('SIGTERM')), how + stopCell(r.stops.get('SIGHUP')), commands] as const;
  const stranger = `web started anyway ${r.webStarted}/${r.strangerRuns}; holder named ${r.named}/${r.strangerRuns}`;
  return { healthy, crash, stops, stranger };
}

/**
 * The launch scenarios run on each peer (bench/launch-peer-tools.ts), every wait
 * bounded, so a peer that never gets there is reported as such:
 * - fragile stack healthy: every port answers 200 (bound HEALTHY_LIMIT_MS), and the
 *   "EARLY" lines of services started before their dependency was ready;
 * - crash: SIGKILL to api's root → api's port answered by a new api process again
 *   (bound CRASH_LIMIT_MS), orphans = processes of the old tree still alive, and who answers;
 * - stop (a fresh stack): SIGTERM to the tool's own pid → stack processes and held ports after 500 ms and at
 *   STOP_LIMIT_MS, and whether the tool exited;
 * - a stranger answering 200 on api's port → did web start (bound STRANGER_LIMIT_MS), was
 *   the stranger's pid named in anything the tool printed or logged.
 */
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { PEERS, pidAlive, stackProcs, type PeerTool } from './launch-peer-tools.js';
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
  stopRuns: number;
  at500: { procs: number; ports: number };
  atEnd: { procs: number; ports: number };
  toolStillRunning: number;
  /** Stop runs where the tool had already exited by itself before the SIGTERM. */
  toolGone: number;
  strangerRuns: number;
  webStarted: number;
  named: number;
}

type PeerClass = (typeof PEERS)[number];

async function newPeer(cls: PeerClass): Promise<PeerTool> {
  return new cls([await freePort(), await freePort(), await freePort()]);
}

/** A stack brought up (timed, EARLY starts counted), then api's root killed. */
async function healthyCrashRun(cls: PeerClass, r: PeerResult): Promise<void> {
  const peer = await newPeer(cls);
  try {
    const t0 = performance.now();
    peer.start();
    const ok = await within(HEALTHY_LIMIT_MS, async () => (await Promise.all(peer.ports.map(answer))).every((a) => a !== null));
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

/** A fresh stack (no crash orphan to count twice), stopped by SIGTERM to the tool's own pid alone. */
async function stopRun(cls: PeerClass, r: PeerResult): Promise<void> {
  const peer = await newPeer(cls);
  try {
    peer.start();
    await within(HEALTHY_LIMIT_MS, async () => (await Promise.all(peer.ports.map(answer))).every((a) => a !== null));
    // An IDE stop button or a CI timeout signals this pid and nothing else.
    const toolPid = peer.toolPid();
    if (toolPid !== undefined && pidAlive(toolPid)) {
      r.stopRuns += 1;
      process.kill(toolPid, 'SIGTERM');
      await sleep(500);
      r.at500.procs += stackProcs(peer.mark).length;
      r.at500.ports += await heldPorts(peer.ports);
      await within(STOP_LIMIT_MS - 500, async () => stackProcs(peer.mark).length === 0 && (await heldPorts(peer.ports)) === 0);
      r.atEnd.procs += stackProcs(peer.mark).length;
      r.atEnd.ports += await heldPorts(peer.ports);
      if (pidAlive(toolPid)) r.toolStillRunning += 1;
    } else r.toolGone += 1;
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

export async function runPeers(runs: number): Promise<PeerResult[]> {
  const results: PeerResult[] = [];
  for (const cls of PEERS) {
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
      stopRuns: 0,
      at500: { procs: 0, ports: 0 },
      atEnd: { procs: 0, ports: 0 },
      toolStillRunning: 0,
      toolGone: 0,
      strangerRuns: 0,
      webStarted: 0,
      named: 0,
    };
    const missing = cls.missing();
    if (missing !== null) {
      results.push({ ...r, skipped: missing });
      continue;
    }
    for (let run = 0; run < runs; run += 1) {
      await healthyCrashRun(cls, r);
      await stopRun(cls, r);
      await strangerRun(cls, r);
    }
    results.push(r);
  }
  return results;
}

/** The peer's cells for launch.ts's rows: healthy, crash, SIGTERM stop, stranger. */
export function peerCells(r: PeerResult): [string, string, string, string] {
  if (r.skipped !== undefined) return [`not run: ${r.skipped}`, '—', '—', '—'];
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
  const gone = r.toolGone > 0 ? `tool had exited by itself before the SIGTERM in ${r.toolGone}/${r.toolGone + r.stopRuns}` : '';
  const stop =
    r.stopRuns === 0
      ? gone
      : (gone ? `${gone}; ` : '') +
        `after 500 ms: ${r.at500.procs} survivors, ${r.at500.ports} held ports; after ${STOP_LIMIT_MS / 1000} s: ${r.atEnd.procs} survivors, ${r.atEnd.ports} held ports; tool still running in ${r.toolStillRunning}/${r.stopRuns} (totals over ${r.stopRuns} runs)`;
  const stranger = `web started anyway ${r.webStarted}/${r.strangerRuns}; holder named ${r.named}/${r.strangerRuns}`;
  return [healthy, crash, stop, stranger];
}

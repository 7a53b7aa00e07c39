/**
 * Honest kill mechanics: signal, wait, escalate, report. No policy lives here (refusing
 * pid 1 or berth itself is the core layer's job). The one `killTree` of berth.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { parsePsParents } from './parse-ps.js';
import { readParents } from './proc-fs.js';
import { descendantsOf } from './process-tree.js';
import { isAlive, processIdentity, processInfo } from './processes.js';
import { runCommand } from './run-command.js';
import type { KillOptions, KillResult } from './types.js';
import { assertPid } from './validate.js';

/** Default wait after the first signal before survivors get SIGKILL. */
export const DEFAULT_GRACE_MS = 3000;
/** How long to wait for SIGKILL to take effect (it cannot be caught, but exit takes a moment). */
export const SIGKILL_WAIT_MS = 1000;
/** Longest pause between exit checks while waiting. */
export const EXIT_POLL_INTERVAL_MS = 20;
/**
 * First pause between exit checks; it doubles up to EXIT_POLL_INTERVAL_MS. A process that
 * dies on the signal is usually gone within a few milliseconds, so a fixed 20 ms first
 * pause would make every kill take 20 ms longer than the exit itself.
 */
export const EXIT_POLL_FIRST_MS = 1;

interface Target {
  readonly pid: number;
  readonly name: string | null;
  readonly command: string | null;
  /** pid + start time when known, to notice the pid being reused by a newer process. */
  readonly identity: string | null;
  readonly signals: NodeJS.Signals[];
  error: string | null;
}

function isRunning(target: Target): boolean {
  if (!isAlive(target.pid)) return false;
  return target.identity === null || processIdentity(target.pid) === target.identity;
}

/** Sends one signal; records it when delivered, or the reason when refused. */
function send(target: Target, signal: NodeJS.Signals): void {
  try {
    process.kill(target.pid, signal);
    target.signals.push(signal);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    // ESRCH: it exited on its own just now, which is the outcome we wanted.
    if (code !== 'ESRCH') target.error = code;
  }
}

/** Polls until every target has exited or `timeoutMs` has passed. */
async function waitForExit(targets: readonly Target[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let pending = targets.filter(isRunning);
  let pause = EXIT_POLL_FIRST_MS;
  while (pending.length > 0 && Date.now() < deadline) {
    await sleep(Math.min(pause, Math.max(0, deadline - Date.now())));
    pause = Math.min(pause * 2, EXIT_POLL_INTERVAL_MS);
    pending = pending.filter(isRunning);
  }
}

/**
 * Sends `signal` (default SIGTERM) to each pid, waits up to `graceMs` (default 3000) for
 * them to exit, then sends SIGKILL to survivors and waits briefly again. Each result
 * names what the pid was (captured before the first signal), the signals delivered and
 * whether it is gone. A pid already gone yields no signals and `exited: true`; a pid that
 * refuses signals (EPERM) yields `error` and is not escalated.
 *
 * @throws UsageError when a pid is not a positive integer.
 */
export async function killProcesses(pids: readonly number[], options: KillOptions = {}): Promise<KillResult[]> {
  const signal = options.signal ?? 'SIGTERM';
  const graceMs = options.graceMs ?? DEFAULT_GRACE_MS;
  pids.forEach(assertPid);

  const targets: Target[] = [...new Set(pids)].map((pid) => {
    const info = processInfo(pid);
    return { pid, name: info?.name ?? null, command: info?.command ?? null, identity: processIdentity(pid), signals: [], error: null };
  });

  const first = targets.filter(isRunning);
  first.forEach((t) => send(t, signal));
  await waitForExit(first.filter((t) => t.error === null), graceMs);

  if (signal !== 'SIGKILL') {
    const survivors = first.filter((t) => t.error === null && isRunning(t));
    survivors.forEach((t) => send(t, 'SIGKILL'));
    await waitForExit(survivors, SIGKILL_WAIT_MS);
  }

  return targets.map((t) => ({
    pid: t.pid,
    name: t.name,
    command: t.command,
    signals: [...t.signals],
    exited: !isRunning(t),
    error: t.error,
  }));
}

/** pid -> parent pid for every visible process. */
async function processParents(): Promise<Map<number, number>> {
  if (process.platform === 'linux') return readParents();
  const ps = await runCommand('ps', ['-A', '-o', 'pid=,ppid=']);
  return parsePsParents(ps.stdout);
}

/**
 * Kills `pid` and all its descendants (collected before any signal, so children that
 * get reparented when their parent dies are still included), with the same mechanics
 * and results as {@link killProcesses}; the root comes first.
 */
export async function killTree(pid: number, options: KillOptions = {}): Promise<KillResult[]> {
  assertPid(pid);
  const tree = [pid, ...descendantsOf(pid, await processParents())];
  return killProcesses(tree, options);
}

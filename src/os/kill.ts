/**
 * Honest kill mechanics: signal, wait, escalate, report. No policy lives here (refusing
 * pid 1 or berth itself is the core layer's job). The one `killTree` of berth.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { parsePsParents } from './parse-ps.js';
import { readParents, socketInodesOf } from './proc-fs.js';
import { descendantsOf } from './process-tree.js';
import { listListeners } from './listeners.js';
import { readListeningSockets } from './listeners-linux.js';
import { isAlive, processIdentity, processInfo } from './processes.js';
import { runCommand } from './run-command.js';
import { NOT_HOLDING, type KillOptions, type KillResult, type PortRef } from './types.js';
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
  /**
   * pid + start time of the process meant (the caller's `expect`, else read when the
   * kill starts), to notice the pid being reused by a newer process; null where the OS
   * cannot tell.
   */
  readonly identity: string | null;
  /** Already gone when the kill started: whatever runs on its pid later is someone else. */
  readonly goneAtStart: boolean;
  readonly signals: NodeJS.Signals[];
  error: string | null;
}

/** True while the process meant is running: alive, not a zombie, and not replaced by a newcomer on its pid. */
function isRunning(target: Target): boolean {
  if (target.goneAtStart || !isAlive(target.pid)) return false;
  return target.identity === null || processIdentity(target.pid) === target.identity;
}

/**
 * Sends one signal unless the pid no longer names the process meant: the identity is read
 * right here, the last thing before kill(2), so a pid reused since the caller chose it is
 * never signalled. Records the signal when delivered, or the reason when refused.
 */
function send(target: Target, signal: NodeJS.Signals): void {
  if (!isRunning(target)) return;
  try {
    process.kill(target.pid, signal);
    target.signals.push(signal);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    // ESRCH: it exited on its own just now, which is the outcome we wanted.
    if (code !== 'ESRCH') target.error = code;
  }
}

/**
 * A test of "does this pid hold a listening (TCP) or bound (UDP) socket on the port right
 * now", read fresh. On Linux: the port's socket inodes from /proc/net, then each pid's fds
 * when asked; elsewhere, one lsof run for every holder of the port.
 */
async function holdersOf(holding: PortRef): Promise<(pid: number) => boolean> {
  if (process.platform === 'linux') {
    const inodes = new Set(readListeningSockets(holding).map((s) => s.inode));
    return (pid) => socketInodesOf(pid).some((inode) => inodes.has(inode));
  }
  const pids = new Set((await listListeners({ ...holding, everyHolder: true })).map((l) => l.pid));
  return (pid) => pids.has(pid);
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

/** What a pid is, captured before any signal; null fields when it is not the process meant. */
function targetOf(pid: number, expected: string | undefined): Target {
  const identity = expected ?? processIdentity(pid);
  const goneAtStart = !isAlive(pid);
  const info = processInfo(pid);
  // Read after the info, so a pid reused in between is not described as the one meant.
  const same = identity === null || processIdentity(pid) === identity;
  return { pid, name: same ? (info?.name ?? null) : null, command: same ? (info?.command ?? null) : null, identity, goneAtStart, signals: [], error: null };
}

/**
 * Sends `signal` (default SIGTERM) to each pid, waits up to `graceMs` (default 3000) for
 * them to exit, then sends SIGKILL to survivors and waits briefly again. Each result
 * names what the pid was (captured before the first signal), the signals delivered and
 * whether it is gone. A pid already gone yields no signals and `exited: true`; a pid that
 * refuses signals (EPERM) yields `error` and is not escalated.
 *
 * Never the wrong process: immediately before every signal the pid's identity is checked
 * against `options.expect` (or the one read when the kill starts), and a pid that is now
 * someone else's is reported gone, unsignalled. With `options.holding`, a pid that no
 * longer holds that port just before the first signal is left alone (`error`
 * {@link NOT_HOLDING}). A few microseconds remain between the last check and kill(2);
 * closing them needs pidfd_send_signal(2), which Node does not expose.
 *
 * @throws UsageError when a pid is not a positive integer.
 */
export async function killProcesses(pids: readonly number[], options: KillOptions = {}): Promise<KillResult[]> {
  const signal = options.signal ?? 'SIGTERM';
  const graceMs = options.graceMs ?? DEFAULT_GRACE_MS;
  pids.forEach(assertPid);

  const targets = [...new Set(pids)].map((pid) => targetOf(pid, options.expect?.get(pid)));
  const holds = options.holding === undefined ? null : await holdersOf(options.holding);

  const first: Target[] = [];
  for (const target of targets) {
    if (!isRunning(target)) continue;
    if (holds !== null && !holds(target.pid)) {
      target.error = NOT_HOLDING;
      continue;
    }
    send(target, signal);
    if (target.signals.length > 0) first.push(target);
  }
  await waitForExit(first, graceMs);

  if (signal !== 'SIGKILL') {
    const survivors = first.filter(isRunning);
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

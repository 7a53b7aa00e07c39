/**
 * `berth kill`: signal exactly the processes that listen on one port, after the policy
 * allowed every one of them; then confirm with a bind probe that the port is free.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { NotFoundError, RefusedError, UsageError } from '../../errors.js';
import { DEFAULT_GRACE_MS } from '../../os/kill.js';
import type { Machine } from '../../os/machine.js';
import type { KillResult, ProcessInfo } from '../../os/types.js';
import type { Listener, Protocol } from '../../types.js';
import { killRefusals } from './kill-policy.js';
import { ancestorsOfSelf, liveParents } from './observe.js';
import type { KilledProcess, KillReport, LeaseRef } from '../../engine/index.js';

/**
 * After the holders exited, how long the port may take to become bindable: a
 * multi-threaded process (Node, Java) shows as a zombie once its main thread exits, but its
 * sockets close only when the last thread has gone, a few milliseconds later.
 */
export const FREE_CONFIRM_MS = 1000;
/** First pause between probes while confirming; it doubles up to FREE_POLL_MAX_MS. */
const FREE_POLL_FIRST_MS = 1;
const FREE_POLL_MAX_MS = 20;

/** Options of {@link killPort}. */
export interface KillPortOptions {
  readonly port: number;
  readonly protocol: Protocol;
  /** The lease the port belongs to, when known, for the report. */
  readonly lease: LeaseRef | null;
  /** First signal; default SIGTERM. SIGKILL follows after `graceMs` for survivors. */
  readonly signal?: NodeJS.Signals;
  readonly graceMs?: number;
  /** Also kill other users' processes. */
  readonly force?: boolean;
  /** The machine whose processes are killed. */
  readonly machine: Machine;
  /** Stop the port's containers through their engine instead of signalling anyone. */
  readonly stopContainer?: boolean;
}

/** After a container stopped, how long its engine's proxy may take to let the port go. */
export const CONTAINER_FREE_CONFIRM_MS = 10_000;

async function confirmFree(port: number, protocol: Protocol, machine: Machine, withinMs = FREE_CONFIRM_MS): Promise<boolean> {
  const deadline = Date.now() + withinMs;
  for (let pause = FREE_POLL_FIRST_MS; ; pause = Math.min(pause * 2, FREE_POLL_MAX_MS)) {
    if (await machine.isPortFree(port, protocol)) return true;
    if (Date.now() >= deadline) return false;
    await sleep(pause);
  }
}

/**
 * Kills every process listening on exactly `port` (every holder of the socket, so a child
 * that inherited it too), all or none: if the policy refuses any holder, nothing is
 * signalled and RefusedError (exit 4) lists every reason. NotFoundError when nobody
 * listens. Otherwise returns who was signalled, whether each exited, and whether the port
 * can be bound now.
 */
export async function killPort(opts: KillPortOptions): Promise<KillReport> {
  const { port, protocol } = opts;
  const signal = opts.signal ?? 'SIGTERM';
  const graceMs = opts.graceMs ?? DEFAULT_GRACE_MS;
  const { machine } = opts;
  const holders = await machine.listeners({ port, protocol, everyHolder: true });
  if (holders.length === 0) {
    throw new NotFoundError(`nothing listens on ${protocol} port ${port}; nothing was killed.`, { port, protocol });
  }
  if (opts.stopContainer === true) return stopContainers(opts, holders, signal, graceMs);
  // Who each holder is, recorded now: the kill signals a pid only while it still is this
  // process (a holder that exits and whose pid is reused must not get the newcomer killed).
  const seen = recordHolders(holders, machine);
  const ownerOf = (pid: number) => {
    const info = seen.get(pid)?.info ?? null;
    return info === null ? null : { uid: info.uid, user: info.user };
  };
  const executableOf = (pid: number) => seen.get(pid)?.info?.executable ?? null;
  const ancestors = ancestorsOfSelf(liveParents(machine));
  const refusals = killRefusals(holders, { selfPid: process.pid, ancestors, uid: machine.currentUid(), force: opts.force === true, ownerOf, executableOf });
  if (refusals.length > 0) {
    throw new RefusedError(`refusing to kill the holders of ${protocol} port ${port}; nothing was signalled.\n  ${refusals.map((r) => r.reason).join('\n  ')}`, {
      port,
      protocol,
      refusals,
    });
  }
  const pids = [...seen.keys()];
  const expect = new Map<number, string>();
  for (const [pid, s] of seen) if (s.identity !== null) expect.set(pid, s.identity);
  // A holder already gone when its identity was read is not signalled at all: whatever
  // runs on its pid later is someone else.
  const alive = pids.filter((pid) => !seen.get(pid)!.gone);
  const results = alive.length === 0 ? [] : await machine.killProcesses(alive, { signal, graceMs, expect, holding: { port, protocol } });
  const resultOf = (pid: number): KillResult => results.find((r) => r.pid === pid) ?? { pid, name: null, command: null, signals: [], exited: true, error: null };
  const killed: KilledProcess[] = pids.map(resultOf).map((r) => ({
    pid: r.pid,
    process: r.name ?? holders.find((h) => h.pid === r.pid)?.process ?? null,
    command: r.command ?? holders.find((h) => h.pid === r.pid)?.command ?? null,
    user: seen.get(r.pid)?.info?.user ?? holders.find((h) => h.pid === r.pid)?.user ?? null,
    signals: r.signals,
    exited: r.exited,
    error: r.error,
  }));
  const free = killed.every((k) => k.exited) ? await confirmFree(port, protocol, machine) : await machine.isPortFree(port, protocol);
  return { port, protocol, lease: opts.lease, signal, graceMs, killed, free };
}

/**
 * `kill --stop-container`: every container publishing the port stopped through its
 * engine (never by signalling its proxy), then the port confirmed free.
 *
 * @throws UsageError when no holder is a container berth knows (naming the holders).
 */
async function stopContainers(opts: KillPortOptions, holders: readonly Listener[], signal: NodeJS.Signals, graceMs: number): Promise<KillReport> {
  const { port, protocol, machine } = opts;
  const containers = new Map(holders.flatMap((h) => (h.container ? [[h.container.id, h.container.name] as const] : [])));
  if (containers.size === 0) {
    const who = [...new Set(holders.map((h) => (h.pid === null ? 'a hidden process' : `${h.process ?? '?'} (pid ${h.pid})`)))].join(', ');
    throw new UsageError(
      `no container berth knows publishes ${protocol} port ${port} (held by ${who}); nothing was stopped. Drop --stop-container to signal the process, or set DOCKER_HOST to the engine that runs the container.`,
      { port, protocol },
    );
  }
  for (const id of containers.keys()) await machine.stopContainer(id);
  const free = await confirmFree(port, protocol, machine, CONTAINER_FREE_CONFIRM_MS);
  return { port, protocol, lease: opts.lease, signal, graceMs, killed: [], free, stoppedContainers: [...containers.values()] };
}

/** One holder as recorded right after listing. */
interface Recorded {
  /** pid and start time (null where the OS cannot tell, or when it is gone). */
  readonly identity: string | null;
  /** What the pid was then; null when gone or hidden, or when it changed hands while being read. */
  readonly info: ProcessInfo | null;
  /** Gone already: neither an identity nor a live process. */
  readonly gone: boolean;
}

/** The identity and description of every holder's pid, read once each, in listing order. */
function recordHolders(holders: readonly Listener[], machine: Machine): Map<number, Recorded> {
  const seen = new Map<number, Recorded>();
  for (const holder of holders) {
    const pid = holder.pid;
    if (pid === null || seen.has(pid)) continue;
    const identity = machine.processIdentity(pid);
    const info = machine.processInfo(pid);
    // Read again after the info: a pid that changed hands in between describes someone else.
    const same = machine.processIdentity(pid) === identity;
    seen.set(pid, { identity, info: same ? info : null, gone: identity === null && !machine.isAlive(pid) });
  }
  return seen;
}

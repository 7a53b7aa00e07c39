/**
 * `berth kill`: signal exactly the processes that listen on one port, after the policy
 * allowed every one of them; then confirm with a bind probe that the port is free.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { NotFoundError, RefusedError } from '../../errors.js';
import { DEFAULT_GRACE_MS } from '../../os/kill.js';
import type { Machine } from '../../os/machine.js';
import type { Protocol } from '../../types.js';
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
}

async function confirmFree(port: number, protocol: Protocol, machine: Machine): Promise<boolean> {
  const deadline = Date.now() + FREE_CONFIRM_MS;
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
  const ownerOf = (pid: number) => {
    const info = machine.processInfo(pid);
    return info === null ? null : { uid: info.uid, user: info.user };
  };
  const executableOf = (pid: number) => machine.processInfo(pid)?.executable ?? null;
  const ancestors = ancestorsOfSelf(liveParents(machine));
  const refusals = killRefusals(holders, { selfPid: process.pid, ancestors, uid: machine.currentUid(), force: opts.force === true, ownerOf, executableOf });
  if (refusals.length > 0) {
    throw new RefusedError(`refusing to kill the holders of ${protocol} port ${port}; nothing was signalled.\n  ${refusals.map((r) => r.reason).join('\n  ')}`, {
      port,
      protocol,
      refusals,
    });
  }
  const pids = [...new Set(holders.map((h) => h.pid!))];
  const users = new Map(pids.map((pid) => [pid, machine.processInfo(pid)?.user ?? holders.find((h) => h.pid === pid)?.user ?? null]));
  const results = await machine.killProcesses(pids, { signal, graceMs });
  const killed: KilledProcess[] = results.map((r) => ({
    pid: r.pid,
    process: r.name ?? holders.find((h) => h.pid === r.pid)?.process ?? null,
    command: r.command ?? holders.find((h) => h.pid === r.pid)?.command ?? null,
    user: users.get(r.pid) ?? null,
    signals: r.signals,
    exited: r.exited,
    error: r.error,
  }));
  const free = killed.every((k) => k.exited) ? await confirmFree(port, protocol, machine) : await machine.isPortFree(port, protocol);
  return { port, protocol, lease: opts.lease, signal, graceMs, killed, free };
}

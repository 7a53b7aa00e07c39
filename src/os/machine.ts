/**
 * The Machine: the one door from core to the operating system. Core never calls os/
 * functions directly; it asks a Machine, so engine tests can run on a fake one
 * (test/helpers/fake-machine.ts) beside the real tests on this one.
 */
import type { Listener, PortRange, Protocol } from '../types.js';
import { attachContainers } from './attach-containers.js';
import { ephemeralPortRange, isPortFree } from './bind-probe.js';
import { listPublishedPorts, stopContainer } from './docker.js';
import { killProcesses } from './kill.js';
import { listListeners } from './listeners.js';
import { currentUid, isAlive, processIdentity, processInfo } from './processes.js';
import type { KillOptions, KillResult, ListenerQuery, ProcessInfo } from './types.js';

/** What berth asks of the operating system. */
export interface Machine {
  /**
   * Listeners matching `query`, each marked with the container that publishes its port
   * (none when no container engine answers), plus published ports whose host-side holder
   * cannot be seen.
   */
  listeners(query?: ListenerQuery): Promise<Listener[]>;
  /** What a pid is, or null when it is gone or hidden. */
  processInfo(pid: number): ProcessInfo | null;
  /**
   * A token naming one process for good (pid and start time), or null when it is gone or
   * the OS cannot tell; two different tokens for one pid mean the pid was reused.
   */
  processIdentity(pid: number): string | null;
  /** True while `pid` exists and is not a zombie. */
  isAlive(pid: number): boolean;
  /** This process's effective uid, or null where the OS has none (Windows). */
  currentUid(): number | null;
  /**
   * Signals `pids` (SIGTERM, then SIGKILL after the grace period) and reports each. Never
   * signals a pid whose identity no longer matches `opts.expect` (pid reuse), nor, with
   * `opts.holding`, one that no longer holds that port before the first signal.
   */
  killProcesses(pids: readonly number[], opts?: KillOptions): Promise<KillResult[]>;
  /** True when nothing on the machine holds the port (bind probe, v4 and v6, wildcard and loopback). */
  isPortFree(port: number, protocol: Protocol): Promise<boolean>;
  /** The kernel's ephemeral (outgoing connection) range, or null where unknown. */
  ephemeralRange(): PortRange | null;
  /** Stops a container through its engine's API (`docker stop`); resolves once it stopped. */
  stopContainer(id: string): Promise<void>;
}

/** The machine berth runs on. */
export const localMachine: Machine = {
  async listeners(query: ListenerQuery = {}): Promise<Listener[]> {
    const [listeners, published] = await Promise.all([listListeners(query), listPublishedPorts()]);
    const relevant = published.filter((p) => (query.port === undefined || p.port === query.port) && (query.protocol === undefined || p.protocol === query.protocol));
    return attachContainers(listeners, relevant);
  },
  processInfo,
  processIdentity,
  isAlive,
  currentUid,
  killProcesses: (pids, opts) => killProcesses([...pids], opts),
  isPortFree,
  ephemeralRange: ephemeralPortRange,
  stopContainer: (id) => stopContainer(id),
};

/**
 * Plain data of the os/ layer that the shared src/types.ts does not hold, and the one
 * constant its results carry. No behaviour.
 */
import type { ContainerRef, Protocol } from '../types.js';

/** Filters for {@link listListeners}; every field narrows the result. */
export interface ListenerQuery {
  readonly protocol?: Protocol;
  /** Exact port: 3000 never matches 300 or 30000. */
  readonly port?: number;
  /**
   * One entry per process holding each socket, not only the first one found: a forking
   * server's workers, or a child that inherited the listening socket. Costs a scan of
   * every process on Linux (lsof always reports every holder). Default false.
   */
  readonly everyHolder?: boolean;
}

/** One running process, as the OS describes it. */
export interface ProcessInfo {
  readonly pid: number;
  readonly ppid: number;
  /** Short name (`/proc/pid/comm`, `ps -o comm`). */
  readonly name: string;
  /** Full command line, arguments joined by spaces; null when the OS hides it (kernel threads). */
  readonly command: string | null;
  /**
   * The executable's file name, never truncated: the basename of `/proc/PID/exe`'s target,
   * or of argv[0] when that link cannot be read (another user's process); off Linux, of
   * the command's first word. `name` is cut to 15 characters on Linux
   * (`rootlessport-child` shows as `rootlessport-ch`); this is not. Null when unknown.
   */
  readonly executable: string | null;
  /** Login name, or the uid as text when it has no name. */
  readonly user: string;
  readonly uid: number;
}

/** A port of one protocol: what a kill's targets were chosen for holding. */
export interface PortRef {
  readonly port: number;
  readonly protocol: Protocol;
}

/** Options of {@link killProcesses}. */
export interface KillOptions {
  /** First signal sent. Default SIGTERM. */
  readonly signal?: NodeJS.Signals;
  /** How long to wait after the first signal before SIGKILL. Default 3000 ms. */
  readonly graceMs?: number;
  /**
   * The identity ({@link processIdentity}: pid and start time) each pid had when the caller
   * chose it, e.g. right after listing a port's holders or right after spawning. Checked
   * immediately before every signal, the first one and the SIGKILL after the grace period:
   * a pid whose identity differs (or that is gone) is never signalled, because the process
   * the caller meant has exited and the pid may belong to a newcomer; its result says
   * `exited: true` with no signals. A pid missing from the map is checked against the
   * identity it has when the kill starts (so a reuse during the grace period is still
   * caught). Off Linux identities are unknown and only `holding` guards the first signal.
   */
  readonly expect?: ReadonlyMap<number, string>;
  /**
   * The socket the pids were chosen for holding. Immediately before the first signal each
   * pid must still hold a listening TCP (or bound UDP) socket on this port; one that no
   * longer does is not signalled and its result has `error` {@link NOT_HOLDING}. Not
   * re-checked before SIGKILL: a process that closes its socket on SIGTERM and lingers is
   * still the one that was asked to exit.
   */
  readonly holding?: PortRef;
}

export { NOT_HOLDING } from '../types.js';

/** What happened to one pid during a kill. */
export interface KillResult {
  readonly pid: number;
  /** Name and command line captured before the first signal; null when the pid was not inspectable. */
  readonly name: string | null;
  readonly command: string | null;
  /** Signals actually delivered, in order (empty when the process was already gone). */
  readonly signals: readonly NodeJS.Signals[];
  /** True when the process is no longer running (a zombie counts as gone: it holds no ports). */
  readonly exited: boolean;
  /**
   * Why no signal was sent: an errno code of kill(2) (`EPERM`, ...), or {@link NOT_HOLDING}
   * when the pid no longer held the port of `holding`; null otherwise.
   */
  readonly error: string | null;
}

/** One port published by a running container, as the Docker Engine API reports it. */
export interface PublishedPort {
  readonly port: number;
  readonly protocol: Protocol;
  /** Host address the port is published on; `0.0.0.0` when the engine names none. */
  readonly address: string;
  readonly container: ContainerRef;
}

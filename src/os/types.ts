/**
 * Plain data of the os/ layer that the shared src/types.ts does not hold. No behaviour.
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

/** Options of {@link killProcesses}. */
export interface KillOptions {
  /** First signal sent. Default SIGTERM. */
  readonly signal?: NodeJS.Signals;
  /** How long to wait after the first signal before SIGKILL. Default 3000 ms. */
  readonly graceMs?: number;
}

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
  /** Why a signal could not be sent (`EPERM`, ...), or null. */
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

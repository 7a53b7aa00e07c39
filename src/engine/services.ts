/**
 * Launched services as plain data: their states, the status `berth ps`, `berth status`,
 * the daemon's API and the dashboard show, and the events a state change sends. The
 * supervisor (src/launch/) produces these; every face renders them.
 */

/**
 * The life of a service. pending → starting → healthy | unhealthy (with a health check)
 * or running (without one) → stopping → stopped; restarting between a crash and the next
 * start; failed (with the reason: crash loop, a stranger on its port, a dependency that
 * failed); completed (a one-shot job that exited 0); disabled (`enabled: false`).
 */
export type ServiceState = 'pending' | 'starting' | 'running' | 'healthy' | 'unhealthy' | 'stopping' | 'stopped' | 'restarting' | 'failed' | 'completed' | 'disabled';

/** Every state, in lifecycle order (/metrics writes one series per state). */
export const SERVICE_STATES: readonly ServiceState[] = ['pending', 'starting', 'running', 'healthy', 'unhealthy', 'stopping', 'stopped', 'restarting', 'failed', 'completed', 'disabled'];

/** States in which the service's processes run. */
export const LIVE_STATES: ReadonlySet<ServiceState> = new Set(['starting', 'running', 'healthy', 'unhealthy', 'stopping']);

/** How the last process of a service ended. */
export interface ServiceExit {
  readonly code: number | null;
  readonly signal: string | null;
  /** ISO-8601. */
  readonly at: string;
}

/** One leased port of a service and whether its own processes listen on it. */
export interface ServicePort {
  /** The lease: the service's own name, or one of its `leases:` (absent in records written before). */
  readonly name?: string;
  readonly port: number;
  /** True when a process of the service's tree listens on the port. */
  readonly listening: boolean;
  /** Who else answers on it, e.g. `pid 4242 (node) of user ann`; null when nobody else. */
  readonly stranger: string | null;
}

/** How many health checks a service keeps (its history). */
export const CHECK_HISTORY = 20;

/** One health check of a service, as it ran. */
export interface ServiceCheck {
  /** ISO-8601 time it started. */
  readonly at: string;
  /** Whether it counted as a pass: the check passed and the service's own processes hold the port. */
  readonly ok: boolean;
  /** What happened, for people: `GET http://127.0.0.1:4001/ → 200`, `port 4001 is answered by pid 42 (node), not by api`. */
  readonly detail: string;
  /** How long it took, in whole milliseconds. */
  readonly durationMs: number;
}

/** One service of a launched stack. */
export interface ServiceStatus {
  readonly scope: string;
  readonly name: string;
  readonly state: ServiceState;
  /** Why it is failed, unhealthy or waiting; null otherwise. */
  readonly reason: string | null;
  /** The root process of the service's tree; null when none runs. */
  readonly pid: number | null;
  /** Every live process of the tree, the root first. */
  readonly pids: readonly number[];
  readonly ports: readonly ServicePort[];
  /** Restarts since the last reset (`reset_after` of healthy running). */
  readonly restarts: number;
  /** ISO-8601 time the current process started; null when none runs. */
  readonly startedAt: string | null;
  readonly lastExit: ServiceExit | null;
  /** The services it waits for (`depends_on:`), started before it and stopped after it. */
  readonly dependsOn: readonly string[];
  /** `description:` / `purpose:` and `stage:` of berth.yaml. */
  readonly description: string | null;
  readonly stage: string | null;
  /** The last {@link CHECK_HISTORY} health checks, oldest first; empty without a health check. */
  readonly checks: readonly ServiceCheck[];
}

/**
 * A stack the daemon's state directory has a record of: it runs in this daemon, runs
 * elsewhere (a foreground `berth up`'s supervisor, or processes it left), or is down and
 * can be started again from its berth.yaml (`configFile`).
 */
export interface KnownStack {
  readonly scope: string;
  readonly configFile: string | null;
  /** Its services in start order, as last launched. */
  readonly services: readonly string[];
  readonly state: 'running' | 'elsewhere' | 'down';
}

/** A state change of one service: the live feed the daemon's event stream carries. */
export interface ServiceEvent {
  /** ISO-8601. */
  readonly time: string;
  readonly scope: string;
  readonly name: string;
  readonly state: ServiceState;
  readonly previous: ServiceState;
  readonly reason: string | null;
  readonly pid: number | null;
}

/** Why a stop left something behind: what still holds which port. */
export interface StopProblem {
  readonly service: string;
  readonly message: string;
}

/** What a stop did: the services stopped, and those something is left of (empty when clean). */
export interface StopReport {
  readonly stopped: readonly string[];
  readonly problems: readonly StopProblem[];
}

/**
 * A stack the daemon started running (its services, all pending), runs (its services
 * again, at most once a second, as their health checks move on) or forgot (after `down`,
 * from the CLI or the API): the event stream's `stack` event, so a page adds, updates or
 * drops the stack's rows without asking for the list again.
 */
export interface StackEvent {
  /** ISO-8601. */
  readonly time: string;
  readonly scope: string;
  /** True when the daemon runs the stack no more. */
  readonly removed: boolean;
  /** The stack's services as they are now; empty when removed. */
  readonly services: readonly ServiceStatus[];
}

/** One line of a service's output, as the API serves it and `berth logs` prints it. */
export interface LogLine {
  /** ISO-8601. */
  readonly time: string;
  readonly service: string;
  /** `berth`: what berth itself said about the service (started, crashed, restarting...). */
  readonly stream: 'out' | 'err' | 'berth';
  readonly text: string;
}

/** What an `up` of a stack in the daemon gives once it settled (or timed out). */
export interface StackUpResult {
  readonly scope: string;
  /** True when every service is healthy, running, completed or disabled. */
  readonly ok: boolean;
  readonly services: readonly ServiceStatus[];
  /** The services that are not up, each with its last lines. */
  readonly failed: readonly { readonly name: string; readonly state: string; readonly reason: string | null; readonly lastLines: readonly string[] }[];
}

/** An uptime as `ps` and the dashboard show it (`42s`, `3m7s`, `2h5m`); null for none. */
export function formatUptime(seconds: number | null): string | null {
  if (seconds === null) return null;
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m${seconds % 60}s`;
  return `${Math.floor(seconds / 3600)}h${Math.floor((seconds % 3600) / 60)}m`;
}

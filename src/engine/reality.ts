/**
 * Reality: what the OS says about ports, set against berth's records. who, ports, status,
 * check (conflicts), free, kill; their plain data.
 */
import type { Expectation, Lease, Listener, PortRange, Protocol } from '../types.js';

export type { Expectation } from '../types.js';
import type { ScopeContext } from './context.js';

/** A lease named by its scope and name: how listeners and conflicts point at leases. */
export interface LeaseRef {
  readonly scope: string;
  readonly name: string;
}

/** `berth who PORT`: every holder of the port, and the lease that owns it. */
export interface WhoResult {
  readonly port: number;
  readonly protocol: Protocol;
  /** The lease on this (host, protocol, port), any scope; null when none. */
  readonly lease: Lease | null;
  /** Every process holding the port (one per process and address), with its container. */
  readonly holders: readonly Listener[];
}

/** `berth ports`: one listener of the machine and the lease that owns its port. */
export interface PortEntry extends Listener {
  readonly lease: LeaseRef | null;
}

/** A lease's live state: someone expected listens, nobody does, or someone else does. */
export type LeaseState = 'listening' | 'idle' | 'foreign';

/** `berth status`: one lease with its live state. */
export interface LeaseStatus {
  readonly lease: Lease;
  readonly state: LeaseState;
  readonly expected: Expectation;
  /** Everyone listening on the lease's port. */
  readonly holders: readonly Listener[];
  /** The holders that are not the expected one (non-empty exactly when state is foreign). */
  readonly foreign: readonly Listener[];
}

/** The kinds of conflict `berth check` reports. */
export type ConflictKind =
  /** A leased port is held by a process other than the expected holder. */
  | 'foreign-holder'
  /** An ephemeral lease's pid is gone (`berth gc` reclaims it). */
  | 'dead-owner'
  /** A service's fixed port in berth.yaml is leased to another lease. */
  | 'fixed-port-leased'
  /** Two services in berth.yaml have the same fixed port. */
  | 'duplicate-fixed-port'
  /** A service's fixed port in berth.yaml is taken by a process and no lease holds it. */
  | 'fixed-port-in-use'
  /** A service's lease was moved (reassign, check --fix) away from the port berth.yaml fixes. */
  | 'config-drift'
  /**
   * Advisory: a lease is not on its service's preferred (or customary) port, because
   * another lease or a process holds that port. Reported, never a failure: the service works
   * on its fallback port; the message names who has the preferred one.
   */
  | 'preferred-taken'
  /**
   * A held pool slot that berth.yaml no longer defines that way: `slots:` lowered below it,
   * or its roles' base ports (or sets) moved while it was held. Its leases keep their ports.
   */
  | 'pool-slot-changed';

/** The conflict kinds, in report order. */
export const CONFLICT_KINDS: readonly ConflictKind[] = ['foreign-holder', 'dead-owner', 'fixed-port-leased', 'duplicate-fixed-port', 'fixed-port-in-use', 'config-drift', 'preferred-taken', 'pool-slot-changed'];

/** Kinds that inform and never fail `berth check` (exit 0 when they are all there is). */
export const ADVISORY_KINDS: ReadonlySet<ConflictKind> = new Set(['preferred-taken']);

/** One disagreement between registry, config and reality, with a message a person can act on. */
export interface Conflict {
  readonly kind: ConflictKind;
  readonly port: number;
  readonly protocol: Protocol;
  readonly message: string;
  /** The lease concerned, when there is one. */
  readonly lease: LeaseRef | null;
  /** Services of berth.yaml concerned (fixed-port kinds). */
  readonly services: readonly string[];
  /** The processes concerned (foreign-holder, fixed-port-in-use). */
  readonly holders: readonly Listener[];
}

/** What `berth kill` did to one pid. */
export interface KilledProcess {
  readonly pid: number;
  /** Name, command line and user captured before the first signal. */
  readonly process: string | null;
  readonly command: string | null;
  readonly user: string | null;
  /** Signals delivered, in order. */
  readonly signals: readonly NodeJS.Signals[];
  readonly exited: boolean;
  /** Why a signal could not be sent (`EPERM`, ...), or null. */
  readonly error: string | null;
}

/** `berth kill`: who was signalled, whether each exited, and whether the port is free now. */
export interface KillReport {
  readonly port: number;
  readonly protocol: Protocol;
  readonly lease: LeaseRef | null;
  readonly signal: NodeJS.Signals;
  readonly graceMs: number;
  readonly killed: readonly KilledProcess[];
  /** True when a bind probe succeeded after the kill. */
  readonly free: boolean;
  /** Containers stopped through their engine (`kill --stop-container`), by name. */
  readonly stoppedContainers?: readonly string[];
}

/** Why one holder may not be killed. */
export type RefusalKind = 'init' | 'self' | 'ancestor' | 'other-user' | 'container' | 'hidden';

/** One holder berth refuses to kill, and why. */
export interface Refusal {
  readonly kind: RefusalKind;
  readonly pid: number | null;
  readonly process: string | null;
  readonly reason: string;
  /** What to run instead (`docker stop web1`), when berth knows. */
  readonly instead: string | null;
}

/** `berth free`: the first free ports found, and where the search went. */
export interface FreeResult {
  readonly protocol: Protocol;
  readonly ports: readonly number[];
  readonly from: number;
  readonly to: number;
}

/** Options of `free`. */
export interface FreeOptions {
  /** First port to try (default: `base:` of berth.yaml, else 4000). Without `range`, the search runs to 65535. */
  readonly from?: number;
  /** Search only this band; ports in the OS ephemeral range are then allowed, as in allocation. */
  readonly range?: PortRange;
  /** How many ports (default 1). */
  readonly count?: number;
  readonly protocol?: Protocol;
}

/** Options of `kill`. */
export interface PortKillOptions {
  /** First signal, a name or number (default SIGTERM); survivors get SIGKILL after the grace period. */
  readonly signal?: string | number;
  /** Wait before SIGKILL, in milliseconds (default 3000). */
  readonly graceMs?: number;
  /** Also kill other users' processes (never pid 1, berth, its ancestors or a container's proxy). */
  readonly force?: boolean;
  /** Protocol of a port target (default tcp; a lease target uses the lease's). */
  readonly protocol?: Protocol;
  /** Stop the containers publishing the port through their engine's API (`docker stop`), instead of signalling processes. */
  readonly stopContainer?: boolean;
}

/** Which leases `status` and `check` look at. */
export interface RealityFilter {
  /** Every scope instead of the context's scope. */
  readonly all?: boolean;
  /** Only these leases of the scope (status); NotFoundError naming any that is not there. */
  readonly names?: readonly string[];
}

/** The reality operations. They ask this machine's OS. */
export interface RealityApi {
  /** Every holder of `port` (each process, container) and the lease (any scope) that owns it. */
  who(ctx: ScopeContext, port: number, protocol?: Protocol): Promise<WhoResult>;
  /** Every listener on the machine, each with the lease of its port when berth knows it. */
  ports(ctx: ScopeContext, opts?: { readonly protocol?: Protocol }): Promise<PortEntry[]>;
  /** The scope's leases (every scope with `all`) with their live state. */
  status(ctx: ScopeContext, filter?: RealityFilter): Promise<LeaseStatus[]>;
  /** Every conflict between registry, berth.yaml and reality. */
  check(ctx: ScopeContext, filter?: RealityFilter): Promise<Conflict[]>;
  /** The first ports free in the registry and the OS, by allocation's rules; takes no lease. */
  free(ctx: ScopeContext, opts?: FreeOptions): Promise<FreeResult>;
  /**
   * Kills what listens on `target` (`:PORT`, `PORT`, a port number, or a lease name of the
   * scope): all holders or none, SIGTERM then SIGKILL, then confirms the port is free.
   */
  kill(ctx: ScopeContext, target: string | number, opts?: PortKillOptions): Promise<KillReport>;
}

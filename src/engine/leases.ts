/**
 * Leases: get-or-allocate, get, release, list, reassign, and the hand-over of ephemeral
 * leases that `berth run` needs.
 */
import type { Lease, PortRange, Protocol, StrategyName } from '../types.js';
import type { ScopeContext } from './context.js';

/** What a caller may say about one allocation, on top of berth.yaml. */
export interface AllocationRequest {
  readonly name: string;
  readonly strategy?: StrategyName;
  /** Fixed port (`--port`, or `port:` in berth.yaml). */
  readonly port?: number;
  readonly prefer?: number;
  readonly range?: PortRange;
  readonly category?: string;
  readonly protocol?: Protocol;
  readonly purpose?: string;
}

/**
 * A lease as allocate returns it. When a new lease did not get its preferred (or
 * customary) port, `preferred` names that port and `notPreferred` says who has it.
 */
export interface AllocatedLease extends Lease {
  readonly preferred?: number;
  readonly notPreferred?: string;
  /**
   * The port berth.yaml fixes for this service, when the lease was moved away from it
   * (`reassign`, `check --fix`): the lease's port is used; `check` reports the drift and
   * `berth reassign NAME --update-config` writes the lease's port into berth.yaml.
   */
  readonly configPort?: number;
}

/** Options of one allocate call that are not about which port. */
export interface AllocateOptions {
  /** Tie new leases to `pid`: reclaimed when it dies. */
  readonly ephemeral?: boolean;
  /** Owner pid of ephemeral leases (required with `ephemeral`; must be alive). */
  readonly pid?: number;
  /** Lease a fixed port even if a process holds it. */
  readonly force?: boolean;
}

/** Which leases `list` shows. */
export interface ListFilter {
  /** Only this scope; default: every scope of this machine. */
  readonly scope?: string;
  /** Only this pool's leases. */
  readonly pool?: string;
  /** Every machine's leases of a shared registry, not only this machine's. */
  readonly allMachines?: boolean;
}

/** Options of reassign. */
export interface ReassignOptions {
  /** Move even if a process holds the port or berth.yaml reserves it. */
  readonly force?: boolean;
  /** Check and choose the port, write nothing: the lease as it would be (`check --fix --dry-run`). */
  readonly dryRun?: boolean;
}

/** The lease operations. Every call acts for `ctx`'s scope unless it says otherwise. */
export interface LeasesApi {
  /**
   * Get-or-allocate: the scope's existing lease for each name, allocating the missing
   * ones. With no requests, every service in berth.yaml. All or none.
   */
  allocate(ctx: ScopeContext, requests?: readonly AllocationRequest[], opts?: AllocateOptions): Promise<AllocatedLease[]>;
  /** The scope's lease `name`; NotFoundError when there is none. */
  get(ctx: ScopeContext, name: string): Promise<Lease>;
  /**
   * Releases the named leases, or with no names the whole scope. Naming one role of a
   * pool slot releases the whole slot. NotFoundError (nothing released) for unknown names.
   */
  release(ctx: ScopeContext, names?: readonly string[]): Promise<Lease[]>;
  /** Leases of this machine (of every machine with `allMachines`), every scope unless filtered. */
  list(ctx: ScopeContext, filter?: ListFilter): Promise<Lease[]>;
  /**
   * Moves the scope's lease `name` to `port`, which must be free; with `port` null, to the
   * next free port of its category (see movePlan).
   */
  reassign(ctx: ScopeContext, name: string, port: number | null, opts?: ReassignOptions): Promise<Lease>;
  /**
   * Hands the scope's ephemeral leases `names` to pid `to`, each only if `from` owns it or
   * its owner is dead; returns the leases handed over. One transaction.
   */
  handOver(ctx: ScopeContext, names: readonly string[], from: number, to: number): Promise<Lease[]>;
  /** Releases the scope's ephemeral leases `names` that one of `pids` owns; returns them. */
  releaseOwned(ctx: ScopeContext, names: readonly string[], pids: readonly number[]): Promise<Lease[]>;
}

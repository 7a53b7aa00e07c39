/**
 * Plain data shared by every layer. No behaviour lives here.
 */

/** Transport protocol of a lease or a listener. */
export type Protocol = 'tcp' | 'udp';

/** The protocols berth knows, in display order. */
export const PROTOCOLS: readonly Protocol[] = ['tcp', 'udp'];

/** Highest valid port number. */
export const MAX_PORT = 65535;

/** One port held by one scope under one name, on one host and protocol. */
export interface Lease {
  readonly host: string;
  readonly scope: string;
  readonly name: string;
  readonly port: number;
  readonly protocol: Protocol;
  readonly purpose: string | null;
  /** Pool name when the lease belongs to a reserved pool slot. */
  readonly pool: string | null;
  /** Slot index within the pool, from 0. */
  readonly slot: number | null;
  /**
   * Which strategy chose the port (a LeaseStrategy: a StrategyName, or `pool` for a pool
   * slot's role). A port the person named (`--port`, `reassign NAME PORT`) is `fixed`; a
   * reassign without a port moves within the category's band, `range`. null for leases
   * made before berth recorded it (older registries and exports) and for leases imported
   * from other tools' formats, whose strategy nobody knows. A string, not the union, because
   * a registry shared with a newer berth may hold a name this one does not know.
   */
  readonly strategy: string | null;
  /** Ephemeral leases belong to a pid and are reclaimed when it dies. */
  readonly ephemeral: boolean;
  readonly pid: number | null;
  /** ISO-8601 timestamps. */
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** What a caller supplies to create a lease; the store fills the times. */
export type NewLease = Omit<Lease, 'createdAt' | 'updatedAt'>;

/** A scope: who owns leases, and the directory it came from (for gc). */
export interface Scope {
  readonly host: string;
  readonly name: string;
  readonly directory: string | null;
  readonly createdAt: string;
}

/** An inclusive band of ports. */
export interface PortRange {
  readonly start: number;
  readonly end: number;
}

/** What the OS reports about one listening (TCP) or bound (UDP) socket. */
export interface Listener {
  readonly protocol: Protocol;
  /** Local address as printed by the OS: `0.0.0.0`, `::`, `127.0.0.1`, `::1`, ... */
  readonly address: string;
  readonly port: number;
  /** null when the socket's owner cannot be inspected (another user's process). */
  readonly pid: number | null;
  readonly process: string | null;
  readonly command: string | null;
  readonly user: string | null;
  /** Set when the port is published by a container. */
  readonly container: ContainerRef | null;
}

/** A container that publishes a port. */
export interface ContainerRef {
  readonly id: string;
  readonly name: string;
  readonly image: string;
  /**
   * The compose project and service that made it (labels `com.docker.compose.project`
   * and `com.docker.compose.service`); absent or null for a container compose did not make.
   */
  readonly compose?: { readonly project: string | null; readonly service: string } | null;
}

// The normalised shape of berth.yaml. config/ reads YAML, normalises it into this shape and
// validates it; everything else reads only this. The store records pool definitions in it.

/** The allocation strategies berth knows. */
export type StrategyName = 'fixed' | 'preferred' | 'sequential' | 'range' | 'hash';

export const STRATEGIES: readonly StrategyName[] = ['fixed', 'preferred', 'sequential', 'range', 'hash'];

/** What a lease records as the strategy that chose its port: a strategy, or a pool slot's fixed role port. */
export type LeaseStrategy = StrategyName | 'pool';

export const LEASE_STRATEGIES: readonly LeaseStrategy[] = [...STRATEGIES, 'pool'];

/** One entry of `services:`. */
export interface ServiceConfig {
  readonly name: string;
  /** Fixed port. */
  readonly port: number | null;
  readonly prefer: number | null;
  readonly category: string | null;
  readonly range: PortRange | null;
  readonly strategy: StrategyName | null;
  /** Environment variable name for the port (default `<NAME>_PORT`). */
  readonly env: string | null;
  readonly purpose: string | null;
  readonly protocol: Protocol;
  /** Expected process name of the holder, for `berth status`. */
  readonly process: string | null;
  /** docker-compose service this lease maps to (default: same name). */
  readonly compose: string | null;
  /** Container port inside that compose service. */
  readonly composePort: number | null;
  /** Whether the service speaks HTTP (gets a `<NAME>_URL`); null = guess from the name. */
  readonly http: boolean | null;
  /** Whether its URLs are `https://`; null = guess from the name (a word `https`, `ssl`, `tls`). Optional: configs recorded before it. */
  readonly https?: boolean | null;
  /** How launch runs it (`command:` and the keys around it); absent when berth only leases its port. */
  readonly launch?: LaunchSpec;
}

/** What a dependent waits for: the dependency started, healthy, or (a one-shot job) exited 0. */
export type DependencyCondition = 'started' | 'healthy' | 'completed_successfully';

/** The dependency conditions, as berth.yaml spells them. */
export const DEPENDENCY_CONDITIONS: readonly DependencyCondition[] = ['started', 'healthy', 'completed_successfully'];

/** One entry of `depends_on:`. */
export interface Dependency {
  readonly name: string;
  readonly condition: DependencyCondition;
}

/** `health:` of a service: one check, and how often and how patiently it runs. */
export interface HealthSpec {
  /** http: GET answers 2xx/3xx; tcp: a connection opens; exec: the command exits 0; log: a line matches. */
  readonly kind: 'http' | 'tcp' | 'exec' | 'log';
  /** http: a path (`/health`) or a URL; exec: the shell command; log: the regular expression; tcp: empty. */
  readonly target: string;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  /** Failures in a row (after the start period) before the service is unhealthy. */
  readonly retries: number;
  /** Failures during this time after a start do not count. */
  readonly startPeriodMs: number;
  /**
   * How often the check runs from a start until its first pass (docker's `start_interval`),
   * so a dependent starts soon after its dependency is ready; never slower than `intervalMs`.
   */
  readonly startIntervalMs: number;
  /** `port:` the lease whose port http/tcp checks use: the service's own (null) or one of its `leases:`. */
  readonly port: string | null;
}

/** `restart:` of a service. */
export interface RestartSpec {
  readonly policy: 'no' | 'on-failure' | 'always';
  /** Restarts in a row before the service is `failed`; null = no limit. */
  readonly maxRestarts: number | null;
  readonly backoff: { readonly baseMs: number; readonly factor: number; readonly capMs: number };
  /** Healthy (or running, without a check) this long resets the restart count. */
  readonly resetAfterMs: number;
}

/** `stop:` of a service: the first signal, and how long before SIGKILL. */
export interface StopSpec {
  readonly signal: NodeJS.Signals;
  readonly graceMs: number;
}

/** How launch runs one service. */
export interface LaunchSpec {
  /** argv (list form), or one shell command line (string form, run by /bin/sh -c). */
  readonly command: { readonly argv: readonly string[] } | { readonly shell: string };
  /** Working directory, absolute (relative ones are resolved against berth.yaml's directory). */
  readonly cwd: string;
  /** `environment:` variables, added to berth's own. */
  readonly environment: Readonly<Record<string, string>>;
  readonly dependsOn: readonly Dependency[];
  /**
   * `leases:` the other services of berth.yaml (entries without a command: bare leases)
   * whose ports this service also listens on: leased, checked, waited for and wired with it.
   */
  readonly leases: readonly string[];
  readonly health: HealthSpec | null;
  readonly restart: RestartSpec;
  readonly stop: StopSpec;
  /** `enabled: false`: defined, never started (state `disabled`). */
  readonly enabled: boolean;
  /** The environment label the seeds used (production, development, experimental), shown by status. */
  readonly stage: string | null;
}

/** One entry of `pools:`. A slot is a set of role -> port. */
export type PoolConfig = SeriesPoolConfig | SetsPoolConfig;

interface PoolCommon {
  readonly name: string;
  /** Role names, in declaration order. */
  readonly roles: readonly string[];
  /** URL templates such as `http://localhost:${admin}/callback`. */
  readonly urls: readonly string[];
  readonly protocol: Protocol;
  /**
   * Variable names: role -> its port variable (`env:` of the pool), and the URL variables
   * (`urls:` written as a mapping VAR: template) -> the index of their template in `urls`.
   * Optional: pools recorded by an older berth have neither.
   */
  readonly env?: Readonly<Record<string, string>>;
  readonly urlEnv?: Readonly<Record<string, number>>;
  /**
   * What a full pool gives: `hash` leases every role a stable hash port in `fallbackRange`
   * (marked as the pool's, with no slot), moved into a slot by a later reserve once one
   * frees. Absent or null: a full pool refuses (exit 3).
   */
  readonly fallback?: 'hash' | null;
  readonly fallbackRange?: PortRange | null;
}

/** `ports: {role: base}` with `step` and optional `slots` (null = open-ended). */
export interface SeriesPoolConfig extends PoolCommon {
  readonly kind: 'series';
  readonly ports: Readonly<Record<string, number>>;
  readonly step: number;
  readonly slots: number | null;
}

/** `sets: [{role: port}, ...]`: an explicit list of slots. */
export interface SetsPoolConfig extends PoolCommon {
  readonly kind: 'sets';
  readonly sets: readonly Readonly<Record<string, number>>[];
}

/** The whole normalised config. */
export interface BerthConfig {
  /** Absolute path of the file read, or null when none was found. */
  readonly file: string | null;
  /** Directory that holds the file (or the project directory when there is none). */
  readonly dir: string;
  /** `project:` or null. */
  readonly project: string | null;
  /** Base port for the sequential strategy. */
  readonly base: number;
  /** Built-in categories merged with `ranges:`. */
  readonly ranges: Readonly<Record<string, PortRange>>;
  /** Ports never handed out. */
  readonly reserved: readonly number[];
  readonly services: readonly ServiceConfig[];
  readonly pools: readonly PoolConfig[];
  /** `defaults:`: what applies to services that say nothing of their own. */
  readonly defaults: ConfigDefaults;
  /** `env_prefix:`: put before every variable name berth derives (`UDOS_` gives `UDOS_API_PORT`, `UDOS_API_URL`). */
  readonly envPrefix?: string | null;
  /** `env_base_vars: true`: env output starts with `BASE_PORT` and `NEXT_PORT` (the sequential managers' variables). */
  readonly envBaseVars?: boolean;
}

/** `defaults:` of berth.yaml. */
export interface ConfigDefaults {
  /**
   * The strategy of services that name no port, preferred port, range or category: e.g.
   * `sequential`, so postgres and redis count up from `base` like everything else instead
   * of taking their customary ports. Null: customary ports for well-known names, else
   * sequential.
   */
  readonly strategy: StrategyName | null;
}

/** Who made a change to the registry: the process, its user and its command line. */
export interface Actor {
  readonly pid: number;
  readonly user: string | null;
  readonly command: string | null;
}

/** What a write to the registry was doing when it changed a lease. */
export type EventAction = 'allocate' | 'release' | 'reassign' | 'reserve' | 'gc' | 'import' | 'reset' | 'handover' | 'update';

/** What happened to the lease row. */
export type EventChange = 'created' | 'deleted' | 'moved' | 'updated';

/**
 * One change to one lease, recorded in the same transaction as the change. The history
 * (`berth history`) and the live feed (the daemon's event stream) are the same events.
 */
export interface RegistryEvent {
  /** Increasing per store; the feed resumes after an id. */
  readonly id: number;
  /** ISO-8601. */
  readonly time: string;
  readonly host: string;
  readonly action: EventAction;
  readonly change: EventChange;
  readonly scope: string;
  readonly name: string;
  /** The lease's port after the change (before it, for a deletion). */
  readonly port: number;
  readonly protocol: Protocol;
  readonly pool: string | null;
  readonly slot: number | null;
  /** The port before a move; null otherwise. */
  readonly oldPort: number | null;
  /** The owner pid of an ephemeral lease after the change; null for sticky leases. */
  readonly ownerPid: number | null;
  readonly actor: Actor;
}

/** One variable, and the lease it came from. */
export interface EnvVar {
  readonly name: string;
  readonly value: string;
  readonly lease: Lease;
}

/** One URL of a scope. */
export interface ScopeUrl {
  /** The service name, or the pool name for a pool's URL template. */
  readonly name: string;
  readonly url: string;
  /** Pool and slot of a pool URL; null for a service URL. */
  readonly pool: string | null;
  readonly slot: number | null;
}

/** One URL of a pool slot, as `berth urls --pool P` lists it. */
export interface PoolUrl {
  readonly pool: string;
  readonly slot: number;
  readonly url: string;
  /** The scope holding the slot, or null when it is free. */
  readonly heldBy: string | null;
}

/**
 * Who should hold a lease's port: the lease's pid or one of its descendants (ephemeral
 * leases), a process name (`process:` of the service in berth.yaml), or anyone.
 */
export type Expectation =
  | { readonly kind: 'pid'; readonly pid: number }
  | { readonly kind: 'process'; readonly name: string }
  | { readonly kind: 'any' };

/**
 * The `error` of a kill result whose pid no longer held the port just before the first
 * signal: left alone on purpose (os/kill.ts), not a failure to kill.
 */
export const NOT_HOLDING = 'no longer holds the port';

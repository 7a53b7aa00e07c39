/**
 * The engine contract: the one interface the CLI, the daemon's API, the remote client, the
 * dashboard and the library go through. Two implementations: LocalEngine (src/core/, over a
 * store and a machine) and RemoteEngine (src/client/, over the daemon's HTTP API); one
 * contract suite (test/contract/) runs against both. Results are the plain data `--json`
 * prints. Errors are BerthErrors (src/errors.ts) whose `kind` survives the wire.
 */
import type { ProjectInfo, ScopeContext } from './context.js';
import type { EventsApi } from './events.js';
import type { LeasesApi } from './leases.js';
import type { PoolsApi } from './pools.js';
import type { RealityApi } from './reality.js';
import type { RegistryApi } from './registry.js';
import type { WiringApi } from './wiring.js';

/** Where an engine keeps its registry, for messages (`berth reset`, `berth --version`). */
export interface EngineInfo {
  /** `sqlite`, `postgres` or `memory`. */
  readonly store: string;
  /** A file path or a connection target. */
  readonly location: string;
  /** The machine (port namespace) this engine allocates on. */
  readonly host: string;
}

/** berth's engine. */
export interface Engine {
  readonly leases: LeasesApi;
  readonly pools: PoolsApi;
  readonly registry: RegistryApi;
  readonly reality: RealityApi;
  readonly wiring: WiringApi;
  readonly events: EventsApi;
  /** What `ctx` resolves to: scope, project directory, berth.yaml. */
  project(ctx: ScopeContext): Promise<ProjectInfo>;
  info(): Promise<EngineInfo>;
  close(): Promise<void>;
}

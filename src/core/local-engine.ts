/**
 * LocalEngine: the engine contract over a store and a machine. Composition only: each area
 * is one service (leases, pools, registry, reality, wiring, events) over one shared core.
 * Many LocalEngines may share one store, and one engine serves any number of scopes.
 */
import path from 'node:path';
import type { Engine, EngineInfo, ProjectInfo, ScopeContext } from '../engine/index.js';
import type { Machine } from '../os/machine.js';
import type { Store } from '../store/store.js';
import { EventService } from './event-service.js';
import { LeaseService } from './lease-service.js';
import { PoolService } from './pool-service.js';
import { ProjectResolver } from './project.js';
import { RealityService } from './reality-service.js';
import { RegistryService } from './registry-service.js';
import { EngineCore } from './shared.js';
import { WiringService } from './wiring-service.js';

/** What a LocalEngine is made of. */
export interface LocalEngineOptions {
  readonly store: Store;
  readonly machine: Machine;
  /** Working directory for calls whose context names none (default process.cwd()). */
  readonly cwd?: string;
  /** Environment for defaults such as BERTH_HOST (default process.env). */
  readonly env?: NodeJS.ProcessEnv;
  /** Close the store when the engine closes (default true). */
  readonly ownsStore?: boolean;
}

/** The engine over a local store and machine. */
export class LocalEngine implements Engine {
  readonly leases: LeaseService;
  readonly pools: PoolService;
  readonly registry: RegistryService;
  readonly reality: RealityService;
  readonly wiring: WiringService;
  readonly events: EventService;
  private readonly core: EngineCore;
  private readonly ownsStore: boolean;

  constructor(opts: LocalEngineOptions) {
    const resolver = new ProjectResolver(path.resolve(opts.cwd ?? process.cwd()));
    this.core = new EngineCore(opts.store, opts.machine, resolver, opts.env ?? process.env);
    this.ownsStore = opts.ownsStore !== false;
    this.leases = new LeaseService(this.core);
    this.pools = new PoolService(this.core);
    this.registry = new RegistryService(this.core);
    this.reality = new RealityService(this.core);
    this.wiring = new WiringService(this.core, this.pools);
    this.events = new EventService(this.core);
  }

  project(ctx: ScopeContext): Promise<ProjectInfo> {
    return this.core.resolve(ctx);
  }

  async info(): Promise<EngineInfo> {
    const { store } = this.core;
    return { store: store.kind, location: store.location, host: store.host };
  }

  async close(): Promise<void> {
    this.events.stopAll();
    if (this.ownsStore) await this.core.store.close();
  }
}

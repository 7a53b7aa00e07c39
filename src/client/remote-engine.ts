/**
 * RemoteEngine: the engine contract over the daemon's HTTP API, for the CLI (`--url`,
 * BERTH_URL) and the library. Every engine call is one route of the table in
 * src/http/routes.ts; errors come back as the BerthError they were in the daemon (same
 * class, kind and exit code), so callers cannot tell it from a LocalEngine but by speed.
 * The same contract suite runs against both (test/contract/).
 */
import type { Engine, EngineInfo, ProjectInfo, ScopeContext } from '../engine/index.js';
import { RemoteLeases, RemotePools } from './remote-leases.js';
import { RemoteReality, RemoteWiring } from './remote-reality.js';
import { RemoteEvents, RemoteRegistry } from './remote-registry.js';
import { RemoteServices } from './remote-services.js';
import { Transport, type TransportOptions } from './transport.js';
import { Wire } from './wire.js';

/** How to reach the daemon. */
export interface RemoteEngineOptions extends TransportOptions {
  /**
   * The directory sent for calls whose context names none: where the daemon looks for
   * berth.yaml and derives the scope, as LocalEngine's own working directory (default
   * process.cwd()).
   */
  readonly cwd?: string;
}

/** The engine over the daemon's API (its unix socket, or `url`). */
export class RemoteEngine implements Engine {
  readonly leases: RemoteLeases;
  readonly pools: RemotePools;
  readonly registry: RemoteRegistry;
  readonly reality: RemoteReality;
  readonly wiring: RemoteWiring;
  readonly events: RemoteEvents;
  /** The daemon's launched stacks (not in the Engine contract: launch runs in the daemon). */
  readonly services: RemoteServices;
  private readonly transport: Transport;
  private readonly wire: Wire;

  constructor(opts: RemoteEngineOptions) {
    this.transport = new Transport(opts);
    this.wire = new Wire(this.transport, opts.cwd ?? process.cwd());
    this.leases = new RemoteLeases(this.wire);
    this.pools = new RemotePools(this.wire);
    this.registry = new RemoteRegistry(this.wire);
    this.reality = new RemoteReality(this.wire);
    this.wiring = new RemoteWiring(this.wire);
    this.events = new RemoteEvents(this.wire);
    this.services = new RemoteServices(this.wire);
  }

  /** Where requests go: the socket path or the URL's origin. */
  get target(): string {
    return this.transport.target;
  }

  project(ctx: ScopeContext): Promise<ProjectInfo> {
    return this.wire.call('project', ctx, { scope: 'query' });
  }

  /** The daemon's store and machine. */
  info(): Promise<EngineInfo> {
    return this.wire.call('info', {});
  }

  /** Ends subscriptions and closes the connections; the daemon and its store keep running. */
  async close(): Promise<void> {
    this.events.stopAll();
    this.transport.close();
  }
}

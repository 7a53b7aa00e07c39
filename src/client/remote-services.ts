/**
 * The daemon's launched stacks for a library user, over the same routes the CLI and the
 * dashboard use: each service's status (state, pid, ports, health history), start, stop
 * or restart one service, and stop a whole stack. Not part of the Engine contract: launch
 * runs in the daemon, so only a RemoteEngine has it.
 */
import type { ScopeContext, ServiceStatus, StopReport } from '../engine/index.js';
import { FROM_CONTEXT } from '../http/routes.js';
import type { Wire } from './wire.js';

/** Launched services through the daemon's API. */
export class RemoteServices {
  constructor(private readonly wire: Wire) {}

  /** The services of the context's stack (its scope, or the one its berth.yaml names), in start order; [] when the daemon runs none. */
  list(ctx: ScopeContext): Promise<ServiceStatus[]> {
    return this.wire.call('services.list', ctx, { query: { scope: ctx.scope ?? FROM_CONTEXT } });
  }

  /** Starts a stopped service of the running stack; resolves with every service's status. */
  start(ctx: ScopeContext, name: string): Promise<ServiceStatus[]> {
    return this.wire.call('services.start', ctx, { params: { name }, scope: 'path' });
  }

  /** Stops one service and what depends on it: their processes gone, their ports free. */
  stop(ctx: ScopeContext, name: string): Promise<ServiceStatus[]> {
    return this.wire.call('services.stop', ctx, { params: { name }, scope: 'path' });
  }

  /** Stops, then starts one service. */
  restart(ctx: ScopeContext, name: string): Promise<ServiceStatus[]> {
    return this.wire.call('services.restart', ctx, { params: { name }, scope: 'path' });
  }

  /** Stops the context's stack in reverse dependency order; the daemon forgets it. */
  down(ctx: ScopeContext): Promise<StopReport> {
    return this.wire.call('stacks.down', ctx, { scope: 'path' });
  }
}

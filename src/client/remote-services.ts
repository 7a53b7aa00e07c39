/**
 * The daemon's launched stacks for a library user, over the same routes the CLI and the
 * dashboard use: each service's status (state, pid, ports, health history), start, stop
 * or restart one service, start or stop a whole stack, and its last lines. Not part of the
 * Engine contract: launch runs in the daemon, so only a RemoteEngine has it.
 */
import type { LogLine, ScopeContext, ServiceStatus, StackUpResult, StopReport } from '../engine/index.js';
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

  /**
   * Starts the stack of the context's berth.yaml in the daemon (every lease first, every
   * leased port checked for a stranger before anything starts) and resolves once it settled:
   * `ok` false names the services that are not up. Its services get the daemon's environment
   * (`berth up` hands over its shell's through the state directory, never over HTTP).
   */
  up(ctx: ScopeContext, opts: { services?: readonly string[]; noDeps?: boolean; killStrangers?: boolean; timeoutMs?: number } = {}): Promise<StackUpResult> {
    return this.wire.call('stacks.up', ctx, { body: { ...opts }, scope: 'path' });
  }

  /** Stops the context's stack in reverse dependency order (with `services`: those and their dependents only). */
  down(ctx: ScopeContext, services?: readonly string[]): Promise<StopReport> {
    return this.wire.call('stacks.down', ctx, { body: services === undefined ? {} : { services }, scope: 'path' });
  }

  /** The last lines of one service (every service of the stack without a name), oldest first. */
  logs(ctx: ScopeContext, name?: string, opts: { tail?: number; since?: string } = {}): Promise<LogLine[]> {
    return this.wire.call('services.logs', ctx, { params: { name: name ?? FROM_CONTEXT }, query: { ...opts }, scope: 'path' });
  }
}

/**
 * Reality and wiring over the daemon's API. The daemon asks its machine's OS, which is
 * this machine's: it listens on loopback and a unix socket only.
 */
import { UsageError } from '../errors.js';
import type {
  Conflict,
  EnvOptions,
  FreeOptions,
  FreeResult,
  KillReport,
  LeaseStatus,
  PortEntry,
  PortKillOptions,
  RealityApi,
  RealityFilter,
  ScopeContext,
  WhoResult,
  WiringApi,
} from '../engine/index.js';
import type { EnvVar, Protocol, ScopeUrl } from '../types.js';
import { integerText, rangeText, type Wire } from './wire.js';

/** The reality operations of the RemoteEngine. */
export class RemoteReality implements RealityApi {
  constructor(private readonly wire: Wire) {}

  who(ctx: ScopeContext, port: number, protocol?: Protocol): Promise<WhoResult> {
    return this.wire.call('reality.who', ctx, { params: { port: integerText(port) }, query: { protocol } });
  }

  ports(ctx: ScopeContext, opts: { readonly protocol?: Protocol } = {}): Promise<PortEntry[]> {
    return this.wire.call('reality.ports', ctx, { query: { protocol: opts.protocol } });
  }

  status(ctx: ScopeContext, filter: RealityFilter = {}): Promise<LeaseStatus[]> {
    // Names travel as one comma-separated parameter; a name cannot hold a comma (the engine checks names).
    const names = filter.names === undefined || filter.names.length === 0 ? undefined : filter.names.join(',');
    return this.wire.call('reality.status', ctx, { scope: 'query', query: { all: filter.all, names } });
  }

  check(ctx: ScopeContext, filter: RealityFilter = {}): Promise<Conflict[]> {
    return this.wire.call('reality.check', ctx, { scope: 'query', query: { all: filter.all } });
  }

  free(ctx: ScopeContext, opts: FreeOptions = {}): Promise<FreeResult> {
    const range = opts.range === undefined ? undefined : rangeText(opts.range);
    return this.wire.call('reality.free', ctx, { query: { from: opts.from, count: opts.count, range, protocol: opts.protocol } });
  }

  /**
   * A port target (`:PORT`, digits, a number) goes to the port's route, with its protocol;
   * a lease name to the lease's route, where the daemon reads the target as the engine does.
   */
  kill(ctx: ScopeContext, target: string | number, opts: PortKillOptions = {}): Promise<KillReport> {
    const body = { signal: opts.signal, graceMs: opts.graceMs, force: opts.force, stopContainer: opts.stopContainer };
    if (typeof target === 'number') return this.wire.call('reality.kill', ctx, { params: { port: integerText(target) }, body: { ...body, protocol: opts.protocol } });
    // No request can carry a target that is neither text nor a number: refused here, in the engine's words.
    if (typeof target !== 'string') return Promise.reject(new UsageError(`invalid kill target ${JSON.stringify(target) ?? String(target)}: give :PORT, PORT or a lease name.`));
    const word = target.trim();
    if (word.startsWith(':') || /^\d+$/.test(word)) {
      return this.wire.call('reality.kill', ctx, { params: { port: word.replace(/^:/, '') }, body: { ...body, protocol: opts.protocol } });
    }
    return this.wire.call('leases.kill', ctx, { scope: 'path', params: { name: target }, body });
  }
}

/** The wiring operations of the RemoteEngine. */
export class RemoteWiring implements WiringApi {
  constructor(private readonly wire: Wire) {}

  env(ctx: ScopeContext, opts: EnvOptions = {}): Promise<EnvVar[]> {
    return this.wire.call('wiring.env', ctx, { scope: 'query', query: { format: 'vars', urls: opts.urls, host: opts.host, prefix: opts.prefix } });
  }

  urls(ctx: ScopeContext, opts: { readonly host?: string } = {}): Promise<ScopeUrl[]> {
    return this.wire.call('wiring.urls', ctx, { scope: 'query', query: { host: opts.host } });
  }
}

/**
 * Wiring data as an engine service: the variables and URLs of a scope, rendered by the
 * pure wiring/ functions from the scope's leases and berth.yaml.
 */
import type { EnvOptions, ScopeContext, WiringApi } from '../engine/index.js';
import type { EnvVar, Lease, ScopeUrl } from '../types.js';
import { urlHost } from '../wiring/hosts.js';
import { scopeUrls } from '../wiring/urls.js';
import { leaseVariables } from '../wiring/variables.js';
import { isValidEnvName } from '../wiring/env-name.js';
import { UsageError } from '../errors.js';
import type { PoolService } from './pool-service.js';
import type { EngineCore } from './shared.js';

/** The wiring operations of the LocalEngine. */
export class WiringService implements WiringApi {
  constructor(
    private readonly core: EngineCore,
    private readonly pools: PoolService,
  ) {}

  async env(ctx: ScopeContext, opts: EnvOptions = {}): Promise<EnvVar[]> {
    const project = await this.core.resolve(ctx);
    const host = urlHost(opts.host, this.core.env);
    const prefix = opts.prefix ?? project.config.envPrefix ?? undefined;
    if (prefix !== undefined && prefix !== '' && !isValidEnvName(prefix)) {
      throw new UsageError(`invalid prefix '${prefix}': a variable name starts with it, so use letters, digits and '_', not starting with a digit (e.g. UDOS_).`, { prefix });
    }
    return leaseVariables(await this.scopeLeases(project.scope), project.config.services, { urls: opts.urls === true, host, prefix, pools: await this.pools.known(ctx) });
  }

  async urls(ctx: ScopeContext, opts: { readonly host?: string } = {}): Promise<ScopeUrl[]> {
    const project = await this.core.resolve(ctx);
    const host = urlHost(opts.host, this.core.env);
    return scopeUrls(await this.scopeLeases(project.scope), project.config.services, await this.pools.known(ctx), { host });
  }

  private scopeLeases(scope: string): Promise<Lease[]> {
    return this.core.store.transaction('read', (tx) => tx.listLeases({ host: this.core.host, scope }));
  }
}

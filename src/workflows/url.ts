/**
 * Service discovery from the caller's side: `http://HOST:PORT` for one lease, with HOST
 * from the caller's environment (`<NAME>_HOST`, `BERTH_HOST`), not the engine's.
 */
import type { Engine, ScopeContext } from '../engine/index.js';
import { serviceHost } from '../wiring/hosts.js';
import { httpUrl, serviceFor, urlScheme } from '../wiring/http.js';

/** Options of serviceUrl. */
export interface ServiceUrlOptions {
  /** The host; default `<NAME>_HOST`, else `BERTH_HOST`, else `SERVICE_HOST`, else localhost, read from `env`. */
  readonly host?: string;
  /** Where the host variables are read (default process.env). */
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * The URL of the scope's lease `name` (`https://` for an https service, see urlScheme);
 * NotFoundError when there is no such lease.
 */
export async function serviceUrl(engine: Engine, ctx: ScopeContext, name: string, opts: ServiceUrlOptions = {}): Promise<string> {
  const lease = await engine.leases.get(ctx, name);
  const { config } = await engine.project(ctx);
  const scheme = urlScheme(name, serviceFor(lease, config.services));
  return httpUrl(opts.host ?? serviceHost(name, opts.env ?? process.env), lease.port, scheme);
}

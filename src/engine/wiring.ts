/**
 * Wiring data: the variables and URLs a scope's services read. Writing them into the
 * caller's files is a workflow (src/workflows/), above the contract.
 */
import type { EnvVar, ScopeUrl } from '../types.js';
import type { ScopeContext } from './context.js';

/** Options of env and urls. */
export interface EnvOptions {
  /** Also `<NAME>_URL` for services that speak HTTP. */
  readonly urls?: boolean;
  /** Host in those URLs; default BERTH_HOST of the engine's environment, else localhost. */
  readonly host?: string;
  /** Put before every derived variable name (`UDOS_`); default `env_prefix:` of berth.yaml, else none. */
  readonly prefix?: string;
}

/** The wiring operations. */
export interface WiringApi {
  /** The scope's variables: `<NAME>_PORT` per lease (or the service's `env:`), and with `urls` `<NAME>_URL`. */
  env(ctx: ScopeContext, opts?: EnvOptions): Promise<EnvVar[]>;
  /** The scope's service URLs and its pool slots' `urls:` templates. */
  urls(ctx: ScopeContext, opts?: { readonly host?: string }): Promise<ScopeUrl[]>;
}

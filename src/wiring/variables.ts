/**
 * Lease data → environment variables. Every renderer (dotenv, shell, compose env-file, JSON,
 * `berth run`) starts from the list this module builds, so they all name ports alike.
 */
import type { EnvVar, Lease, PoolConfig } from '../types.js';
import { UsageError } from '../errors.js';
import type { ServiceConfig } from '../types.js';
import { assertEnvName, envVarName } from './env-name.js';
import { DEFAULT_URL_HOST, httpUrl, leaseSpeaksHttp, serviceFor, urlScheme } from './http.js';
import { expandUrlTemplate } from './urls.js';
import { configOrder } from './order.js';

export { DEFAULT_URL_HOST } from './http.js';

/** Options of leaseVariables. */
export interface VariableOptions {
  /** Also emit `<NAME>_URL` for services that speak HTTP. */
  readonly urls?: boolean;
  /** Host written into URLs; default DEFAULT_URL_HOST. */
  readonly host?: string;
  /** Put before every derived name (`UDOS_` gives `UDOS_API_PORT`); names set with `env:` are kept as written. */
  readonly prefix?: string;
  /** The pools of the leases: their `env:` names roles, and their `urls:` mapping adds URL variables. */
  readonly pools?: readonly PoolConfig[];
}

/**
 * The variables for a list of leases, in berth.yaml order (the services as listed there,
 * then pool slots with their roles in pool order, then any other lease as given); each
 * lease's `_PORT` then its `_URL`.
 *
 * - Port: the service's `env:` when set (for a pool role: the pool's `env:` for it, else
 *   `env:` of a service named like the role), else PREFIX + `<NAME>_PORT` with NAME =
 *   envVarName(name).
 * - URL (with `urls`): PREFIX + `<NAME>_URL` = `http://HOST:PORT` (`https://` for https
 *   services, see urlScheme), for TCP leases that speak HTTP (`http:` in config, else
 *   guessed from the name; see speaksHttp). NAME is always derived from the lease name,
 *   even when `env:` renames the port variable.
 * - After the last role of a pool slot, each `urls:` template the pool names as a
 *   variable (`OAUTH_REDIRECT_URI: http://localhost:${admin}/callback`), expanded with the
 *   slot's ports (always, not only with `urls`: it is configuration, not discovery).
 *
 * @throws UsageError when two leases would set the same variable (`web-api` and `web.api`,
 *   or a pool role named like a service), naming both, or when `env:` is not a valid name.
 */
export function leaseVariables(
  leases: readonly Lease[],
  services: readonly ServiceConfig[],
  opts: VariableOptions = {},
): EnvVar[] {
  const host = opts.host ?? DEFAULT_URL_HOST;
  const prefix = opts.prefix ?? '';
  const pools = opts.pools ?? [];
  const vars: EnvVar[] = [];
  const owners = new Map<string, Lease>();

  const add = (name: string, value: string, lease: Lease): void => {
    const other = owners.get(name);
    if (other !== undefined) {
      throw new UsageError(
        `${describe(other)} and ${describe(lease)} both map to the variable ${name}; give one of them env: in berth.yaml or rename it`,
        { variable: name },
      );
    }
    owners.set(name, lease);
    vars.push({ name, value, lease });
  };

  const ordered = configOrder(leases, services, pools);
  ordered.forEach((lease, i) => {
    const service = serviceFor(lease, services);
    const pool = lease.pool === null ? undefined : pools.find((p) => p.name === lease.pool);
    const stem = `${prefix}${envVarName(lease.name)}`;
    const own = lease.pool === null ? service?.env : (pool?.env?.[lease.name] ?? services.find((s) => s.name === lease.name)?.env);
    const portName = own ?? `${stem}_PORT`;
    assertEnvName(portName, `env: of ${lease.pool === null ? 'service' : `pool ${lease.pool} role`} ${lease.name}`);
    add(portName, String(lease.port), lease);
    if (opts.urls === true && leaseSpeaksHttp(lease, service)) {
      add(`${stem}_URL`, httpUrl(host, lease.port, urlScheme(lease.name, service)), lease);
    }
    const next = ordered[i + 1];
    const slotEnds = lease.pool !== null && (next === undefined || next.pool !== lease.pool || next.slot !== lease.slot);
    if (slotEnds && pool?.urlEnv !== undefined) {
      const ports = Object.fromEntries(leases.filter((l) => l.pool === lease.pool && l.slot === lease.slot).map((l) => [l.name, l.port]));
      for (const [name, index] of Object.entries(pool.urlEnv)) {
        const template = pool.urls[index];
        // A fallback (no slot) holds every role too, so the templates expand alike.
        if (template !== undefined) add(name, expandUrlTemplate(template, ports), lease);
      }
    }
  });
  return vars;
}

function describe(lease: Lease): string {
  return lease.pool === null ? `service "${lease.name}"` : `role "${lease.name}" of pool "${lease.pool}"`;
}

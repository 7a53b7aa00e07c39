/**
 * Lease data → environment variables. Every renderer (dotenv, shell, compose env-file, JSON,
 * `berth run`) starts from the list this module builds, so they all name ports alike.
 */
import type { EnvVar, Lease } from '../types.js';
import { UsageError } from '../errors.js';
import type { ServiceConfig } from '../types.js';
import { assertEnvName, envVarName } from './env-name.js';
import { httpUrl, leaseSpeaksHttp, serviceFor } from './http.js';


/** Options of leaseVariables. */
export interface VariableOptions {
  /** Also emit `<NAME>_URL` for services that speak HTTP. */
  readonly urls?: boolean;
  /** Host written into URLs; default DEFAULT_URL_HOST. */
  readonly host?: string;
}

/** Host written into `<NAME>_URL` values when none is given. */
export const DEFAULT_URL_HOST = 'localhost';

/**
 * The variables for a list of leases, in the leases' order (each lease's `_PORT` then its
 * `_URL`).
 *
 * - Port: the service's `env:` when set, else `<NAME>_PORT` with NAME = envVarName(name).
 * - URL (with `urls`): `<NAME>_URL` = `http://HOST:PORT`, for TCP leases that speak HTTP
 *   (`http:` in config, else guessed from the name; see speaksHttp). NAME is always
 *   derived from the lease name, even when `env:` renames the port variable.
 * - Pool leases (lease.pool set) are named by their role and get the same treatment; no
 *   `services:` entry applies to them.
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

  for (const lease of leases) {
    const service = serviceFor(lease, services);
    const stem = envVarName(lease.name);
    const portName = service?.env ?? `${stem}_PORT`;
    assertEnvName(portName, `env: of service ${lease.name}`);
    add(portName, String(lease.port), lease);
    if (opts.urls === true && leaseSpeaksHttp(lease, service)) {
      add(`${stem}_URL`, httpUrl(host, lease.port), lease);
    }
  }
  return vars;
}

function describe(lease: Lease): string {
  return lease.pool === null ? `service "${lease.name}"` : `role "${lease.name}" of pool "${lease.pool}"`;
}

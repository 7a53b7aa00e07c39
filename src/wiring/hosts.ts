/**
 * Which host name goes into URLs: the one rule for `<NAME>_URL`, `berth urls` and
 * `berth.url(name)`, so a URL printed by the CLI and one built by the library agree.
 */
import { UsageError } from '../errors.js';
import { envVarName } from './env-name.js';
import { DEFAULT_URL_HOST } from './http.js';

/** Environment variable that sets the host of every URL berth writes (`--host` wins). */
export const URL_HOST_VARIABLE = 'BERTH_HOST';

/**
 * The host for URLs: `explicit` (`--host`), else `env.BERTH_HOST`, else `localhost`. An
 * empty value counts as unset. The host is written into URLs as given (an IPv6 literal is
 * bracketed); renderers quote it, so even a host with spaces or quotes cannot break a
 * shell or `.env` line.
 *
 * @throws UsageError when `explicit` is empty or holds a NUL or line break.
 */
export function urlHost(explicit?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (explicit !== undefined) return checkedHost(explicit, '--host');
  const fromEnv = env[URL_HOST_VARIABLE];
  return fromEnv ? checkedHost(fromEnv, URL_HOST_VARIABLE) : DEFAULT_URL_HOST;
}

/** `<NAME>_HOST` for a service or role name (`api` → `API_HOST`, `web-app` → `WEB_APP_HOST`). */
export function serviceHostVariable(name: string): string {
  return `${envVarName(name)}_HOST`;
}

/** The host variable of the Orchestra plan's service discovery (`os.getenv('SERVICE_HOST', 'localhost')`). */
export const SERVICE_HOST_VARIABLE = 'SERVICE_HOST';

/**
 * Where a service is reached, for service discovery (`berth url NAME`, `berth.url(name)`):
 * the first non-empty of `<NAME>_HOST` (e.g. `API_HOST` for `api`), `BERTH_HOST`,
 * `SERVICE_HOST`, else `localhost`.
 */
export function serviceHost(name: string, env: NodeJS.ProcessEnv = process.env): string {
  for (const variable of [serviceHostVariable(name), URL_HOST_VARIABLE, SERVICE_HOST_VARIABLE]) {
    const value = env[variable];
    if (value) return checkedHost(value, variable);
  }
  return DEFAULT_URL_HOST;
}

function checkedHost(host: string, where: string): string {
  if (host === '' || /[\0\r\n]/.test(host)) {
    throw new UsageError(`${where}: "${host}" is not a usable host name; give a name or address such as localhost or 127.0.0.1.`);
  }
  return host;
}

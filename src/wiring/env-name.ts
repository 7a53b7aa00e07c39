/**
 * Environment variable names: how a service or role name becomes one, and which names are
 * safe to hand to a shell.
 */
import { UsageError } from '../errors.js';

/**
 * A name every POSIX shell accepts in `export NAME=...` and every dotenv reader accepts:
 * ASCII letters, digits and `_`, not starting with a digit.
 */
export const ENV_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Whether `name` can be used as an environment variable name (see ENV_NAME_PATTERN). */
export function isValidEnvName(name: string): boolean {
  return ENV_NAME_PATTERN.test(name);
}

/**
 * Turns a service or role name into an upper snake case variable stem.
 *
 * The rule, applied in this order:
 * 1. accents are dropped (`café` → `cafe`);
 * 2. a lower-case letter or digit followed by an upper-case letter gets a `_` between them
 *    (`webApi` → `web_Api`);
 * 3. every run of characters other than ASCII letters and digits becomes one `_`
 *    (`http-server`, `web.api`, `a  b` → `http_server`, `web_api`, `a_b`), and `_` at either
 *    end is dropped;
 * 4. the result is upper-cased, and gets a `_` prefix when it starts with a digit
 *    (`9front` → `_9FRONT`), so it is always a valid name.
 *
 * Distinct names can map to the same stem (`web-api`, `web.api`); callers that need unique
 * variables detect that (see leaseVariables).
 *
 * @throws UsageError when nothing usable is left (`---`, `日本`).
 */
export function envVarName(name: string): string {
  const stem = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/[^A-Za-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .toUpperCase();
  if (stem === '') {
    throw new UsageError(
      `cannot make an environment variable name from "${name}": it has no ASCII letters or digits; set env: for it in berth.yaml`,
      { name },
    );
  }
  return /^[0-9]/.test(stem) ? `_${stem}` : stem;
}

/**
 * Throws UsageError unless `name` is a valid variable name. `what` says where the name came
 * from, for the message.
 */
export function assertEnvName(name: string, what: string): void {
  if (!isValidEnvName(name)) {
    throw new UsageError(
      `${what}: "${name}" is not a valid environment variable name (use letters, digits and _, not starting with a digit)`,
      { name },
    );
  }
}

/**
 * JSON output of the variables: `{ "NAME": "value" }`, for tools and `--json`.
 */
import { UsageError } from '../errors.js';
import type { NamedValue } from './dotenv.js';

/**
 * The variables as a plain object, in order. Values stay strings, as in the environment
 * (`"WEB_PORT": "3000"`). Built with Object.fromEntries, so a name like `__proto__` is an
 * ordinary key.
 *
 * @throws UsageError when a name is given twice.
 */
export function envObject(vars: readonly NamedValue[]): Record<string, string> {
  const seen = new Set<string>();
  for (const v of vars) {
    if (seen.has(v.name)) throw new UsageError(`variable ${v.name} is given twice`, { name: v.name });
    seen.add(v.name);
  }
  return Object.fromEntries(vars.map((v) => [v.name, v.value]));
}

/** envObject as JSON text, two-space indented, ending in `\n`. */
export function renderJson(vars: readonly NamedValue[]): string {
  return `${JSON.stringify(envObject(vars), null, 2)}\n`;
}

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

/**
 * envObject as JSON text, two-space indented, ending in `\n`. `$` and `` ` `` are written
 * as `\u0024` and `\u0060` (the same JSON): in a file sourced by mistake in bash or sh,
 * every value then sits in double quotes with nothing left to expand or run (the lines
 * only fail as commands that do not exist).
 */
export function renderJson(vars: readonly NamedValue[]): string {
  const text = JSON.stringify(envObject(vars), null, 2).replace(/[$`]/g, (c) => (c === '$' ? '\\u0024' : '\\u0060'));
  return `${text}\n`;
}

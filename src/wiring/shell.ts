/**
 * Shell exports: `export NAME='value'` lines that are safe to `eval "$(berth env --shell)"`
 * or `source` in bash, zsh, dash and any POSIX sh.
 */
import { UsageError } from '../errors.js';
import { assertEnvName } from './env-name.js';
import type { NamedValue } from './dotenv.js';

/**
 * Quotes a string for sh: the whole value in single quotes, where nothing is special, and
 * each `'` written as `'\''` (close, escaped quote, reopen). Spaces, `"`, `$`, backticks,
 * `\` and line breaks all come back unchanged and nothing is expanded or run.
 *
 * `name` names the variable in messages.
 *
 * @throws UsageError for a NUL character, which no environment variable can hold.
 */
export function shellQuote(value: string, name = 'value'): string {
  if (value.includes('\0')) {
    throw new UsageError(`${name}: a value with a NUL character cannot be put in the environment: ${JSON.stringify(value)}`, { name });
  }
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * One `export NAME='value'` line per variable, each ending in `\n`.
 *
 * @throws UsageError when a name is not a valid variable name (it would be a command
 *   otherwise) or a value holds a NUL.
 */
export function renderShell(vars: readonly NamedValue[]): string {
  return vars
    .map((v) => {
      assertEnvName(v.name, 'shell variable');
      return `export ${v.name}=${shellQuote(v.value, `variable ${v.name}`)}\n`;
    })
    .join('');
}

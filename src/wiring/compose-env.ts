/**
 * The env-file that `docker compose --env-file FILE` reads to interpolate `${VAR}` in
 * compose.yaml. berth owns this file whole (unlike `.env`, which it merges), so it is
 * rendered, not merged.
 *
 * Compose reads `#` comments, `KEY=value`, single-quoted values literally, and interpolates
 * `$` in bare and double-quoted values (`\$` is a literal `$`); quoteDotenvValue already
 * writes values that way, so both files share one quoting rule, and this file too is inert
 * when sourced by sh. Values that rule refuses (line breaks, NUL, ...) are refused here.
 */
import { assertEnvName } from './env-name.js';
import { quoteDotenvValue, type NamedValue } from './dotenv.js';

/** First line of a rendered compose env-file. */
export const COMPOSE_ENV_HEADER = '# Ports leased by berth. berth rewrites this file; edit berth.yaml instead.';

/**
 * The compose env-file text: COMPOSE_ENV_HEADER, then one `KEY=value` line per variable,
 * each ending in `\n`. No `export` prefixes (old compose versions reject them).
 *
 * @throws UsageError naming the variable for an invalid name or a value quoteDotenvValue refuses.
 */
export function renderComposeEnvFile(vars: readonly NamedValue[]): string {
  const lines = vars.map((v) => {
    assertEnvName(v.name, 'compose env-file variable');
    return `${v.name}=${quoteDotenvValue(v.value, `variable ${v.name}`)}\n`;
  });
  return `${COMPOSE_ENV_HEADER}\n${lines.join('')}`;
}

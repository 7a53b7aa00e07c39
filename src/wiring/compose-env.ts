/**
 * The env-file that `docker compose --env-file FILE` reads to interpolate `${VAR}` in
 * compose.yaml. berth owns this file whole (unlike `.env`, which it merges), so it is
 * rendered, not merged.
 *
 * Compose reads `#` comments, `KEY=value`, single-quoted values literally, and interpolates
 * `$` in bare and double-quoted values (`\$` is a literal `$`); quoteDotenvValue already
 * writes values that way, so both files share one quoting rule.
 */
import { assertEnvName } from './env-name.js';
import { quoteDotenvValue, type NamedValue } from './dotenv.js';

/** First line of a rendered compose env-file. */
export const COMPOSE_ENV_HEADER = '# Ports leased by berth. berth rewrites this file; edit berth.yaml instead.';

/**
 * The compose env-file text: COMPOSE_ENV_HEADER, then one `KEY=value` line per variable,
 * each ending in `\n`. No `export` prefixes (old compose versions reject them).
 */
export function renderComposeEnvFile(vars: readonly NamedValue[]): string {
  const lines = vars.map((v) => {
    assertEnvName(v.name, 'compose env-file variable');
    return `${v.name}=${quoteDotenvValue(v.value)}\n`;
  });
  return `${COMPOSE_ENV_HEADER}\n${lines.join('')}`;
}

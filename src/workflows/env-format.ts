/**
 * The output formats of `berth env`, chosen by name, and writing them to a file: `.env`
 * is merged in place (berth shares it with people); every other format is berth's own file
 * and is replaced whole. Both are written atomically.
 */
import { UsageError } from '../errors.js';
import { renderComposeEnvFile } from '../wiring/compose-env.js';
import { renderDotenv, type NamedValue } from '../wiring/dotenv.js';
import { writeEnvFile } from './files.js';
import { writeFileIfChanged } from './safe-write.js';
import { renderJson } from '../wiring/json.js';
import { renderShell } from '../wiring/shell.js';

/** An output format of `berth env`. */
export type EnvFormat = 'dotenv' | 'shell' | 'compose' | 'json';

/** Every format, in the order help text lists them. */
export const ENV_FORMATS: readonly EnvFormat[] = ['dotenv', 'shell', 'compose', 'json'];

/** Parses a `--format` value. @throws UsageError naming the known formats. */
export function parseEnvFormat(text: string): EnvFormat {
  if ((ENV_FORMATS as readonly string[]).includes(text)) return text as EnvFormat;
  throw new UsageError(`unknown format '${text}'. Use one of: ${ENV_FORMATS.join(', ')}.`, { format: text });
}

/**
 * The variables in one format:
 * - `dotenv`: `KEY=value` lines (see quoteDotenvValue);
 * - `shell`: `export KEY='value'` lines, safe to `eval` or `source` (see shellQuote);
 * - `compose`: the env-file `docker compose --env-file` reads, with a header comment;
 * - `json`: `{ "KEY": "value" }`.
 */
export function renderEnv(format: EnvFormat, vars: readonly NamedValue[]): string {
  switch (format) {
    case 'dotenv':
      return renderDotenv(vars);
    case 'shell':
      return renderShell(vars);
    case 'compose':
      return renderComposeEnvFile(vars);
    case 'json':
      return renderJson(vars);
  }
}

/** What writeEnvOutput did. */
export interface EnvWriteResult {
  readonly file: string;
  readonly format: EnvFormat;
  /** False when the file already held exactly this (it was then not touched). */
  readonly changed: boolean;
  readonly variables: readonly NamedValue[];
}

/**
 * Writes variables to `file` in `format`, atomically (readers see the old file or the new
 * one). `dotenv` merges into the existing file: berth's keys are updated where they stand,
 * every other byte is kept, missing keys are appended (see mergeDotenv). The other formats
 * replace the file, which berth then owns. A file that already holds the result is left
 * untouched, so file watchers do not fire. `drop`: keys a dotenv merge removes unless `vars`
 * sets them (what berth wrote there before for leases since released). A path that cannot be written throws the
 * UsageError or RefusedError of writeError, never a bare system error. The rules for the
 * path (regular files only, no other user's links) are safe-write.ts's.
 */
export async function writeEnvOutput(file: string, format: EnvFormat, vars: readonly NamedValue[], drop: readonly string[] = []): Promise<EnvWriteResult> {
  if (format === 'dotenv') return { file, format, changed: await writeEnvFile(file, vars, drop), variables: vars };
  return { file, format, changed: await writeFileIfChanged(file, renderEnv(format, vars)), variables: vars };
}

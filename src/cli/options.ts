/**
 * Option values given on the command line, parsed into typed values; bad values become
 * UsageError (exit 2) with a message that says what is allowed.
 */
import { UsageError } from '../errors.js';
import { STRATEGIES, type StrategyName } from '../types.js';

/** The options every command takes, before or after the command name. */
export interface GlobalOptions {
  readonly json?: boolean;
  readonly scope?: string;
  readonly db?: string;
  readonly config?: string;
  /** The daemon to work through (`http://127.0.0.1:PORT`, `unix:/path/berth.sock`); default BERTH_URL. */
  readonly url?: string;
  /** Base port of the sequential strategy (default: BERTH_BASE_PORT, else BASE_PORT, else berth.yaml's base:). */
  readonly base?: string;
  /** The directory a named scope belongs to: gc releases the scope when it is gone. */
  readonly dir?: string;
}

/** Parses a whole number >= min, naming the option in the error. */
export function parseCount(value: string, what: string, min = 1): number {
  if (!/^\d+$/.test(value.trim()) || Number(value) < min) throw new UsageError(`invalid ${what} '${value}': expected a whole number of at least ${min}.`);
  return Number(value);
}

/** Parses a strategy name. */
export function parseStrategy(value: string): StrategyName {
  if (!STRATEGIES.includes(value as StrategyName)) throw new UsageError(`unknown strategy '${value}'. Use one of: ${STRATEGIES.join(', ')}.`);
  return value as StrategyName;
}

/**
 * Whether berth's own output is JSON: `--json` among berth's words, not in the command
 * `berth run ... -- CMD --json` runs (everything after the first `--` is the child's).
 */
export function wantsJson(argv: readonly string[]): boolean {
  const dash = argv.indexOf('--');
  return (dash < 0 ? argv : argv.slice(0, dash)).includes('--json');
}

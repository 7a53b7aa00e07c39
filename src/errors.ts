/**
 * Typed errors. Everything below the CLI entry throws these; only the entry maps them to
 * exit codes (see DESIGN.md) and calls process.exit. Every message says what to do next.
 */

/** Exit codes, as documented in DESIGN.md. */
export const EXIT = {
  OK: 0,
  ABSENT: 1,
  BAD_INPUT: 2,
  EXHAUSTED: 3,
  REFUSED: 4,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** Base class: a message for a person, an exit code, and optional details for --json. */
export abstract class BerthError extends Error {
  abstract readonly exitCode: ExitCode;
  /** A stable, machine-readable kind, e.g. `usage`, `not-found`. */
  abstract readonly kind: string;
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = new.target.name;
    this.details = details;
  }

  /** The plain object printed for `--json`. */
  toJSON(): Record<string, unknown> {
    return { error: this.kind, message: this.message, exitCode: this.exitCode, ...(this.details ?? {}) };
  }
}

/** Bad input: usage, an invalid port or range. Exit 2. */
export class UsageError extends BerthError {
  readonly exitCode = EXIT.BAD_INPUT;
  readonly kind = 'usage';
}

/** An invalid config file; the message names the file and the key. Exit 2. */
export class ConfigError extends BerthError {
  readonly exitCode = EXIT.BAD_INPUT;
  readonly kind = 'config';
  constructor(
    readonly file: string,
    readonly key: string,
    problem: string,
  ) {
    super(`${file}: ${key ? `${key}: ` : ''}${problem}`, { file, key });
  }
}

/** What was asked about is absent: no such lease, nothing listens. Exit 1. */
export class NotFoundError extends BerthError {
  readonly exitCode = EXIT.ABSENT;
  readonly kind = 'not-found';
}

/** A port is held by another lease or process. Exit 4 (refused). */
export class ConflictError extends BerthError {
  readonly exitCode = EXIT.REFUSED;
  readonly kind = 'conflict';
}

/** No free port in the range, no free slot in the pool. Exit 3. */
export class ExhaustedError extends BerthError {
  readonly exitCode = EXIT.EXHAUSTED;
  readonly kind = 'exhausted';
}

/** Refused or failed: kill refused, unsafe operation without confirmation. Exit 4. */
export class RefusedError extends BerthError {
  readonly exitCode = EXIT.REFUSED;
  readonly kind = 'refused';
}

/** The store cannot be opened or used: not a database, lock timeout. Exit 4. */
export class StoreError extends BerthError {
  readonly exitCode = EXIT.REFUSED;
  readonly kind = 'store';
}

/**
 * One line for a YAML error, the same for berth.yaml and compose files:
 * `not valid YAML at line L, column C: REASON. Fix the file and try again.` REASON is the
 * first line of `message`. Parse with `prettyErrors: false` and a LineCounter (whose
 * `linePos(error.pos[0])` gives `at`) so the message carries no code frame of its own;
 * `at` is null for errors found after parsing, such as an alias with no anchor.
 */
export function yamlProblem(message: string, at: { readonly line: number; readonly col: number } | null): string {
  const reason = (message.split('\n')[0] ?? '').trim().replace(/[\s.:]+$/, '');
  return `not valid YAML${at ? ` at line ${at.line}, column ${at.col}` : ''}: ${reason}. Fix the file and try again.`;
}

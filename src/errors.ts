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
  /** The exit code of the CLI; see DESIGN.md. A getter on the class, so rebuilt errors have it too. */
  abstract get exitCode(): ExitCode;
  /** A stable, machine-readable kind, e.g. `usage`, `not-found`: survives the wire. */
  abstract get kind(): string;
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = new.target.name;
    this.details = details;
  }

  /** The plain object printed for `--json` (and sent as problem+json by the daemon). */
  toJSON(): Record<string, unknown> {
    return { error: this.kind, message: this.message, exitCode: this.exitCode, ...(this.details ?? {}) };
  }
}

/** Bad input: usage, an invalid port or range. Exit 2. */
export class UsageError extends BerthError {
  get exitCode(): ExitCode {
    return EXIT.BAD_INPUT;
  }
  get kind(): string {
    return 'usage';
  }
}

/** An invalid config file; the message names the file and the key. Exit 2. */
export class ConfigError extends BerthError {
  constructor(file: string, key: string, problem: string) {
    super(`${file}: ${key ? `${key}: ` : ''}${problem}`, { file, key });
  }
  get exitCode(): ExitCode {
    return EXIT.BAD_INPUT;
  }
  get kind(): string {
    return 'config';
  }
  /** The config file. */
  get file(): string {
    return String(this.details?.file ?? '');
  }
  /** The key, e.g. `services.web.port`; empty for the whole file. */
  get key(): string {
    return String(this.details?.key ?? '');
  }
}

/** What was asked about is absent: no such lease, nothing listens. Exit 1. */
export class NotFoundError extends BerthError {
  get exitCode(): ExitCode {
    return EXIT.ABSENT;
  }
  get kind(): string {
    return 'not-found';
  }
}

/** A port is held by another lease or process. Exit 4 (refused). */
export class ConflictError extends BerthError {
  get exitCode(): ExitCode {
    return EXIT.REFUSED;
  }
  get kind(): string {
    return 'conflict';
  }
}

/** No free port in the range, no free slot in the pool. Exit 3. */
export class ExhaustedError extends BerthError {
  get exitCode(): ExitCode {
    return EXIT.EXHAUSTED;
  }
  get kind(): string {
    return 'exhausted';
  }
}

/** Refused or failed: kill refused, unsafe operation without confirmation. Exit 4. */
export class RefusedError extends BerthError {
  get exitCode(): ExitCode {
    return EXIT.REFUSED;
  }
  get kind(): string {
    return 'refused';
  }
}

/** The store cannot be opened or used: not a database, lock timeout. Exit 4. */
export class StoreError extends BerthError {
  get exitCode(): ExitCode {
    return EXIT.REFUSED;
  }
  get kind(): string {
    return 'store';
  }
}

/** `berth check` found conflicts (exit 1, "unhealthy"); the conflicts themselves are the data. */
export class ConflictsFoundError extends BerthError {
  constructor(conflicts: readonly { readonly kind: string }[]) {
    super(`${conflicts.length} conflict(s) found: ${[...new Set(conflicts.map((c) => c.kind))].join(', ')}.`, { count: conflicts.length });
  }
  get exitCode(): ExitCode {
    return EXIT.ABSENT;
  }
  get kind(): string {
    return 'conflicts';
  }
}

/** `berth kill` signalled the holders, but one survived or the port is still not bindable (exit 4). */
export class KillIncompleteError extends BerthError {
  get exitCode(): ExitCode {
    return EXIT.REFUSED;
  }
  get kind(): string {
    return 'kill-incomplete';
  }
}

/**
 * A command's non-zero status (`berth run -- CMD`), as an error the CLI entry maps to that
 * same status. It deliberately carries the command's status (1-255), not one of berth's
 * own exit codes, so `berth run -- CMD` exits as CMD did, as a shell would.
 */
export class ChildExitStatus extends BerthError {
  get exitCode(): ExitCode {
    // ExitCode names berth's own codes; a child's status is passed through unchanged.
    return Number(this.details?.status ?? EXIT.REFUSED) as ExitCode;
  }
  get kind(): string {
    return 'child-exit';
  }
}

/** Not the caller's fault and not foreseen: a bug, or the OS failing in a way berth did not expect. Exit 4. */
export class UnexpectedError extends BerthError {
  get exitCode(): ExitCode {
    return EXIT.REFUSED;
  }
  get kind(): string {
    return 'unexpected';
  }
}

/** Every error class by kind: how a remote caller gets the same class back. */
const BY_KIND: Readonly<Record<string, abstract new (...args: never[]) => BerthError>> = {
  usage: UsageError,
  config: ConfigError,
  'not-found': NotFoundError,
  conflict: ConflictError,
  exhausted: ExhaustedError,
  refused: RefusedError,
  store: StoreError,
  conflicts: ConflictsFoundError,
  'kill-incomplete': KillIncompleteError,
  'child-exit': ChildExitStatus,
  unexpected: UnexpectedError,
};

/** The error kinds berth knows. */
export const ERROR_KINDS: readonly string[] = Object.keys(BY_KIND);

/**
 * HTTP status of each kind, for the daemon's problem+json answers; DESIGN.md's table.
 * Kinds of the HTTP layer itself (unauthenticated, forbidden, ...) are the server's own.
 */
export const HTTP_STATUS: Readonly<Record<string, number>> = {
  usage: 400,
  config: 400,
  'not-found': 404,
  conflict: 409,
  exhausted: 409,
  refused: 409,
  conflicts: 409,
  'kill-incomplete': 409,
  store: 503,
  unexpected: 500,
  'child-exit': 500,
};

/**
 * Rebuilds an error from its `toJSON()` form (`{error: kind, message, ...details}`): the
 * same class, kind, exit code, message and details. An unknown kind becomes UnexpectedError.
 */
export function errorFromJSON(value: unknown): BerthError {
  const obj = typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  const kind = typeof obj.error === 'string' ? obj.error : typeof obj.code === 'string' ? obj.code : 'unexpected';
  const message = typeof obj.message === 'string' ? obj.message : typeof obj.detail === 'string' ? obj.detail : 'unknown error';
  const details: Record<string, unknown> = {};
  const skip = new Set(['error', 'message', 'exitCode', 'code', 'type', 'title', 'status', 'detail']);
  for (const [k, v] of Object.entries(obj)) if (!skip.has(k)) details[k] = v;
  // child-exit keeps the command's status under `status`, which problem+json also uses.
  if (kind === 'child-exit' && obj.status !== undefined) details.status = obj.status;
  const Class = Object.hasOwn(BY_KIND, kind) ? BY_KIND[kind]! : UnexpectedError;
  // Built without its constructor (whose parameters differ per class): the class's getters
  // give kind and exit code; message and details are the sender's.
  const error = Object.create(Class.prototype) as BerthError & { details: unknown; message: string; name: string };
  Object.defineProperty(error, 'message', { value: message, writable: true, configurable: true });
  Object.defineProperty(error, 'name', { value: Class.name, writable: true, configurable: true });
  Object.defineProperty(error, 'details', { value: Object.keys(details).length > 0 ? details : undefined, enumerable: true });
  Object.defineProperty(error, 'stack', { value: `${Class.name}: ${message}`, writable: true, configurable: true });
  return error;
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

/**
 * Text made safe for one line of a message or a table cell: runs of whitespace become one
 * space and control characters `?`. Process names, command lines, scopes, purposes and
 * YAML keys are chosen by others; a newline or a terminal escape must not reach the reader.
 */
export function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\s+/g, ' ').replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
}

/**
 * Outcomes of reality commands that the CLI maps to an exit code after printing the data.
 */
import { BerthError, EXIT } from '../../errors.js';
import { printable } from './expect.js';
import type { Conflict, KillReport } from './types.js';

/** `berth check` found conflicts (exit 1, "unhealthy"); the conflicts themselves are on stdout. */
export class ConflictsFoundError extends BerthError {
  readonly exitCode = EXIT.ABSENT;
  readonly kind = 'conflicts';

  constructor(conflicts: readonly Conflict[]) {
    super(`${conflicts.length} conflict(s) found: ${[...new Set(conflicts.map((c) => c.kind))].join(', ')}.`, { count: conflicts.length });
  }
}

/** `berth kill` signalled the holders, but one survived or the port is still not bindable (exit 4). */
export class KillIncompleteError extends BerthError {
  readonly exitCode = EXIT.REFUSED;
  readonly kind = 'kill-incomplete';

  constructor(report: KillReport) {
    const alive = report.killed.filter((k) => !k.exited);
    const why = alive.length > 0
      ? alive.map((k) => `pid ${k.pid} (${printable(k.process ?? '?')}) is still running${k.error ? ` (${k.error})` : ''}`).join('; ')
      : `every holder exited, but ${report.protocol} port ${report.port} still cannot be bound (see \`berth who ${report.port}\`)`;
    super(`${why}.`, { port: report.port, protocol: report.protocol, alive: alive.map((k) => k.pid) });
  }
}

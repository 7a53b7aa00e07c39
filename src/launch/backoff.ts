/**
 * What happens after a service's processes end, pure: restart (after how long), complete,
 * or fail. The supervisor applies it.
 */
import type { RestartSpec } from '../types.js';

/** How the last process ended. */
export interface EndedWith {
  readonly code: number | null;
  readonly signal: string | null;
}

/** The decision after an end. */
export type AfterEnd =
  | { readonly kind: 'restart'; readonly delayMs: number }
  | { readonly kind: 'completed' }
  | { readonly kind: 'failed'; readonly reason: string };

/** The delay before restart number `attempt` (1 = the first): base × factor^(attempt-1), at most cap. */
export function restartDelayMs(spec: RestartSpec, attempt: number): number {
  const { baseMs, factor, capMs } = spec.backoff;
  return Math.min(capMs, Math.round(baseMs * factor ** Math.max(0, attempt - 1)));
}

/** Describes an end for people: `exit code 3`, `signal SIGKILL`. */
export function describeEnd(end: EndedWith): string {
  return end.signal !== null ? `signal ${end.signal}` : `exit code ${end.code}`;
}

/**
 * The decision after the service ended on its own with `end`, having been restarted
 * `consecutive` times in a row before: exit 0 completes a job (unless policy always),
 * policy `no` fails, and a crash restarts with backoff until `max_restarts` restarts in a
 * row, then fails.
 */
export function afterEnd(spec: RestartSpec, end: EndedWith, consecutive: number): AfterEnd {
  const clean = end.signal === null && end.code === 0;
  if (clean && spec.policy !== 'always') return { kind: 'completed' };
  if (spec.policy === 'no') return { kind: 'failed', reason: `exited (${describeEnd(end)}); restart: no` };
  if (spec.maxRestarts !== null && consecutive >= spec.maxRestarts) {
    return { kind: 'failed', reason: `${clean ? 'exited' : 'crashed'} ${consecutive + 1} times in a row (last: ${describeEnd(end)}); max_restarts is ${spec.maxRestarts}` };
  }
  return { kind: 'restart', delayMs: restartDelayMs(spec, consecutive + 1) };
}

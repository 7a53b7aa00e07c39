/**
 * Durations as people write them (`300ms`, `90s`, `2h`, `3d`), and points in time given as
 * a duration ago or an ISO-8601 timestamp. One parser for berth.yaml and the command line.
 */
import { UsageError } from '../errors.js';

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const DURATION_RE = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)$/;

/** Milliseconds in `text` (`300ms`, `2s`, `1.5h`), or null when it is not a duration. */
export function durationMs(text: string): number | null {
  const match = DURATION_RE.exec(text.trim());
  if (!match) return null;
  const ms = Number(match[1]) * UNIT_MS[match[2]!]!;
  return Number.isFinite(ms) ? Math.round(ms) : null;
}

/**
 * The point in time `text` names: a duration ago (`2h` = two hours before `now`) or an
 * ISO-8601 time (`2026-11-29`, `2026-11-29T14:00:00Z`). Returns ISO-8601.
 *
 * @throws UsageError naming `what` and both accepted forms.
 */
export function parseSince(text: string, what = 'since', now: number = Date.now()): string {
  const ago = durationMs(text);
  if (ago !== null) return new Date(now - ago).toISOString();
  const trimmed = text.trim();
  const time = /^\d{4}-\d\d-\d\d/.test(trimmed) ? Date.parse(trimmed) : Number.NaN;
  if (Number.isNaN(time)) {
    throw new UsageError(`invalid ${what} '${text}': give a duration ago (90s, 15m, 2h, 3d) or a time (2026-11-29 or 2026-11-29T14:00:00Z).`);
  }
  return new Date(time).toISOString();
}

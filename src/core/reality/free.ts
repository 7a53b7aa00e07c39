/**
 * `berth free`: the first ports free in the registry and the OS, by exactly the rules
 * allocation uses (candidatePorts, unavailableReason); no lease is taken.
 */
import { ExhaustedError, UsageError } from '../../errors.js';
import { MAX_PORT, type PortRange, type Protocol } from '../../types.js';
import { candidatePorts, unavailableReason, type AllocContext } from '../allocate.js';
import { formatRange, parsePort } from '../../config/ports.js';
import type { FreeOptions, FreeResult } from '../../engine/index.js';

/** What to look for. */
export interface FreeSearch {
  readonly protocol: Protocol;
  /** Inclusive band walked upward from its start. */
  readonly band: PortRange;
  /** True when the person named the range: ports in the OS ephemeral range are then allowed, as in allocation. */
  readonly explicitRange: boolean;
  readonly count: number;
}

/**
 * What `berth free` searches, from its options: from `from` (default `base`) to 65535, or
 * within `range`. UsageError for a bad count or a start outside the range.
 */
export function freeSearch(opts: FreeOptions, base: number): FreeSearch {
  const count = opts.count ?? 1;
  if (!Number.isInteger(count) || count < 1) throw new UsageError(`invalid count ${String(count)}: expected a whole number of at least 1.`);
  const from = opts.from === undefined ? undefined : parsePort(opts.from, 'from');
  const { range } = opts;
  if (range && from !== undefined && (from < range.start || from > range.end)) {
    throw new UsageError(`--from ${from} lies outside --range ${range.start}-${range.end}; give a start inside the range.`);
  }
  const band = range ? { start: from ?? range.start, end: range.end } : { start: from ?? base, end: MAX_PORT };
  return { protocol: opts.protocol ?? 'tcp', band, explicitRange: range !== undefined, count };
}

/**
 * The first `count` ports of `band` that no lease holds, no exclusion forbids (reserved,
 * browser-unsafe, the ephemeral range unless the range was named) and a bind probe finds
 * free. ExhaustedError (exit 3) when the band holds fewer.
 */
export async function findFreePorts(ctx: AllocContext, search: FreeSearch): Promise<FreeResult> {
  const { band, protocol, explicitRange, count } = search;
  const ports: number[] = [];
  for (const port of candidatePorts(ctx.exclusions, explicitRange, band.start, band.end)) {
    if ((await unavailableReason(ctx, port, protocol, explicitRange)) !== null) continue;
    ports.push(port);
    if (ports.length === count) break;
  }
  if (ports.length < count) {
    throw new ExhaustedError(
      `only ${ports.length} free ${protocol} port(s) in ${formatRange(band)}, ${count} asked for (the rest are leased, reserved, excluded or in use). ` +
        'Widen the search (--range A-B, --from N) or ask for fewer (--count).',
      { protocol, range: formatRange(band), found: ports, count },
    );
  }
  return { protocol, ports, from: band.start, to: band.end };
}

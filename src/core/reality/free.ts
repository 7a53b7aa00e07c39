/**
 * `berth free`: the first ports free in the registry and the OS, by exactly the rules
 * allocation uses (claimablePorts); no lease is taken.
 */
import { ExhaustedError } from '../../errors.js';
import type { PortRange, Protocol } from '../../types.js';
import { claimablePorts, type AllocContext } from '../allocate.js';
import { formatRange } from '../ports.js';
import type { FreeResult } from './types.js';

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
 * The first `count` ports of `band` that no lease holds, no exclusion forbids (reserved,
 * browser-unsafe, the ephemeral range unless the range was named) and a bind probe finds
 * free. ExhaustedError (exit 3) when the band holds fewer.
 */
export async function findFreePorts(ctx: AllocContext, search: FreeSearch): Promise<FreeResult> {
  const { band, protocol, explicitRange, count } = search;
  const ports: number[] = [];
  for await (const port of claimablePorts(ctx, protocol, explicitRange, band.start, band.end)) {
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

/**
 * Strategies, as plans: which ports to try, in which order. Pure: no store, no OS.
 * The allocator walks a plan inside one store transaction.
 */
import { UsageError } from '../errors.js';
import type { PortRange, Protocol } from '../types.js';
import { categoryOf, rangeOf, wellKnown } from '../config/categories.js';
import type { BerthConfig, ServiceConfig, StrategyName } from '../types.js';
import { formatRange, inRange } from '../config/ports.js';
import type { AllocationRequest } from '../engine/index.js';


/** How to find a port: try `first` (if any), then walk each segment upward. */
export interface Plan {
  readonly strategy: StrategyName;
  readonly protocol: Protocol;
  readonly purpose: string | null;
  /** The one port the fixed strategy accepts, or the preferred port tried first. */
  readonly first: number | null;
  /** Inclusive segments walked in order after `first`; empty for fixed. */
  readonly segments: readonly PortRange[];
  /** The band the plan draws from, for messages. */
  readonly range: PortRange | null;
  /** True when the person named the range, so ports in the OS ephemeral range are allowed. */
  readonly explicitRange: boolean;
}

const TOP_PORT = 65535;

/** FNV-1a, 32 bit: stable across machines and Node versions. */
export function stableHash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** Segments that walk all of `range` once, starting at `from` and wrapping around. */
function wrapFrom(range: PortRange, from: number): PortRange[] {
  if (!inRange(from, range) || from === range.start) return [range];
  return [
    { start: from, end: range.end },
    { start: range.start, end: from - 1 },
  ];
}

function categoryRange(config: BerthConfig, category: string): PortRange {
  const range = rangeOf(config.ranges, category);
  if (!range) throw new UsageError(`unknown category '${category}'. Known: ${Object.keys(config.ranges).join(', ')}; add it under ranges: in berth.yaml.`);
  return range;
}

/**
 * Which strategy applies when neither the request nor the service names one: what the
 * request or service says (a port, a preferred port, a band), else `defaults.strategy` of
 * berth.yaml, else the customary port of a well-known name, else sequential.
 */
function defaultStrategy(req: AllocationRequest, svc: ServiceConfig | null, config: BerthConfig): StrategyName {
  if (req.port !== undefined || svc?.port != null) return 'fixed';
  if (req.prefer !== undefined || svc?.prefer != null) return 'preferred';
  if (req.range || req.category || svc?.range || svc?.category) return 'range';
  if (config.defaults.strategy !== null) return config.defaults.strategy;
  return wellKnown(req.name) ? 'preferred' : 'sequential';
}

/**
 * Builds the plan for one request. Command-line values win over berth.yaml, which wins
 * over built-in knowledge (well-known ports, categories).
 */
export function planFor(req: AllocationRequest, svc: ServiceConfig | null, config: BerthConfig, scope: string): Plan {
  const strategy = req.strategy ?? svc?.strategy ?? defaultStrategy(req, svc, config);
  const protocol = req.protocol ?? svc?.protocol ?? 'tcp';
  const purpose = req.purpose ?? svc?.purpose ?? null;
  const known = wellKnown(req.name);
  const category = req.category ?? svc?.category ?? null;
  const explicit = req.range ?? svc?.range ?? null;
  const range = explicit ?? (category ? categoryRange(config, category) : null);
  const base = { strategy, protocol, purpose, explicitRange: explicit !== null };

  switch (strategy) {
    case 'fixed': {
      const port = req.port ?? svc?.port ?? req.prefer ?? null;
      if (port === null) throw new UsageError(`the fixed strategy needs a port for '${req.name}': pass --port N or set services.${req.name}.port in berth.yaml.`);
      return { ...base, first: port, segments: [], range: null };
    }
    case 'preferred': {
      const prefer = req.prefer ?? svc?.prefer ?? svc?.port ?? known?.port ?? null;
      if (prefer === null) {
        throw new UsageError(`berth knows no customary port for '${req.name}': pass --prefer N, or choose another strategy (--strategy sequential).`);
      }
      // A taken preferred port falls back in its own category (8000 taken: the api band),
      // not in the dynamic range: the service stays where people look for it.
      const band = range ?? categoryRange(config, known?.category ?? categoryOf(prefer, config.ranges) ?? 'dynamic');
      return { ...base, first: prefer, segments: wrapFrom(band, prefer + 1 > band.end ? band.start : prefer + 1), range: band };
    }
    case 'sequential': {
      const start = range?.start ?? config.base;
      const band = { start, end: range?.end ?? TOP_PORT };
      return { ...base, first: null, segments: [band], range: band };
    }
    case 'range': {
      const band = range ?? (known ? categoryRange(config, known.category) : null);
      if (!band) throw new UsageError(`the range strategy needs a band for '${req.name}': pass --range A-B or --category C, or set one in berth.yaml.`);
      return { ...base, first: null, segments: [band], range: band };
    }
    case 'hash': {
      const band = range ?? categoryRange(config, known?.category ?? 'dynamic');
      const size = band.end - band.start + 1;
      const at = band.start + (stableHash(`${scope}/${req.name}`) % size);
      return { ...base, first: null, segments: wrapFrom(band, at), range: band };
    }
  }
}

/** `5000-5999`, or `5432` for a fixed plan: for messages. */
export function describePlan(plan: Plan): string {
  return plan.range ? formatRange(plan.range) : String(plan.first);
}

/**
 * Where a lease moves when no port is named (`reassign NAME`, `check --fix`): the next
 * port after `current` in the band of its category (berth.yaml's category or range, else
 * a well-known name's, else the band `current` lies in, else dynamic), wrapping around.
 */
export function movePlan(name: string, current: number, svc: ServiceConfig | null, config: BerthConfig): Plan {
  const category = svc?.category ?? wellKnown(name)?.category ?? categoryOf(current, config.ranges) ?? 'dynamic';
  const band = svc?.range ?? categoryRange(config, category);
  const from = current + 1 > band.end || current < band.start ? band.start : current + 1;
  return {
    strategy: 'range',
    protocol: svc?.protocol ?? 'tcp',
    purpose: null,
    first: null,
    segments: wrapFrom(band, from),
    range: band,
    explicitRange: svc?.range != null,
  };
}

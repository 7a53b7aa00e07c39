/**
 * The normalised shape of berth.yaml. The loader reads YAML, normalises it into this shape
 * and validates it; everything else reads only this.
 */
import type { PortRange, Protocol } from '../../types.js';

/** The allocation strategies berth knows. */
export type StrategyName = 'fixed' | 'preferred' | 'sequential' | 'range' | 'hash';

export const STRATEGIES: readonly StrategyName[] = ['fixed', 'preferred', 'sequential', 'range', 'hash'];

/** One entry of `services:`. */
export interface ServiceConfig {
  readonly name: string;
  /** Fixed port. */
  readonly port: number | null;
  readonly prefer: number | null;
  readonly category: string | null;
  readonly range: PortRange | null;
  readonly strategy: StrategyName | null;
  /** Environment variable name for the port (default `<NAME>_PORT`). */
  readonly env: string | null;
  readonly purpose: string | null;
  readonly protocol: Protocol;
  /** Expected process name of the holder, for `berth status`. */
  readonly process: string | null;
  /** docker-compose service this lease maps to (default: same name). */
  readonly compose: string | null;
  /** Container port inside that compose service. */
  readonly composePort: number | null;
  /** Whether the service speaks HTTP (gets a `<NAME>_URL`); null = guess from the name. */
  readonly http: boolean | null;
}

/** One entry of `pools:`. A slot is a set of role -> port. */
export type PoolConfig = SeriesPoolConfig | SetsPoolConfig;

interface PoolCommon {
  readonly name: string;
  /** Role names, in declaration order. */
  readonly roles: readonly string[];
  /** URL templates such as `http://localhost:${admin}/callback`. */
  readonly urls: readonly string[];
  readonly protocol: Protocol;
}

/** `ports: {role: base}` with `step` and optional `slots` (null = open-ended). */
export interface SeriesPoolConfig extends PoolCommon {
  readonly kind: 'series';
  readonly ports: Readonly<Record<string, number>>;
  readonly step: number;
  readonly slots: number | null;
}

/** `sets: [{role: port}, ...]`: an explicit list of slots. */
export interface SetsPoolConfig extends PoolCommon {
  readonly kind: 'sets';
  readonly sets: readonly Readonly<Record<string, number>>[];
}

/** The whole normalised config. */
export interface BerthConfig {
  /** Absolute path of the file read, or null when none was found. */
  readonly file: string | null;
  /** Directory that holds the file (or the project directory when there is none). */
  readonly dir: string;
  /** `project:` or null. */
  readonly project: string | null;
  /** Base port for the sequential strategy. */
  readonly base: number;
  /** Built-in categories merged with `ranges:`. */
  readonly ranges: Readonly<Record<string, PortRange>>;
  /** Ports never handed out. */
  readonly reserved: readonly number[];
  readonly services: readonly ServiceConfig[];
  readonly pools: readonly PoolConfig[];
}

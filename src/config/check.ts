/**
 * The validation helpers every berth.yaml reader shares: each failure is a ConfigError
 * naming the file, the key path and what is allowed.
 */
import { ConfigError, printable } from '../errors.js';
import type { PortRange, Protocol, StrategyName } from '../types.js';
import { STRATEGIES } from '../types.js';
import { isPort } from './ports.js';

/** Names of services, pools, roles and categories: letters, digits, `.`, `_`, `-`. */
export const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
/** Environment variable names. */
export const ENV_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

export type Raw = Record<string, unknown>;

/** Validation context: the file, to name it in every message. */
export class Check {
  constructor(readonly file: string) {}

  fail(key: string, problem: string): never {
    throw new ConfigError(this.file, key, problem);
  }

  object(value: unknown, key: string): Raw {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) this.fail(key, `must be a mapping of keys to values, not ${describe(value)}.`);
    return value as Raw;
  }

  keys(obj: Raw, key: string, allowed: readonly string[]): void {
    for (const k of Object.keys(obj)) {
      if (!allowed.includes(k)) this.fail(key ? `${key}.${k}` : k, `unknown key. Allowed here: ${allowed.join(', ')}.`);
    }
  }

  port(value: unknown, key: string): number {
    if (!isPort(value)) this.fail(key, `invalid port ${JSON.stringify(value)}: a port is a whole number from 1 to 65535.`);
    return value;
  }

  string(value: unknown, key: string): string {
    if (typeof value !== 'string' || value.trim() === '') this.fail(key, `must be a non-empty string, not ${describe(value)}.`);
    return value;
  }

  name(value: string, key: string): string {
    if (!NAME_RE.test(value)) this.fail(key, `'${printable(value)}' is not a valid name: use letters, digits, '.', '_' and '-', starting with a letter or digit.`);
    return value;
  }

  /** A name that becomes a lease name (a service, a pool role): not digits alone, which read as a port. */
  leaseName(value: string, key: string): string {
    this.name(value, key);
    if (/^\d+$/.test(value)) this.fail(key, `'${value}' is digits alone, which berth reads as a port (berth kill ${value}); add a letter, e.g. 'svc-${value}'.`);
    return value;
  }

  positiveInt(value: unknown, key: string): number {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) this.fail(key, `must be a whole number of at least 1, not ${describe(value)}.`);
    return value;
  }

  strategy(value: unknown, key: string): StrategyName {
    if (!STRATEGIES.includes(value as StrategyName)) this.fail(key, `unknown strategy ${describe(value)}. Use one of: ${STRATEGIES.join(', ')}.`);
    return value as StrategyName;
  }

  protocol(value: unknown, key: string): Protocol {
    if (value === undefined) return 'tcp';
    if (value !== 'tcp' && value !== 'udp') this.fail(key, `must be tcp or udp, not ${describe(value)}.`);
    return value;
  }

  range(value: unknown, key: string): PortRange {
    let start: unknown;
    let end: unknown;
    if (typeof value === 'string') {
      const m = /^\s*(\d+)\s*-\s*(\d+)\s*$/.exec(value);
      if (!m) this.fail(key, `invalid range '${value}': write it as START-END, e.g. 5000-5999.`);
      [start, end] = [Number(m[1]), Number(m[2])];
    } else if (Array.isArray(value) && value.length === 2) {
      [start, end] = value;
    } else if (value && typeof value === 'object') {
      ({ start, end } = value as Raw);
    } else {
      this.fail(key, `invalid range ${describe(value)}: write it as START-END, e.g. 5000-5999.`);
    }
    const s = this.port(start, `${key} (start)`);
    const e = this.port(end, `${key} (end)`);
    if (s > e) this.fail(key, `invalid range ${s}-${e}: the start is above the end; write the lower port first.`);
    return { start: s, end: e };
  }
}

export function describe(value: unknown): string {
  if (value === null || value === undefined) return 'empty';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return `${typeof value} ${JSON.stringify(value)}`;
}


/**
 * Turns the raw YAML value of berth.yaml into a validated {@link BerthConfig}.
 * Every error is a ConfigError naming the file, the key path and what is allowed.
 */
import path from 'node:path';
import type { PortRange } from '../types.js';
import { DEFAULT_BASE_PORT, DEFAULT_RANGES, rangeOf } from './categories.js';
import { Check, ENV_RE, describe, type Raw } from './check.js';
import { LAUNCH_KEYS, normaliseLaunch, resolveDependencies } from './launch.js';
import { normalisePool } from './normalise-pool.js';
import type { BerthConfig, ServiceConfig, StrategyName } from '../types.js';

const TOP_KEYS = ['project', 'base', 'ranges', 'reserved', 'services', 'pools', 'defaults', 'env_prefix', 'env_base_vars'];
const DEFAULTS_KEYS = ['strategy'];
/** More services (or pools, or ranges) than anyone runs in one project: a generated file gone wrong. */
export const MAX_ENTRIES = 2000;
const SERVICE_KEYS = ['port', 'prefer', 'category', 'range', 'strategy', 'env', 'purpose', 'protocol', 'process', 'compose', 'compose_port', 'http', 'https', ...LAUNCH_KEYS];

/** Validates and normalises the parsed YAML of `file`. */
export function normaliseConfig(raw: unknown, file: string): BerthConfig {
  const c = new Check(file);
  const top = c.object(raw, '');
  c.keys(top, '', TOP_KEYS);

  const project = top.project === undefined ? null : c.name(c.string(top.project, 'project'), 'project');
  const base = top.base === undefined ? DEFAULT_BASE_PORT : c.port(top.base, 'base');

  const ranges: Record<string, PortRange> = { ...DEFAULT_RANGES };
  if (top.ranges !== undefined) {
    for (const [name, value] of entries(c, top.ranges, 'ranges')) {
      ranges[c.name(name, `ranges.${name}`)] = c.range(value, `ranges.${name}`);
    }
  }

  const reserved = normaliseReserved(c, top.reserved);
  const dir = path.dirname(file);
  const read = top.services === undefined ? [] : entries(c, top.services, 'services').map(([name, value]) => normaliseService(c, name, value, ranges, dir));
  const services = resolveDependencies(c, read);
  const pools = top.pools === undefined ? [] : entries(c, top.pools, 'pools').map(([name, value]) => normalisePool(c, name, value));

  const envPrefix = top.env_prefix === undefined ? null : c.string(top.env_prefix, 'env_prefix');
  if (envPrefix !== null && !ENV_RE.test(envPrefix)) c.fail('env_prefix', `'${envPrefix}' cannot start a variable name: use letters, digits and '_', not starting with a digit (e.g. UDOS_).`);
  const envBaseVars = top.env_base_vars === undefined ? false : c.boolean(top.env_base_vars, 'env_base_vars');
  return { file, dir, project, base, ranges, reserved, services, pools, defaults: normaliseDefaults(c, top.defaults), envPrefix, envBaseVars };
}

/** The entries of a mapping, at most MAX_ENTRIES of them. */
function entries(c: Check, value: unknown, key: string): [string, unknown][] {
  const list = Object.entries(c.object(value, key));
  if (list.length > MAX_ENTRIES) c.fail(key, `${list.length} entries; berth reads at most ${MAX_ENTRIES}. Split the project, or check the generator that wrote this file.`);
  return list;
}

function normaliseDefaults(c: Check, value: unknown): BerthConfig['defaults'] {
  if (value === undefined) return { strategy: null };
  const raw = c.object(value, 'defaults');
  c.keys(raw, 'defaults', DEFAULTS_KEYS);
  const strategy = raw.strategy === undefined ? null : c.strategy(raw.strategy, 'defaults.strategy');
  if (strategy === 'fixed') c.fail('defaults.strategy', 'fixed cannot be a default: each service needs its own port: N.');
  return { strategy };
}

function normaliseReserved(c: Check, value: unknown): number[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) c.fail('reserved', 'must be a list of ports or START-END ranges.');
  const ports = new Set<number>();
  value.forEach((item, i) => {
    const key = `reserved[${i}]`;
    if (typeof item === 'string' && item.includes('-')) {
      const r = c.range(item, key);
      if (r.end - r.start > 65535) c.fail(key, 'range too large.');
      for (let p = r.start; p <= r.end; p++) ports.add(p);
    } else {
      ports.add(c.port(typeof item === 'string' && /^\d+$/.test(item) ? Number(item) : item, key));
    }
  });
  return [...ports].sort((a, b) => a - b);
}

function normaliseService(c: Check, name: string, value: unknown, ranges: Record<string, PortRange>, dir: string): ServiceConfig {
  const key = `services.${name}`;
  c.leaseName(name, key);
  // `web: 3000` is shorthand for a fixed port; `web:` (empty) takes every default.
  const raw: Raw = value === null || value === undefined ? {} : typeof value === 'number' ? { port: value } : c.object(value, key);
  c.keys(raw, key, SERVICE_KEYS);
  const opt = <T>(k: string, f: (v: unknown, key: string) => T): T | null => (raw[k] === undefined ? null : f(raw[k], `${key}.${k}`));

  const category = opt('category', (v, k) => {
    const cat = c.string(v, k);
    if (!rangeOf(ranges, cat)) c.fail(k, `unknown category '${cat}'. Known: ${Object.keys(ranges).join(', ')}; add it under ranges:.`);
    return cat;
  });
  const strategy = opt('strategy', (v, k) => {
    c.strategy(v, k);
    return v as StrategyName;
  });
  const port = opt('port', (v, k) => c.port(v, k));
  if (strategy === 'fixed' && port === null) c.fail(`${key}.strategy`, 'the fixed strategy needs a port: add port: N.');
  const env = opt('env', (v, k) => {
    const s = c.string(v, k);
    if (!ENV_RE.test(s)) c.fail(k, `'${s}' is not a valid environment variable name: use letters, digits and '_', not starting with a digit.`);
    return s;
  });
  const http = opt('http', (v, k) => c.boolean(v, k));
  const https = opt('https', (v, k) => c.boolean(v, k));
  const { launch, description } = normaliseLaunch(c, key, raw, dir);
  if (description !== null && raw.purpose !== undefined) c.fail(`${key}.description`, 'says what purpose: says; keep one of them.');
  return {
    name,
    port,
    prefer: opt('prefer', (v, k) => c.port(v, k)),
    category,
    range: opt('range', (v, k) => c.range(v, k)),
    strategy,
    env,
    purpose: description ?? opt('purpose', (v, k) => c.string(v, k)),
    protocol: c.protocol(raw.protocol, `${key}.protocol`),
    process: opt('process', (v, k) => c.string(v, k)),
    compose: opt('compose', (v, k) => c.string(v, k)),
    composePort: opt('compose_port', (v, k) => c.port(v, k)),
    http,
    https,
    ...(launch === undefined ? {} : { launch }),
  };
}


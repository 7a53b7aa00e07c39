/**
 * Turns the raw YAML value of berth.yaml into a validated {@link BerthConfig}.
 * Every error is a ConfigError naming the file, the key path and what is allowed.
 */
import path from 'node:path';
import { MAX_PORT, type PortRange } from '../types.js';
import { DEFAULT_BASE_PORT, DEFAULT_RANGES, rangeOf } from './categories.js';
import { Check, ENV_RE, describe, type Raw } from './check.js';
import { LAUNCH_KEYS, normaliseLaunch, resolveDependencies } from './launch.js';
import type { BerthConfig, PoolConfig, SeriesPoolConfig, ServiceConfig, SetsPoolConfig, StrategyName } from '../types.js';

const TOP_KEYS = ['project', 'base', 'ranges', 'reserved', 'services', 'pools', 'defaults'];
const DEFAULTS_KEYS = ['strategy'];
/** More services (or pools, or ranges) than anyone runs in one project: a generated file gone wrong. */
export const MAX_ENTRIES = 2000;
const SERVICE_KEYS = ['port', 'prefer', 'category', 'range', 'strategy', 'env', 'purpose', 'protocol', 'process', 'compose', 'compose_port', 'http', ...LAUNCH_KEYS];
const POOL_KEYS = ['ports', 'step', 'slots', 'sets', 'urls', 'protocol'];

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

  return { file, dir, project, base, ranges, reserved, services, pools, defaults: normaliseDefaults(c, top.defaults) };
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
  const http = opt('http', (v, k) => {
    if (typeof v !== 'boolean') c.fail(k, `must be true or false, not ${describe(v)}.`);
    return v;
  });
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
    ...(launch === undefined ? {} : { launch }),
  };
}

function normalisePool(c: Check, name: string, value: unknown): PoolConfig {
  const key = `pools.${name}`;
  c.name(name, key);
  const raw = c.object(value, key);
  c.keys(raw, key, POOL_KEYS);
  const protocol = c.protocol(raw.protocol, `${key}.protocol`);
  const urls = raw.urls === undefined ? [] : Array.isArray(raw.urls) ? raw.urls.map((u, i) => c.string(u, `${key}.urls[${i}]`)) : c.fail(`${key}.urls`, 'must be a list of URL templates such as http://localhost:${admin}/callback.');

  if ((raw.ports === undefined) === (raw.sets === undefined)) {
    c.fail(key, 'give either ports: {role: base port} (with step and slots) or sets: [{role: port}, ...], not both or neither.');
  }
  let pool: PoolConfig;
  if (raw.ports !== undefined) {
    const ports: Record<string, number> = {};
    for (const [role, port] of Object.entries(c.object(raw.ports, `${key}.ports`))) {
      ports[c.leaseName(role, `${key}.ports.${role}`)] = c.port(port, `${key}.ports.${role}`);
    }
    const roles = Object.keys(ports);
    if (roles.length === 0) c.fail(`${key}.ports`, 'needs at least one role, e.g. backend: 5001.');
    const step = raw.step === undefined ? 1 : c.positiveInt(raw.step, `${key}.step`);
    const slots = raw.slots === undefined ? null : c.positiveInt(raw.slots, `${key}.slots`);
    pool = { kind: 'series', name, roles, urls, protocol, ports, step, slots };
    checkSeriesPorts(c, pool, key);
  } else {
    if (raw.step !== undefined || raw.slots !== undefined) c.fail(key, 'step and slots go with ports:, not with sets:.');
    if (!Array.isArray(raw.sets) || raw.sets.length === 0) c.fail(`${key}.sets`, 'must be a non-empty list of {role: port} mappings.');
    const sets = raw.sets.map((set, i) => {
      const out: Record<string, number> = {};
      for (const [role, port] of Object.entries(c.object(set, `${key}.sets[${i}]`))) out[c.leaseName(role, `${key}.sets[${i}].${role}`)] = c.port(port, `${key}.sets[${i}].${role}`);
      return out;
    });
    const roles = Object.keys(sets[0]!);
    sets.forEach((set, i) => {
      const these = Object.keys(set);
      if (these.length !== roles.length || these.some((r) => !roles.includes(r))) {
        c.fail(`${key}.sets[${i}]`, `every set needs the same roles as the first (${roles.join(', ')}).`);
      }
    });
    pool = { kind: 'sets', name, roles, urls, protocol, sets };
    checkSetsPorts(c, pool, key);
  }
  checkPoolUrls(c, pool, key);
  return pool;
}

/**
 * A series pool's slots must fit below 65535 and never share a port: not two roles of one
 * slot (equal bases), nor, in a bounded pool, one role of slot j and another of slot k
 * (a[k] = b[j] when the bases differ by (k - j) × step). Either would silently shrink the
 * pool, because a slot is reserved only when every one of its ports is free.
 */
function checkSeriesPorts(c: Check, pool: SeriesPoolConfig, key: string): void {
  const { roles, ports, step, slots } = pool;
  roles.forEach((b, j) => {
    const a = roles.find((r, i) => i < j && ports[r] === ports[b]);
    if (a !== undefined) {
      c.fail(`${key}.ports.${b}`, `base port ${ports[b]} is also role ${a}'s: every slot would give ${a} and ${b} the same port. Give each role its own base port.`);
    }
  });
  if (slots === null) return;
  const top = roles.reduce((hi, r) => (ports[r]! > ports[hi]! ? r : hi), roles[0]!);
  const last = ports[top]! + (slots - 1) * step;
  if (last > MAX_PORT) {
    const fit = Math.floor((MAX_PORT - ports[top]!) / step) + 1;
    c.fail(
      `${key}.slots`,
      `${slots} slots need ports up to ${last} (${top}: ${ports[top]} + ${slots - 1} × ${step}), above ${MAX_PORT}; only ${fit} slot${fit === 1 ? '' : 's'} fit. ` +
        `Lower slots: to at most ${fit}, or the base ports or step.`,
    );
  }
  for (const a of roles) {
    for (const b of roles) {
      const gap = ports[b]! - ports[a]!;
      if (gap <= 0 || gap % step !== 0 || gap / step >= slots) continue;
      const k = gap / step;
      c.fail(
        `${key}.ports`,
        `slot 0's ${b} and slot ${k}'s ${a} are both port ${ports[b]}, so slots 0 and ${k} could never be held at once. ` +
          `Put the base ports of ${a} and ${b} at least slots × step = ${slots * step} apart, or lower slots: to ${k}.`,
      );
    }
  }
}

/** No port may appear twice in a sets pool: not within one set, nor in two sets. */
function checkSetsPorts(c: Check, pool: SetsPoolConfig, key: string): void {
  const seen = new Map<number, { set: number; role: string }>();
  pool.sets.forEach((set, i) => {
    for (const role of pool.roles) {
      const port = set[role]!;
      const first = seen.get(port);
      if (first === undefined) {
        seen.set(port, { set: i, role });
      } else if (first.set === i) {
        c.fail(`${key}.sets[${i}].${role}`, `port ${port} is also role ${first.role}'s in this set: each role of a slot needs its own port.`);
      } else {
        c.fail(
          `${key}.sets[${i}].${role}`,
          `port ${port} is already ${key}.sets[${first.set}].${first.role}, so slots ${first.set} and ${i} could never be held at once. Give every set its own ports.`,
        );
      }
    }
  });
}

function checkPoolUrls(c: Check, pool: PoolConfig, key: string): void {
  pool.urls.forEach((url, i) => {
    for (const m of url.matchAll(/\$\{([^}]*)\}/g)) {
      if (!pool.roles.includes(m[1]!)) c.fail(`${key}.urls[${i}]`, `\${${m[1]}} names no role of this pool. Roles: ${pool.roles.join(', ')}.`);
    }
  });
}

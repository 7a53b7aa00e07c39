/**
 * `pools:` of berth.yaml: series (`ports:` with `step` and `slots`) or explicit `sets:`,
 * their variable names and URL templates, and what a full pool falls back to.
 */
import { MAX_PORT, type PortRange, type PoolConfig, type SeriesPoolConfig, type SetsPoolConfig } from '../types.js';
import { ENV_RE, type Check, type Raw } from './check.js';

const POOL_KEYS = ['ports', 'step', 'slots', 'sets', 'urls', 'protocol', 'env', 'fallback', 'fallback_range'];
const URLS_HINT = 'must be a list of URL templates such as http://localhost:${admin}/callback, or a mapping of variable names to them (OAUTH_REDIRECT_URI: http://localhost:${admin}/callback).';

/** Validates and normalises `pools.NAME`. */
export function normalisePool(c: Check, name: string, value: unknown): PoolConfig {
  const key = `pools.${name}`;
  c.name(name, key);
  const raw = c.object(value, key);
  c.keys(raw, key, POOL_KEYS);
  const protocol = c.protocol(raw.protocol, `${key}.protocol`);
  const { urls, urlEnv } = normaliseUrls(c, raw.urls, `${key}.urls`);

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
  return { ...pool, ...poolExtras(c, raw, key, pool.roles), ...(urlEnv === null ? {} : { urlEnv }) };
}

/** `urls:` as a list of templates, or as a mapping VAR: template (each also a variable of the holding scope). */
function normaliseUrls(c: Check, value: unknown, key: string): { urls: string[]; urlEnv: Record<string, number> | null } {
  if (value === undefined) return { urls: [], urlEnv: null };
  if (Array.isArray(value)) return { urls: value.map((u, i) => c.string(u, `${key}[${i}]`)), urlEnv: null };
  if (value === null || typeof value !== 'object') c.fail(key, URLS_HINT);
  const urls: string[] = [];
  const urlEnv: Record<string, number> = {};
  for (const [name, template] of Object.entries(value as Raw)) {
    if (!ENV_RE.test(name)) c.fail(`${key}.${name}`, `'${name}' is not a valid environment variable name: use letters, digits and '_', not starting with a digit.`);
    urlEnv[name] = urls.push(c.string(template, `${key}.${name}`)) - 1;
  }
  return { urls, urlEnv };
}

/** `env:` (role -> variable name) and `fallback:` with its `fallback_range:`. */
function poolExtras(c: Check, raw: Raw, key: string, roles: readonly string[]): Pick<PoolConfig, 'env' | 'fallback' | 'fallbackRange'> {
  const out: { env?: Record<string, string>; fallback?: 'hash'; fallbackRange?: PortRange } = {};
  if (raw.env !== undefined) {
    const env: Record<string, string> = {};
    for (const [role, name] of Object.entries(c.object(raw.env, `${key}.env`))) {
      if (!roles.includes(role)) c.fail(`${key}.env.${role}`, `names no role of this pool. Roles: ${roles.join(', ')}.`);
      const variable = c.string(name, `${key}.env.${role}`);
      if (!ENV_RE.test(variable)) c.fail(`${key}.env.${role}`, `'${variable}' is not a valid environment variable name: use letters, digits and '_', not starting with a digit.`);
      env[role] = variable;
    }
    out.env = env;
  }
  if (raw.fallback !== undefined) {
    if (raw.fallback !== 'hash') c.fail(`${key}.fallback`, `the only fallback is hash (stable hash ports in fallback_range when no slot is free), not ${JSON.stringify(raw.fallback)}.`);
    out.fallback = 'hash';
  }
  if (raw.fallback_range !== undefined) {
    if (out.fallback === undefined) c.fail(`${key}.fallback_range`, 'goes with fallback: hash.');
    out.fallbackRange = c.range(raw.fallback_range, `${key}.fallback_range`);
  }
  return out;
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

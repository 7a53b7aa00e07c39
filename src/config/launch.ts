/**
 * The launch keys of a berth.yaml service (`command`, `cwd`, `environment`, `depends_on`,
 * `leases`, `health`, `restart`, `stop`, `enabled`, `description`, `stage`), normalised into a
 * {@link LaunchSpec}. Durations and signals go through the one parser of each.
 */
import path from 'node:path';
import { UsageError } from '../errors.js';
import { DEPENDENCY_CONDITIONS, type Dependency, type DependencyCondition, type HealthSpec, type LaunchSpec, type RestartSpec, type ServiceConfig, type StopSpec } from '../types.js';
import { Check, ENV_RE, describe, type Raw } from './check.js';
import { durationMs } from './durations.js';
import { findCycle } from './graph.js';
import { parseSignal } from './signals.js';

/** The service keys this module reads. */
export const LAUNCH_KEYS = ['command', 'cwd', 'environment', 'depends_on', 'leases', 'health', 'restart', 'stop', 'enabled', 'description', 'stage'];

const HEALTH_KINDS = ['http', 'tcp', 'exec', 'log'] as const;
const HEALTH_KEYS = [...HEALTH_KINDS, 'interval', 'timeout', 'retries', 'start_period', 'start_interval', 'port'];
const RESTART_KEYS = ['policy', 'max_restarts', 'backoff', 'reset_after'];
const BACKOFF_KEYS = ['base', 'factor', 'cap'];
const STOP_KEYS = ['signal', 'grace'];
const POLICIES = ['no', 'on-failure', 'always'] as const;

/** Defaults, in the units their names say. */
// startIntervalMs: quick probes from a start until the first pass, so a dependent waits at most
// this long after its dependency is ready (the interval alone would add up to a second per step).
export const HEALTH_DEFAULTS = { intervalMs: 1000, timeoutMs: 2000, retries: 3, startPeriodMs: 0, startIntervalMs: 100 } as const;
export const RESTART_DEFAULT: RestartSpec = { policy: 'on-failure', maxRestarts: 5, backoff: { baseMs: 100, factor: 2, capMs: 30_000 }, resetAfterMs: 10_000 };
export const STOP_DEFAULT: StopSpec = { signal: 'SIGTERM', graceMs: 10_000 };

/** A dependency as written: the list form leaves the condition to be resolved. */
type RawDependency = { readonly name: string; readonly condition: DependencyCondition | null };

/** What the launch keys of one service give: the spec (when it has a command) and `description`. */
export interface LaunchKeys {
  readonly launch: LaunchSpec | undefined;
  readonly description: string | null;
}

/** Reads the launch keys of service `name` (raw mapping `raw`, at key path `key`); `dir` resolves `cwd`. */
export function normaliseLaunch(c: Check, key: string, raw: Raw, dir: string): LaunchKeys {
  const description = raw.description === undefined ? null : c.string(raw.description, `${key}.description`);
  if (raw.command === undefined) {
    const stray = LAUNCH_KEYS.find((k) => k !== 'description' && raw[k] !== undefined);
    if (stray !== undefined) c.fail(`${key}.${stray}`, `only a service with command: is launched; add command: (what to run) or remove ${stray}:.`);
    return { launch: undefined, description };
  }
  const at = (k: string): string => `${key}.${k}`;
  const launch: LaunchSpec = {
    command: command(c, raw.command, at('command')),
    cwd: raw.cwd === undefined ? dir : path.resolve(dir, c.string(raw.cwd, at('cwd'))),
    environment: environment(c, raw.environment, at('environment')),
    // The list form's conditions (null here) are filled in by resolveDependencies, which sees every service.
    dependsOn: dependsOn(c, raw.depends_on, at('depends_on')) as readonly RawDependency[] as readonly Dependency[],
    leases: raw.leases === undefined ? [] : names(c, raw.leases, at('leases')),
    health: raw.health === undefined ? null : health(c, raw.health, at('health')),
    restart: raw.restart === undefined ? RESTART_DEFAULT : restart(c, raw.restart, at('restart')),
    stop: raw.stop === undefined ? STOP_DEFAULT : stop(c, raw.stop, at('stop')),
    enabled: raw.enabled === undefined ? true : bool(c, raw.enabled, at('enabled')),
    stage: raw.stage === undefined ? null : c.string(raw.stage, at('stage')),
  };
  return { launch, description };
}

/**
 * Checks and completes every `depends_on:` once all services are read: unknown names and
 * services without a command are refused, the list form waits for `healthy` when the
 * dependency has a health check (else `started`), and a cycle is refused naming it.
 */
export function resolveDependencies(c: Check, services: readonly ServiceConfig[]): ServiceConfig[] {
  const byName = new Map(services.map((s) => [s.name, s]));
  const out = services.map((s) => {
    if (s.launch === undefined) return s;
    const dependsOn = (s.launch.dependsOn as readonly RawDependency[]).map((d): Dependency => {
      const key = `services.${s.name}.depends_on.${d.name}`;
      const dep = byName.get(d.name);
      if (dep === undefined) c.fail(key, `no service '${d.name}' in services:. Known: ${services.map((x) => x.name).join(', ')}.`);
      if (dep.launch === undefined) c.fail(key, `service '${d.name}' has no command:, so berth never starts it and cannot wait for it; add command: to it or drop this dependency.`);
      if (d.name === s.name) c.fail(key, 'a service cannot depend on itself.');
      if (d.condition === 'healthy' && dep.launch.health === null) c.fail(key, `waits for ${d.name} to be healthy, but ${d.name} has no health: check; add one or use started.`);
      return { name: d.name, condition: d.condition ?? (dep.launch.health === null ? 'started' : 'healthy') };
    });
    return { ...s, launch: { ...s.launch, dependsOn } };
  });
  resolveLeases(c, out);
  const cycle = findCycle(out.map((s) => ({ name: s.name, needs: s.launch?.dependsOn.map((d) => d.name) ?? [] })));
  if (cycle) c.fail(`services.${cycle[0]}.depends_on`, `dependency cycle ${cycle.join(' → ')}: nothing in it could ever start; remove one of these dependencies.`);
  return out;
}

/**
 * Checks `leases:` and `health.port` against every service: a service may own the ports of
 * bare leases (entries without a command), each owned by one service only, and its health
 * check may use its own port or one of those, never a port another process is meant to hold.
 */
function resolveLeases(c: Check, services: readonly ServiceConfig[]): void {
  const byName = new Map(services.map((s) => [s.name, s]));
  const ownerOf = new Map<string, string>();
  for (const s of services) {
    if (s.launch === undefined) continue;
    s.launch.leases.forEach((name, i) => {
      const key = `services.${s.name}.leases[${i}]`;
      const other = byName.get(name);
      if (other === undefined) c.fail(key, `no service '${name}' in services:; declare it there (its port:, category: ...) without a command:, then list it here.`);
      if (name === s.name) c.fail(key, `'${name}' is the service itself: its own port is leased anyway.`);
      if (other.launch !== undefined) c.fail(key, `'${name}' has a command: of its own, so its port belongs to its processes; list only entries without a command:.`);
      const owner = ownerOf.get(name);
      if (owner !== undefined && owner !== s.name) c.fail(key, `'${name}' is already listed in services.${owner}.leases: a port belongs to one service.`);
      if (owner === s.name) c.fail(key, `'${name}' is listed twice.`);
      ownerOf.set(name, s.name);
    });
    const port = s.launch.health?.port ?? null;
    if (port !== null && port !== s.name && !s.launch.leases.includes(port)) {
      c.fail(`services.${s.name}.health.port`, `'${port}' is not a port of ${s.name}: name ${s.name} or one of its leases: (${s.launch.leases.join(', ') || 'none yet'}); a check counts only on a port the service's own processes hold.`);
    }
  }
}

function names(c: Check, value: unknown, key: string): string[] {
  if (!Array.isArray(value)) c.fail(key, `must be a list of service names, not ${describe(value)}.`);
  return value.map((name, i) => c.string(name, `${key}[${i}]`));
}

function command(c: Check, value: unknown, key: string): LaunchSpec['command'] {
  if (typeof value === 'string') return { shell: c.string(value, key) };
  if (Array.isArray(value) && value.length > 0) return { argv: value.map((w, i) => word(c, w, `${key}[${i}]`)) };
  return c.fail(key, `must be a command line (string, run by /bin/sh) or a non-empty list of arguments, not ${describe(value)}.`);
}

function word(c: Check, value: unknown, key: string): string {
  if (typeof value === 'number') return String(value);
  if (typeof value !== 'string' || value.includes('\0')) c.fail(key, `must be a string without NUL bytes, not ${describe(value)}.`);
  return value;
}

/** `environment:` as a mapping or compose's list of `NAME=value`. */
function environment(c: Check, value: unknown, key: string): Record<string, string> {
  if (value === undefined) return {};
  const pairs: [string, unknown][] = Array.isArray(value)
    ? value.map((item, i) => {
        const text = word(c, item, `${key}[${i}]`);
        const eq = text.indexOf('=');
        if (eq < 1) c.fail(`${key}[${i}]`, `'${text}' is not NAME=value.`);
        return [text.slice(0, eq), text.slice(eq + 1)];
      })
    : Object.entries(c.object(value, key));
  const env: Record<string, string> = {};
  for (const [name, v] of pairs) {
    if (!ENV_RE.test(name)) c.fail(`${key}.${name}`, 'is not a valid environment variable name: use letters, digits and _, not starting with a digit.');
    if (v === null || (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean')) c.fail(`${key}.${name}`, `must be a string, number or boolean, not ${describe(v)}.`);
    env[name] = String(v);
  }
  return env;
}

function dependsOn(c: Check, value: unknown, key: string): RawDependency[] {
  if (value === undefined) return [];
  if (Array.isArray(value)) return value.map((name, i) => ({ name: c.string(name, `${key}[${i}]`), condition: null }));
  return Object.entries(c.object(value, key)).map(([name, v]) => {
    // compose writes `db: {condition: service_healthy}`; berth's short form is `db: healthy`.
    const raw = v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Raw).condition : v;
    const cond = typeof raw === 'string' ? raw.replace(/^service_/, '') : raw;
    if (!DEPENDENCY_CONDITIONS.includes(cond as DependencyCondition)) c.fail(`${key}.${name}`, `unknown condition ${describe(raw)}. Use one of: ${DEPENDENCY_CONDITIONS.join(', ')}.`);
    return { name, condition: cond as DependencyCondition };
  });
}

function health(c: Check, value: unknown, key: string): HealthSpec {
  const raw = c.object(value, key);
  c.keys(raw, key, HEALTH_KEYS);
  const kinds = HEALTH_KINDS.filter((k) => raw[k] !== undefined);
  if (kinds.length !== 1) c.fail(key, `give exactly one check: http: /path (or a URL), tcp: true, exec: COMMAND or log: REGEX${kinds.length > 1 ? `, not ${kinds.join(' and ')}` : ''}.`);
  const kind = kinds[0]!;
  let target = '';
  const port = raw.port === undefined ? null : c.string(raw.port, `${key}.port`);
  if (port !== null && (kind === 'exec' || kind === 'log' || /^https?:\/\//.test(String(raw.http)))) c.fail(`${key}.port`, `names the lease an http: path or tcp: check connects to; ${kind === 'http' ? 'a URL already names its port' : `an ${kind}: check uses no port`}.`);
  if (kind === 'tcp') {
    if (raw.tcp !== true) c.fail(`${key}.tcp`, 'write tcp: true (the port is the service\'s lease).');
  } else {
    target = c.string(raw[kind], `${key}.${kind}`);
    if (kind === 'http' && !target.startsWith('/') && !/^https?:\/\//.test(target)) c.fail(`${key}.http`, `'${target}' is neither a path (/health) nor an http:// URL.`);
    if (kind === 'log') {
      try {
        new RegExp(target);
      } catch (error) {
        c.fail(`${key}.log`, `not a valid regular expression: ${(error as Error).message}.`);
      }
    }
  }
  return {
    kind,
    target,
    intervalMs: duration(c, raw.interval, `${key}.interval`, HEALTH_DEFAULTS.intervalMs),
    timeoutMs: duration(c, raw.timeout, `${key}.timeout`, HEALTH_DEFAULTS.timeoutMs),
    retries: raw.retries === undefined ? HEALTH_DEFAULTS.retries : c.positiveInt(raw.retries, `${key}.retries`),
    startPeriodMs: duration(c, raw.start_period, `${key}.start_period`, HEALTH_DEFAULTS.startPeriodMs, true),
    startIntervalMs: duration(c, raw.start_interval, `${key}.start_interval`, HEALTH_DEFAULTS.startIntervalMs),
    port,
  };
}

function restart(c: Check, value: unknown, key: string): RestartSpec {
  const raw: Raw = typeof value === 'string' ? { policy: value } : c.object(value, key);
  c.keys(raw, key, RESTART_KEYS);
  const policy = raw.policy ?? RESTART_DEFAULT.policy;
  if (!POLICIES.includes(policy as RestartSpec['policy'])) c.fail(`${key}${typeof value === 'string' ? '' : '.policy'}`, `unknown policy ${describe(policy)}. Use one of: ${POLICIES.join(', ')}.`);
  let backoff = RESTART_DEFAULT.backoff;
  if (raw.backoff !== undefined) {
    const b = c.object(raw.backoff, `${key}.backoff`);
    c.keys(b, `${key}.backoff`, BACKOFF_KEYS);
    const factor = b.factor === undefined ? backoff.factor : b.factor;
    if (typeof factor !== 'number' || !(factor >= 1) || factor > 100) c.fail(`${key}.backoff.factor`, `must be a number from 1 to 100, not ${describe(factor)}.`);
    backoff = { baseMs: duration(c, b.base, `${key}.backoff.base`, backoff.baseMs), factor, capMs: duration(c, b.cap, `${key}.backoff.cap`, backoff.capMs) };
    if (backoff.capMs < backoff.baseMs) c.fail(`${key}.backoff.cap`, `is below base (${backoff.baseMs} ms): the cap must be at least the first delay.`);
  }
  const maxRestarts = raw.max_restarts === undefined ? RESTART_DEFAULT.maxRestarts : raw.max_restarts === null ? null : nonNegativeInt(c, raw.max_restarts, `${key}.max_restarts`);
  return { policy: policy as RestartSpec['policy'], maxRestarts, backoff, resetAfterMs: duration(c, raw.reset_after, `${key}.reset_after`, RESTART_DEFAULT.resetAfterMs, true) };
}

function stop(c: Check, value: unknown, key: string): StopSpec {
  const raw = c.object(value, key);
  c.keys(raw, key, STOP_KEYS);
  let signal = STOP_DEFAULT.signal;
  if (raw.signal !== undefined) {
    try {
      signal = parseSignal(typeof raw.signal === 'number' ? raw.signal : c.string(raw.signal, `${key}.signal`));
    } catch (error) {
      if (!(error instanceof UsageError)) throw error;
      c.fail(`${key}.signal`, error.message);
    }
  }
  return { signal, graceMs: duration(c, raw.grace, `${key}.grace`, STOP_DEFAULT.graceMs, true) };
}

/** A duration: `300ms`, `2s`, `1m`, or whole milliseconds. */
function duration(c: Check, value: unknown, key: string, fallback: number, zeroOk = false): number {
  if (value === undefined) return fallback;
  const ms = typeof value === 'number' && Number.isInteger(value) && value >= 0 ? value : typeof value === 'string' ? durationMs(value) : null;
  if (ms === null || (ms === 0 && !zeroOk) || ms > 86_400_000) c.fail(key, `invalid duration ${describe(value)}: write 300ms, 2s, 1m or whole milliseconds${zeroOk ? '' : ' above 0'}, at most a day.`);
  return ms;
}

function nonNegativeInt(c: Check, value: unknown, key: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) c.fail(key, `must be a whole number of at least 0, not ${describe(value)}.`);
  return value;
}

function bool(c: Check, value: unknown, key: string): boolean {
  if (typeof value !== 'boolean') c.fail(key, `must be true or false, not ${describe(value)}.`);
  return value;
}

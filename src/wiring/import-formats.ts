/**
 * The registries the seeds' users already have, read into leases (and the berth.yaml
 * services and pools they imply) for `berth import --from FORMAT FILE`. Pure: text in,
 * data out; applying is the workflow's (workflows/import-registry.ts).
 *
 * - `conductor`: `conductor_ports.json`: `available_port_sets` (a list of role → port
 *   sets) and `reserved_ports` (workspace → its set, or the set's index); each workspace
 *   keeps its set as a slot of one pool.
 * - `udos`: `port_registry.json`: `services[]` of {name, port, environment, process_name,
 *   description, startup_cmd, health_endpoint, enabled}: a lease per service in the
 *   caller's scope, and the berth.yaml services they imply.
 * - `sequential`: `port_assignments.json`: service → port (or {port, purpose}), with
 *   `base_port` / `next_port` where the file has them: a lease per service.
 * - `pairs`: `port_config.json`: (model, app) → backend and frontend ports, as a list of
 *   {model, app_num, backend_port, frontend_port} or `{"model/appN": {backend, frontend}}`:
 *   slots of the pairs pool, one scope `model/appN` each, so `berth reserve --scope
 *   model/appN` (the same get-or-allocate call) gives the pre-configured pair back.
 */
import { UsageError } from '../errors.js';
import { MAX_PORT } from '../types.js';

/** The formats `berth import --from` reads. */
export type ImportFormat = 'conductor' | 'udos' | 'sequential' | 'pairs';

export const IMPORT_FORMATS: readonly ImportFormat[] = ['conductor', 'udos', 'sequential', 'pairs'];

/** One lease to create. `scope` null: the caller's scope. */
export interface ImportedLease {
  readonly scope: string | null;
  readonly name: string;
  readonly port: number;
  readonly purpose: string | null;
  readonly pool: string | null;
  readonly slot: number | null;
}

/** A berth.yaml service the import implies (udos). */
export interface ImportedService {
  readonly name: string;
  readonly port: number;
  readonly purpose: string | null;
  readonly process: string | null;
  /** Where the seed's file said its health check is, and how it was started (kept as notes). */
  readonly health: string | null;
  readonly command: string | null;
  readonly environment: string | null;
  readonly enabled: boolean;
}

/** A pool the import implies, as berth.yaml writes it: `sets:`, or `ports:` + `step` (+ `slots`). */
export type ImportedPool =
  | { readonly name: string; readonly kind: 'sets'; readonly sets: readonly Readonly<Record<string, number>>[] }
  | { readonly name: string; readonly kind: 'series'; readonly ports: Readonly<Record<string, number>>; readonly step: number; readonly slots: number | null };

/** What a registry file holds, as berth would hold it. */
export interface ParsedImport {
  readonly format: ImportFormat;
  readonly leases: readonly ImportedLease[];
  readonly services: readonly ImportedService[];
  readonly pools: readonly ImportedPool[];
  /** sequential: the file's base and next port, when it has them. */
  readonly base: number | null;
  readonly next: number | null;
}

/** Parses a `--from` value. @throws UsageError naming the formats. */
export function parseImportFormat(text: string): ImportFormat {
  if ((IMPORT_FORMATS as readonly string[]).includes(text)) return text as ImportFormat;
  throw new UsageError(`unknown import format '${text}'. Use one of: ${IMPORT_FORMATS.join(', ')}.`, { format: text });
}

/** Thrown for a shape berth does not know: names the file and the field. */
function shape(source: string, field: string, problem: string): UsageError {
  return new UsageError(`${source}: ${field}: ${problem}. Nothing was imported.`, { file: source, field });
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function portAt(source: string, field: string, value: unknown): number {
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > MAX_PORT) throw shape(source, field, `expected a port from 1 to ${MAX_PORT}, got ${JSON.stringify(value)}`);
  return n;
}

const textOr = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);

/** `postgres_port`, `POSTGRES_PORT`, `postgresPort` → `postgres`: the role a variable names. */
function roleName(key: string): string {
  return key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase().replace(/[_-]?port$/, '') || key.toLowerCase();
}

/**
 * Reads `text` (the file at `source`) in `format`.
 *
 * @throws UsageError naming the file and the field for invalid JSON or an unknown shape.
 */
export function parseImport(format: ImportFormat, text: string, source: string, opts: { readonly pool?: string } = {}): ParsedImport {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${source} is not valid JSON (${(error as Error).message}). Nothing was imported.`, { file: source });
  }
  if (!isRecord(value) && !(format === 'pairs' && Array.isArray(value))) throw shape(source, '(top level)', 'expected a JSON object');
  switch (format) {
    case 'conductor':
      return parseConductor(value as Record<string, unknown>, source, opts.pool ?? 'conductor');
    case 'udos':
      return parseUdos(value as Record<string, unknown>, source);
    case 'sequential':
      return parseSequential(value as Record<string, unknown>, source);
    case 'pairs':
      return parsePairs(value, source, opts.pool ?? 'pairs');
  }
}

const empty = { leases: [], services: [], pools: [], base: null, next: null };

function parseConductor(doc: Record<string, unknown>, source: string, pool: string): ParsedImport {
  const raw = doc['available_port_sets'];
  if (!Array.isArray(raw) || raw.length === 0) throw shape(source, 'available_port_sets', 'expected a non-empty list of {role: port} sets');
  const sets = raw.map((set, i) => {
    if (!isRecord(set)) throw shape(source, `available_port_sets[${i}]`, 'expected a {role: port} mapping');
    return Object.fromEntries(Object.entries(set).map(([k, v]) => [roleName(k), portAt(source, `available_port_sets[${i}].${k}`, v)]));
  });
  const roles = Object.keys(sets[0]!);
  sets.forEach((set, i) => {
    if (Object.keys(set).join() !== roles.join()) throw shape(source, `available_port_sets[${i}]`, `every set needs the roles of the first (${roles.join(', ')})`);
  });
  const reserved = doc['reserved_ports'] ?? {};
  if (!isRecord(reserved)) throw shape(source, 'reserved_ports', 'expected a mapping of workspace → port set');
  const leases: ImportedLease[] = [];
  const taken = new Map<number, string>();
  for (const [workspace, held] of Object.entries(reserved)) {
    const field = `reserved_ports.${workspace}`;
    let slot: number;
    if (typeof held === 'number') {
      if (!Number.isInteger(held) || held < 0 || held >= sets.length) throw shape(source, field, `expected the index of a set (0-${sets.length - 1}), got ${held}`);
      slot = held;
    } else if (isRecord(held)) {
      const wanted = Object.fromEntries(Object.entries(held).map(([k, v]) => [roleName(k), portAt(source, `${field}.${k}`, v)]));
      slot = sets.findIndex((s) => roles.every((r) => s[r] === wanted[r]));
      if (slot < 0) throw shape(source, field, `this set (${JSON.stringify(held)}) is not one of available_port_sets`);
    } else {
      throw shape(source, field, `expected a port set or its index, got ${JSON.stringify(held)}`);
    }
    if (taken.has(slot)) throw shape(source, field, `set ${slot} is reserved by ${taken.get(slot)} too`);
    taken.set(slot, workspace);
    for (const role of roles) leases.push({ scope: workspace, name: role, port: sets[slot]![role]!, purpose: null, pool, slot });
  }
  return { ...empty, format: 'conductor', leases, pools: [poolOf(pool, roles, sets, sets.length)] };
}

/** A pool as berth.yaml would write it: a series when every role steps evenly, else the explicit sets. */
function poolOf(name: string, roles: readonly string[], sets: readonly Record<string, number>[], slots: number | null): ImportedPool {
  const step = sets.length > 1 ? sets[1]![roles[0]!]! - sets[0]![roles[0]!]! : 1;
  const even = step > 0 && sets.every((set, k) => roles.every((r) => set[r] === sets[0]![r]! + k * step));
  return even ? { name, kind: 'series', ports: sets[0]!, step, slots } : { name, kind: 'sets', sets };
}

function parseUdos(doc: Record<string, unknown>, source: string): ParsedImport {
  const raw = doc['services'];
  // The registry file has a list; the status API a mapping by name: both read alike.
  const list = Array.isArray(raw) ? raw : isRecord(raw) ? Object.entries(raw).map(([name, s]) => (isRecord(s) ? { name, ...s } : s)) : null;
  if (list === null) throw shape(source, 'services', 'expected a list of {name, port, ...} services');
  const keys = isRecord(raw) ? Object.keys(raw) : null;
  const services = list.map((s, i): ImportedService => {
    const field = keys === null ? `services[${i}]` : `services.${keys[i]}`;
    if (!isRecord(s)) throw shape(source, field, 'expected a {name, port, ...} object');
    const name = textOr(s['name']);
    if (name === null) throw shape(source, `${field}.name`, 'expected the service name');
    return {
      name,
      port: portAt(source, `${field}.port`, s['port']),
      purpose: textOr(s['description']) ?? textOr(s['purpose']),
      process: textOr(s['process_name']),
      health: textOr(s['health_endpoint']),
      command: textOr(s['startup_cmd']),
      environment: textOr(s['environment']),
      enabled: s['enabled'] !== false,
    };
  });
  const leases = services.map((s) => ({ scope: null, name: s.name, port: s.port, purpose: s.purpose, pool: null, slot: null }));
  return { ...empty, format: 'udos', leases, services };
}

function parseSequential(doc: Record<string, unknown>, source: string): ParsedImport {
  // {"assignments": {...}, "next_port": N} or the assignments at the top level.
  const nested = ['assignments', 'services', 'ports'].find((k) => isRecord(doc[k]));
  const table = nested === undefined ? doc : (doc[nested] as Record<string, unknown>);
  const meta = new Set(['base_port', 'next_port', 'next_available_port', 'base', 'next', 'updated', 'timestamp', 'last_updated']);
  const leases: ImportedLease[] = [];
  for (const [name, entry] of Object.entries(table)) {
    if (nested === undefined && meta.has(name)) continue;
    const field = nested === undefined ? name : `${nested}.${name}`;
    if (isRecord(entry)) leases.push({ scope: null, name, port: portAt(source, `${field}.port`, entry['port']), purpose: textOr(entry['purpose']) ?? textOr(entry['description']), pool: null, slot: null });
    else leases.push({ scope: null, name, port: portAt(source, field, entry), purpose: null, pool: null, slot: null });
  }
  if (leases.length === 0) throw shape(source, nested ?? '(top level)', 'expected service → port entries');
  const number = (k: string) => (doc[k] === undefined ? null : portAt(source, k, doc[k]));
  return { ...empty, format: 'sequential', leases, base: number('base_port') ?? number('base'), next: number('next_port') ?? number('next_available_port') ?? number('next') };
}

function parsePairs(doc: unknown, source: string, pool: string): ParsedImport {
  const rows: { scope: string; field: string; backend: number; frontend: number }[] = [];
  if (Array.isArray(doc)) {
    doc.forEach((r, i) => {
      const field = `[${i}]`;
      if (!isRecord(r)) throw shape(source, field, 'expected {model, app_num, backend_port, frontend_port}');
      const model = textOr(r['model']) ?? textOr(r['model_name']);
      if (model === null) throw shape(source, `${field}.model`, 'expected the model name');
      const app = r['app_num'] ?? r['app'];
      if (typeof app !== 'number' && typeof app !== 'string') throw shape(source, `${field}.app_num`, 'expected the app number');
      const appName = typeof app === 'number' ? `app${app}` : app.startsWith('app') ? app : `app${app}`;
      rows.push({ scope: `${model}/${appName}`, field, backend: portAt(source, `${field}.backend_port`, r['backend_port'] ?? r['backend']), frontend: portAt(source, `${field}.frontend_port`, r['frontend_port'] ?? r['frontend']) });
    });
  } else {
    for (const [key, r] of Object.entries(doc as Record<string, unknown>)) {
      if (!isRecord(r)) throw shape(source, key, 'expected {backend, frontend}');
      if (!key.includes('/')) throw shape(source, key, 'expected a "model/appN" key');
      rows.push({ scope: key, field: key, backend: portAt(source, `${key}.backend`, r['backend'] ?? r['backend_port']), frontend: portAt(source, `${key}.frontend`, r['frontend'] ?? r['frontend_port']) });
    }
  }
  if (rows.length === 0) throw shape(source, '(top level)', 'expected at least one (model, app) pair');
  // The pairs pool: the lowest pair is slot 0; each pair must sit on the pool's series.
  const first = rows.reduce((a, b) => (b.backend < a.backend ? b : a));
  const sorted = [...new Set(rows.map((r) => r.backend))].sort((a, b) => a - b);
  // The seed's pairs go up by 2 (5001, 5003, ...): step 2 whenever the pairs allow it (an
  // unused pair between two imported ones stays free for the next app), else the largest
  // step that fits them all.
  const fit = sorted.slice(1).reduce((g, p, i) => gcd(g, p - sorted[i]!), 0);
  const step = fit === 0 || fit % PAIRS_STEP === 0 ? PAIRS_STEP : fit;
  const ports = { backend: first.backend, frontend: first.frontend };
  const leases: ImportedLease[] = [];
  for (const r of rows) {
    const slot = (r.backend - ports.backend) / step;
    if (r.frontend - ports.frontend !== slot * step) {
      throw shape(source, r.field, `backend ${r.backend} and frontend ${r.frontend} are not a pair of the series from ${ports.backend}/${ports.frontend} by ${step}; berth keeps pairs in step`);
    }
    leases.push({ scope: r.scope, name: 'backend', port: r.backend, purpose: null, pool, slot }, { scope: r.scope, name: 'frontend', port: r.frontend, purpose: null, pool, slot });
  }
  return { ...empty, format: 'pairs', leases, pools: [{ name: pool, kind: 'series', ports, step, slots: null }] };
}

/** How far apart the pairs seed put consecutive pairs (backend 5001, 5003, ...). */
const PAIRS_STEP = 2;

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

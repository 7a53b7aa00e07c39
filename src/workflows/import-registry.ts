/**
 * `berth import --from FORMAT FILE`: a seed's own registry file (wiring/import-formats.ts
 * reads it, purely) turned into a berth snapshot for the engine's all-or-none import, plus
 * the berth.yaml services and pools it implies, merged into berth.yaml (comments kept).
 * `dryRun` previews both and changes nothing. Order when applying: the new berth.yaml is
 * made and checked first, then the registry import (all or none), then berth.yaml is
 * written; a refused import leaves both untouched.
 */
import { resolve } from 'node:path';
import { isMap, parseDocument, YAMLMap } from 'yaml';
import { ConfigError, UsageError, yamlProblem } from '../errors.js';
import { SNAPSHOT_FORMAT, SNAPSHOT_VERSION, type Engine, type ImportResult, type ScopeContext, type Snapshot } from '../engine/index.js';
import { MAX_TEXT_FILE_BYTES, readRegularFile } from '../fs/safe-read.js';
import { normaliseConfig } from '../config/normalise.js';
import type { Lease, PoolConfig, Scope } from '../types.js';
import { parseImport, type ImportedPool, type ImportFormat, type ParsedImport } from '../wiring/import-formats.js';
import { slotPorts } from '../wiring/pool-slots.js';
import { writeFileAtomic } from './safe-write.js';

/** What `berth import --from` found, and did (or, dry, would do). */
export interface RegistryImport {
  readonly format: ImportFormat;
  readonly file: string;
  readonly dryRun: boolean;
  /** The leases, each with its scope, port and pool slot. */
  readonly leases: readonly Pick<Lease, 'scope' | 'name' | 'port' | 'purpose' | 'pool' | 'slot'>[];
  /** berth.yaml services and pools added, by name. */
  readonly servicesAdded: readonly string[];
  readonly poolsAdded: readonly string[];
  /** berth.yaml written (or to write), or null when it needs nothing new. */
  readonly configFile: string | null;
  /** sequential: the file's next port, and the one berth will hand out next in the scope's sequence. */
  readonly next: number | null;
  /** The engine's import result; null with dryRun. */
  readonly result: ImportResult | null;
}

/** Reads, previews and (unless `dryRun`) applies a registry file (see the module comment). */
export async function importRegistry(
  engine: Engine,
  ctx: ScopeContext,
  format: ImportFormat,
  file: string,
  opts: { readonly dryRun?: boolean; readonly pool?: string } = {},
): Promise<RegistryImport> {
  const path = resolve(ctx.dir ?? process.cwd(), file);
  const bytes = await readRegularFile(path, { maxBytes: MAX_TEXT_FILE_BYTES });
  if (bytes === null) throw new UsageError(`cannot read ${path}: there is no such file. Name the ${format} registry file.`, { file: path });
  const parsed = parseImport(format, bytes.toString('utf8'), file, { pool: opts.pool });
  const project = await engine.project(ctx);
  const { host } = await engine.info();
  const known = new Map(project.config.pools.map((p) => [p.name, p]));
  const newPools = parsed.pools.filter((p) => !known.has(p.name));
  const pools = new Map<string, PoolConfig>([...known, ...newPools.map((p) => [p.name, poolConfig(p, parsed)] as const)]);
  const leases = parsed.leases.map((l) => {
    const scope = l.scope ?? project.scope;
    if (l.pool === null) return { scope, name: l.name, port: l.port, purpose: l.purpose, pool: null, slot: null };
    return { scope, name: l.name, port: l.port, purpose: l.purpose, pool: l.pool, slot: slotIn(pools.get(l.pool)!, l, file) };
  });
  const services = parsed.services.filter((s) => !project.config.services.some((c) => c.name === s.name));
  const sequential = format === 'sequential' && project.config.defaults.strategy === null;
  const needsConfig = services.length > 0 || newPools.length > 0 || sequential;
  const configFile = needsConfig ? (project.config.file ?? resolve(project.projectDir, 'berth.yaml')) : null;
  const configText = needsConfig ? await mergedConfig(configFile!, parsed, services.map((s) => s.name), newPools) : null;
  const next = format === 'sequential' ? nextInSequence(leases.map((l) => l.port), parsed.base ?? project.config.base) : null;
  const preview = { format, file: path, leases, servicesAdded: services.map((s) => s.name), poolsAdded: newPools.map((p) => p.name), configFile, next };
  if (opts.dryRun === true) return { ...preview, dryRun: true, result: null };
  const now = new Date().toISOString();
  const scopes = [...new Set(leases.map((l) => l.scope))].map((name): Scope => ({ host, name, directory: name === project.scope ? project.directory : null, createdAt: now }));
  const snapshot: Snapshot & { pools: PoolConfig[] } = {
    format: SNAPSHOT_FORMAT,
    version: SNAPSHOT_VERSION,
    exportedAt: now,
    scopes,
    leases: leases.map((l) => ({ host, protocol: 'tcp', strategy: null, ephemeral: false, pid: null, createdAt: now, updatedAt: now, ...l })),
    pools: [...new Set(leases.flatMap((l) => (l.pool === null ? [] : [l.pool])))].map((name) => pools.get(name)!),
  };
  const result = await engine.registry.import(ctx, snapshot, { source: path });
  if (configText !== null) await writeFileAtomic(configFile!, configText);
  return { ...preview, dryRun: false, result };
}

/** An imported pool as berth records it (what normaliseConfig makes of its berth.yaml form). */
function poolConfig(pool: ImportedPool, parsed: ParsedImport): PoolConfig {
  const [normal] = normaliseConfig({ pools: { [pool.name]: poolYaml(pool) } }, `the pool ${parsed.format} implies`).pools;
  return normal!;
}

function poolYaml(pool: ImportedPool): Record<string, unknown> {
  if (pool.kind === 'sets') return { sets: pool.sets };
  return { ports: pool.ports, step: pool.step, ...(pool.slots === null ? {} : { slots: pool.slots }) };
}

/** The slot of `pool` whose port for the lease's role is the lease's port. @throws UsageError naming the lease. */
function slotIn(pool: PoolConfig, lease: { readonly scope: string | null; readonly name: string; readonly port: number; readonly slot: number | null }, file: string): number {
  if (!pool.roles.includes(lease.name)) {
    throw new UsageError(`${file}: ${lease.scope}: role ${lease.name} is not a role of pool ${pool.name} in berth.yaml (${pool.roles.join(', ')}). Nothing was imported; pass --pool NAME for another pool.`);
  }
  const at = (k: number | null) => (k === null ? null : slotPorts(pool, k)?.[lease.name] ?? null);
  if (at(lease.slot) === lease.port) return lease.slot!;
  const step = pool.kind === 'series' ? pool.step : 1;
  const guess = pool.kind === 'series' ? (lease.port - pool.ports[lease.name]!) / step : null;
  if (guess !== null && Number.isInteger(guess) && guess >= 0 && at(guess) === lease.port) return guess;
  if (pool.kind === 'sets') {
    const k = pool.sets.findIndex((s) => s[lease.name] === lease.port);
    if (k >= 0) return k;
  }
  throw new UsageError(`${file}: ${lease.scope}: ${lease.name} port ${lease.port} is no slot's port in pool ${pool.name} of berth.yaml. Nothing was imported; fix the pool there, or pass --pool NAME for a new one.`);
}

/** The first port from `base` no imported lease holds: where the sequence continues. */
function nextInSequence(ports: readonly number[], base: number): number {
  const taken = new Set(ports);
  let port = base;
  while (taken.has(port)) port += 1;
  return port;
}

/** berth.yaml at `file` (or a new one) with the services and pools the import implies; checked, not written. */
async function mergedConfig(file: string, parsed: ParsedImport, serviceNames: readonly string[], pools: readonly ImportedPool[]): Promise<string> {
  const old = await readRegularFile(file, { maxBytes: MAX_TEXT_FILE_BYTES });
  // A new file starts as an empty block mapping (`{}` would stay a flow mapping).
  const doc = parseDocument(old === null || old.toString('utf8').trim() === '' ? 'project: null\n' : old.toString('utf8'), { prettyErrors: false });
  const first = doc.errors[0];
  if (first !== undefined) throw new ConfigError(file, '', yamlProblem(first.message, null));
  if (old === null) doc.delete('project');
  const section = (key: string): YAMLMap => {
    const found = doc.get(key, true);
    if (isMap(found)) return found;
    if (found !== undefined && found !== null) throw new ConfigError(file, key, 'expected a mapping');
    const map = new YAMLMap();
    doc.set(key, map);
    return map;
  };
  if (parsed.format === 'sequential') {
    if (!doc.has('base')) doc.set('base', parsed.base ?? Math.min(...parsed.leases.map((l) => l.port)));
    if (!isMap(doc.get('defaults', true)) || !(doc.get('defaults', true) as YAMLMap).has('strategy')) section('defaults').set('strategy', 'sequential');
  }
  for (const svc of parsed.services.filter((s) => serviceNames.includes(s.name))) {
    const body = new YAMLMap();
    body.set('port', svc.port);
    if (svc.purpose !== null) body.set('purpose', svc.purpose);
    if (svc.process !== null) body.set('process', svc.process);
    if (svc.health !== null && /^https?:/.test(svc.health)) body.set('http', true);
    const notes = [
      svc.command === null ? null : `startup_cmd: ${svc.command}`,
      svc.health === null ? null : `health_endpoint: ${svc.health}`,
      svc.environment === null ? null : `environment: ${svc.environment}`,
      svc.enabled ? null : 'disabled in the uDOS registry',
    ].filter((n): n is string => n !== null);
    if (notes.length > 0) body.commentBefore = ` From uDOS: ${notes.join('; ')}`;
    section('services').set(svc.name, body);
  }
  for (const pool of pools) section('pools').set(pool.name, doc.createNode(poolYaml(pool), { flow: false }));
  const text = doc.toString();
  // Checked as berth will read it: a bad merge is refused before anything is imported.
  const { parse } = await import('yaml');
  normaliseConfig(parse(text) as unknown, file);
  return text;
}

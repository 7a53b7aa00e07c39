/**
 * `berth compose-override` as one operation: find and read the compose file, match the
 * scope's leases to its published ports, optionally lease the ports nobody leases yet
 * (through the engine's all-or-none allocate), render the override and write it.
 */
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Lease } from '../types.js';
import { UsageError } from '../errors.js';
import type { ServiceConfig } from '../types.js';
import type { AllocationRequest, Engine, ScopeContext } from '../engine/index.js';
import { COMPOSE_FILE_NAMES, findComposeFile, readComposeServices } from './files.js';
import { envObject } from '../wiring/json.js';
import { writeFileIfChanged } from './safe-write.js';
import { digest, recordedContext, recordWrittenFile, refuseForeignFile } from './written-files.js';
import { MAX_TEXT_FILE_BYTES, readRegularFile } from '../fs/safe-read.js';
import { renderMergedCompose } from '../wiring/compose-merged.js';
import type { ComposePort, ComposeService } from '../wiring/compose-ports.js';
import {
  planComposeOverride,
  renderComposeOverride,
  suggestedLeaseName,
  type ServicePorts,
  type UnmatchedLease,
} from '../wiring/compose-override.js';

/** Options of `berth.composeOverride()`. */
export interface ComposeOverrideOptions {
  /** The base compose file; default: the first of COMPOSE_FILE_NAMES found in `dirs`. */
  readonly file?: string;
  /** Where to look for it (and what relative paths are resolved against); default: the context's directory, then the project directory. */
  readonly dirs?: readonly string[];
  /** Lease every published port that no lease covers yet (all or none). */
  readonly allocate?: boolean;
  /** Write the override to this file (atomically) instead of only returning it; recorded so port changes re-render it. */
  readonly write?: string;
  /**
   * A standalone file instead of an override: the base file with each leased host port
   * replaced and no `!override` tag, which docker-compose v1 (it rejects the tag) and v2
   * both read alone (`docker-compose -f FILE up`).
   */
  readonly merged?: boolean;
  /** Replace `write` even when berth did not write it, or it was edited since (refuseForeignFile). */
  readonly force?: boolean;
}

/** What `berth.composeOverride()` found, decided and wrote. */
export interface ComposeOverrideResult {
  /** Absolute path of the base compose file read. */
  readonly composeFile: string;
  /** The override YAML. */
  readonly text: string;
  /** Services in the override, each with its complete `ports:` list. */
  readonly services: readonly ServicePorts[];
  /** Published ports no lease covers; they keep the base file's host port. */
  readonly unleased: readonly ComposePort[];
  /** Leases that name a compose service or port that cannot be matched, and why. */
  readonly unmatched: readonly UnmatchedLease[];
  /** Leases created by `allocate` (empty without it, or when all existed). */
  readonly allocated: readonly Lease[];
  /** The file written, or null. */
  readonly written: string | null;
  /** Whether the written file changed (false when it already held this text). */
  readonly changed: boolean;
}

/**
 * The compose file to read: `file` resolved against the first dir, or else the first of
 * COMPOSE_FILE_NAMES present in any of `dirs`, in order.
 *
 * @throws UsageError (exit 2) naming the path, or the names and directories tried.
 */
export async function locateComposeFile(file: string | undefined, dirs: readonly string[]): Promise<string> {
  const where = [...new Set(dirs.map((d) => resolve(d)))];
  if (file !== undefined) {
    const path = resolve(where[0] ?? '.', file);
    let problem: string;
    try {
      const info = await stat(path);
      if (info.isFile()) return path;
      problem = 'not a file';
    } catch (error) {
      problem = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    }
    throw new UsageError(
      `cannot read compose file ${path} (${problem}). Check the path, or omit --file to look for ${COMPOSE_FILE_NAMES.join(', ')}.`,
      { file: path },
    );
  }
  for (const dir of where) {
    const found = await findComposeFile(dir);
    if (found !== null) return found;
  }
  throw new UsageError(
    `no compose file found: tried ${COMPOSE_FILE_NAMES.join(', ')} in ${where.join(' and ')}. Pass --file FILE to name it.`,
    { tried: COMPOSE_FILE_NAMES, dirs: where },
  );
}

/**
 * What `--allocate` leases so that every published port of `composeServices` is covered,
 * as one list for one all-or-none allocate:
 * 1. each berth.yaml service without a lease that targets a compose service in the file
 *    (its `compose:`, or a compose service of the same name), with berth.yaml's settings;
 * 2. then each published port still uncovered, under suggestedLeaseName (the service name
 *    when it publishes one port, else `SERVICE-PORT[-udp]`), preferring the base file's host
 *    port, with its protocol.
 */
export function composeAllocationRequests(
  composeServices: readonly ComposeService[],
  leases: readonly Lease[],
  services: readonly ServiceConfig[],
): AllocationRequest[] {
  const names = new Set(composeServices.map((s) => s.name));
  const leased = new Set(leases.map((l) => l.name));
  const requests: AllocationRequest[] = [];
  const placeholders: Lease[] = [];
  for (const svc of services) {
    if (leased.has(svc.name) || !names.has(svc.compose ?? svc.name)) continue;
    requests.push({ name: svc.name });
    placeholders.push(placeholder(svc.name, svc.protocol));
  }
  const plan = planComposeOverride(composeServices, [...leases, ...placeholders], services);
  const taken = new Set([...leased, ...requests.map((r) => r.name)]);
  for (const port of plan.unleased) {
    const service = composeServices.find((s) => s.name === port.service)!;
    const name = suggestedLeaseName(port, service);
    if (taken.has(name)) continue;
    taken.add(name);
    requests.push({
      name,
      protocol: port.protocol,
      purpose: `compose service ${service.name}, container port ${port.containerPort}`,
      ...(port.hostPort === null ? {} : { prefer: port.hostPort }),
    });
  }
  return requests;
}

/** Reads, plans, optionally allocates, renders and optionally writes (see ComposeOverrideResult). */
export async function buildComposeOverride(engine: Engine, ctx: ScopeContext, opts: ComposeOverrideOptions = {}): Promise<ComposeOverrideResult> {
  const project = await engine.project(ctx);
  const { services } = project.config;
  const dirs = opts.dirs && opts.dirs.length > 0 ? opts.dirs : [ctx.dir ?? process.cwd(), ...(project.directory ? [project.directory] : [])];
  const composeFile = await locateComposeFile(opts.file, dirs);
  // `"${POSTGRES_PORT}:${POSTGRES_PORT}"`: the container port is what compose will
  // substitute, the scope's own variable first (berth writes it to .env), then the shell's.
  const variables = async () => ({ ...process.env, ...envObject(await engine.wiring.env(ctx)) });
  let composeServices = await readComposeServices(composeFile, { vars: await variables(), lenient: opts.allocate === true });
  const scopeLeases = () => engine.leases.list(ctx, { scope: project.scope });
  let leases = await scopeLeases();
  let allocated: Lease[] = [];
  if (opts.allocate === true) {
    const requests = composeAllocationRequests(composeServices, leases, services);
    if (requests.length > 0) {
      const before = new Set(leases.map((l) => l.name));
      allocated = (await engine.leases.allocate(ctx, requests)).filter((l) => !before.has(l.name));
      leases = await scopeLeases();
    }
    // Read again with the new leases' variables, this time strictly.
    composeServices = await readComposeServices(composeFile, { vars: await variables() });
  }
  const plan = planComposeOverride(composeServices, leases, services);
  const text = opts.merged === true
    ? renderMergedCompose((await readRegularFile(composeFile, { maxBytes: MAX_TEXT_FILE_BYTES }))!.toString('utf8'), plan.mappings, composeFile)
    : renderComposeOverride(plan.mappings);
  let written: string | null = null;
  let changed = false;
  if (opts.write !== undefined) {
    written = resolve(dirs[0]!, opts.write);
    if (opts.force !== true) await refuseForeignFile(engine, project.scope, written, text);
    changed = await writeFileIfChanged(written, text);
    await recordWrittenFile(engine, {
      kind: 'compose',
      file: written,
      scope: project.scope,
      ctx: recordedContext({ ...ctx, dir: resolve(dirs[0]!) }),
      composeFile,
      merged: opts.merged === true,
      sha256: digest(text),
    });
  }
  return { composeFile, text, services: plan.mappings, unleased: plan.unleased, unmatched: plan.unmatched, allocated, written, changed };
}

/** A stand-in lease for a service about to be allocated, so planning sees it covered. */
function placeholder(name: string, protocol: Lease['protocol']): Lease {
  return {
    host: '',
    scope: '',
    name,
    port: 0,
    protocol,
    purpose: null,
    pool: null,
    slot: null,
    strategy: null,
    ephemeral: false,
    pid: null,
    createdAt: '',
    updatedAt: '',
  };
}

/**
 * The files berth writes for a scope, each recorded (written-files.ts) so that a port
 * change re-renders all of them: `env --write`, `render --write` (templates) and, through
 * compose-build.ts, `compose-override --write`. `rerenderScope` is what `reassign`,
 * `check --fix` and pool moves call after moving ports.
 *
 * Never clobbers a person's file: a template is written over an existing file only when
 * berth wrote that file and nobody edited it since (or with `force`); a re-render skips a
 * file edited by hand and says so. A `.env` is merged, never replaced.
 */
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { UsageError } from '../errors.js';
import type { Engine, ScopeContext } from '../engine/index.js';
import { readRegularFile } from '../fs/safe-read.js';
import { BUILTIN_TEMPLATES, builtinTemplate, fillTemplate } from '../wiring/template.js';
import { baseVariables } from './base-vars.js';
import { renderEnv, writeEnvOutput, type EnvFormat, type EnvWriteResult } from './env-format.js';
import { writeFileIfChanged } from './safe-write.js';
import { digest, forgetWrittenFile, recordedContext, recordWrittenFile, refuseForeignFile, writtenFile, writtenFiles, type WrittenFile } from './written-files.js';

/** What writeScopeEnv did: writeEnvOutput's result and the variables of released leases it removed. */
export interface ScopeEnvResult extends EnvWriteResult {
  readonly dropped: readonly string[];
}

/** What `berth env --write` was asked for, remembered so a re-render writes the same. */
export interface EnvFileOptions {
  readonly urls?: boolean;
  readonly host?: string;
  /** Before every derived name; default `env_prefix:` of berth.yaml. */
  readonly prefix?: string;
  /** BASE_PORT and NEXT_PORT first; default `env_base_vars:` of berth.yaml. */
  readonly baseVars?: boolean;
  /** shell, compose and json replace the whole file: replace one berth did not write (or that was edited since) too. */
  readonly force?: boolean;
}

/**
 * `berth env --write FILE`: the scope's variables written (dotenv merged), and the file
 * recorded. Variables berth wrote to this file before for leases since released are
 * removed; the person's own lines are never touched (berth only drops names it wrote).
 */
export async function writeScopeEnv(
  engine: Engine,
  ctx: ScopeContext,
  file: string,
  format: EnvFormat,
  opts: EnvFileOptions = {},
): Promise<ScopeEnvResult> {
  const { scope, config } = await engine.project(ctx);
  const wantBase = opts.baseVars === true || config.envBaseVars === true;
  const base = wantBase ? await baseVariables(engine, ctx, opts.prefix ?? config.envPrefix ?? '') : [];
  const vars = [...base, ...(await engine.wiring.env(ctx, { urls: opts.urls, host: opts.host, prefix: opts.prefix }))];
  const path = resolve(file);
  const before = await writtenFile(engine, scope, path);
  const names = vars.map((v) => v.name);
  const dropped = before?.kind === 'env' ? (before.names ?? []).filter((n) => !names.includes(n)) : [];
  // dotenv merges into the person's file, line by line; the other formats replace it whole,
  // so, like render and compose-override, they never replace a file berth did not write.
  if (format !== 'dotenv' && opts.force !== true) await refuseForeignFile(engine, scope, file, renderEnv(format, vars));
  const result = await writeEnvOutput(file, format, vars, dropped);
  await recordWrittenFile(engine, {
    kind: 'env',
    file: path,
    scope,
    ctx: recordedContext(ctx),
    format,
    urls: opts.urls === true,
    ...(opts.host === undefined ? {} : { host: opts.host }),
    ...(opts.prefix === undefined ? {} : { prefix: opts.prefix }),
    ...(opts.baseVars === true ? { baseVars: true } : {}),
    names,
    ...(format === 'dotenv' ? {} : { sha256: digest(renderEnv(format, vars)) }),
  });
  return { ...result, dropped };
}

/** Options of renderScopeTemplate. */
export interface RenderOptions {
  /** Host in URLs and built-in templates. */
  readonly host: string;
  /** Write the result to this file (recorded for re-renders) instead of only returning it. */
  readonly write?: string;
  /** Replace a file berth did not write, or one edited since. */
  readonly force?: boolean;
}

/** What renderScopeTemplate made. */
export interface RenderResult {
  /** A built-in's name, or the template file's absolute path. */
  readonly template: string;
  readonly text: string;
  readonly written: string | null;
  readonly changed: boolean;
}

/**
 * `berth render TEMPLATE`: a template file with `${NAME}` filled from the scope's variables
 * (every `<NAME>_PORT`, `<NAME>_URL`, BERTH_SCOPE), or a built-in (see BUILTIN_TEMPLATES)
 * when no file has that name.
 *
 * @throws UsageError for a missing template, an unknown `${NAME}`, or a file to write that
 *   berth did not write (without `force`); nothing is written then.
 */
export async function renderScopeTemplate(engine: Engine, ctx: ScopeContext, template: string, opts: RenderOptions): Promise<RenderResult> {
  const { scope } = await engine.project(ctx);
  const vars = await engine.wiring.env(ctx, { urls: true, host: opts.host });
  const path = resolve(ctx.dir ?? process.cwd(), template);
  const bytes = await readRegularFile(path);
  const builtin = bytes === null ? builtinTemplate(template) : undefined;
  if (bytes === null && builtin === undefined) {
    throw new UsageError(`no template ${path}: there is no such file, and the built-in templates are ${BUILTIN_TEMPLATES.map((t) => t.name).join(', ')}.`, { template });
  }
  const text = builtin !== undefined
    ? builtin.render(vars, opts.host)
    : fillTemplate(bytes!.toString('utf8'), [...vars, { name: 'BERTH_SCOPE', value: scope }, { name: 'BERTH_HOST', value: opts.host }], path);
  const name = builtin?.name ?? path;
  if (opts.write === undefined) return { template: name, text, written: null, changed: false };
  const target = resolve(ctx.dir ?? process.cwd(), opts.write);
  if (opts.force !== true) await refuseForeignFile(engine, scope, target, text);
  const changed = await writeFileIfChanged(target, text);
  await recordWrittenFile(engine, { kind: 'template', file: target, scope, ctx: recordedContext(ctx), template: name, host: opts.host, sha256: digest(text) });
  return { template: name, text, written: target, changed };
}

/** What a re-render did with one recorded file. */
export interface RerenderOutcome {
  readonly scope: string;
  readonly file: string;
  readonly kind: WrittenFile['kind'];
  /** `updated`: rewritten; `unchanged`: already right; `skipped`/`failed`: left as it is (see reason); `forgotten`: the file is gone. */
  readonly outcome: 'updated' | 'unchanged' | 'skipped' | 'failed' | 'forgotten';
  readonly reason?: string;
}

/**
 * Re-renders every file berth wrote for `scope` from the leases as they are now. Never
 * throws for one file: each outcome says what happened to it.
 */
export async function rerenderScope(engine: Engine, scope: string): Promise<RerenderOutcome[]> {
  const out: RerenderOutcome[] = [];
  for (const record of await writtenFiles(engine, scope)) {
    const { file, kind } = record;
    try {
      if (!(await exists(file))) {
        await forgetWrittenFile(engine, scope, file);
        out.push({ scope, file, kind, outcome: 'forgotten', reason: 'the file is gone' });
        continue;
      }
      if (record.sha256 !== undefined) {
        const current = await readRegularFile(file);
        if (current !== null && digest(current) !== record.sha256) {
          out.push({ scope, file, kind, outcome: 'skipped', reason: 'edited by hand since berth wrote it' });
          continue;
        }
      }
      out.push({ scope, file, kind, outcome: (await rewrite(engine, record)) ? 'updated' : 'unchanged' });
    } catch (error) {
      out.push({ scope, file, kind, outcome: 'failed', reason: (error as Error).message });
    }
  }
  return out;
}

/** Writes one recorded file again; returns whether it changed. */
async function rewrite(engine: Engine, record: WrittenFile): Promise<boolean> {
  switch (record.kind) {
    case 'env':
      return (await writeScopeEnv(engine, record.ctx, record.file, record.format ?? 'dotenv', { urls: record.urls, host: record.host, prefix: record.prefix, baseVars: record.baseVars, force: true })).changed;
    case 'template':
      return (await renderScopeTemplate(engine, record.ctx, record.template!, { host: record.host ?? 'localhost', write: record.file, force: true })).changed;
    case 'compose': {
      // Loaded on demand: the YAML library is needed only for compose work.
      const { buildComposeOverride } = await import('./compose-build.js');
      return (await buildComposeOverride(engine, record.ctx, { file: record.composeFile, write: record.file, merged: record.merged, force: true })).changed;
    }
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch {
    // Missing or unreachable: either way there is nothing to re-render there.
    return false;
  }
}

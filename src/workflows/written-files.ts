/**
 * The files berth wrote for each scope (env files, compose overrides, rendered templates),
 * so that a port change re-renders every one of them (rerender.ts).
 *
 * Kept in the state directory, not in the store: the files live on the caller's machine
 * and are written by the caller's process (workflows run above the engine, even when the
 * engine is the daemon's), while a store may be a PostgreSQL registry shared by machines
 * whose paths mean nothing to each other, and the daemon's API must never become a way
 * to make berth write a path. The records are keyed by the store's location, the machine
 * and the scope, so two registries in one state directory never mix.
 *
 * One JSON file per (scope, written file), each written atomically: two berth processes
 * recording different files never lose each other's record (no read-modify-write of a
 * shared list).
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import type { Engine, ScopeContext } from '../engine/index.js';
import { readRegularFile } from '../fs/safe-read.js';
import { stateDir } from '../fs/state-dir.js';
import type { EnvFormat } from './env-format.js';
import { resolveWriteTarget, writeFileAtomic } from './safe-write.js';

/** Which writer made a file, and what it needs to make it again. */
export type WrittenFileKind = 'env' | 'compose' | 'template';

/** One file berth wrote for a scope. */
export interface WrittenFile {
  readonly kind: WrittenFileKind;
  /** Absolute path of the file. */
  readonly file: string;
  /** The scope it was written for (resolved). */
  readonly scope: string;
  /** The context it was written with, so a re-render resolves berth.yaml the same way. */
  readonly ctx: ScopeContext;
  /** env: format, `--urls`, the URL host, `--prefix`, `--base-vars`. */
  readonly format?: EnvFormat;
  readonly urls?: boolean;
  readonly host?: string;
  readonly prefix?: string;
  readonly baseVars?: boolean;
  /** env: the variable names berth wrote, so names of released leases can be dropped. */
  readonly names?: readonly string[];
  /** compose: the base compose file, and whether the override is the standalone merged file. */
  readonly composeFile?: string;
  readonly merged?: boolean;
  /** template: a built-in name, or the absolute path of the template file. */
  readonly template?: string;
  /** sha256 of what berth wrote, for files berth owns whole (never a merged `.env`): an edit by hand is then noticed. */
  readonly sha256?: string;
  readonly writtenAt: string;
}

/** sha256 of `data`, hex. */
export function digest(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

const key = (text: string): string => digest(text).slice(0, 24);

/** The directory holding one scope's records. */
async function scopeDir(engine: Engine, scope: string, env: NodeJS.ProcessEnv): Promise<string> {
  const info = await engine.info();
  return join(stateDir(env), 'written-files', key(`${info.store}\n${info.location}\n${info.host}\n${scope}`));
}

/** The record of `file` for `scope`, or null. */
export async function writtenFile(engine: Engine, scope: string, file: string, env = process.env): Promise<WrittenFile | null> {
  const text = await readRegularFile(join(await scopeDir(engine, scope, env), `${key(resolve(file))}.json`)).catch(() => null);
  return text === null ? null : parseRecord(text);
}

/** Every file recorded for `scope`, oldest first. */
export async function writtenFiles(engine: Engine, scope: string, env = process.env): Promise<WrittenFile[]> {
  const dir = await scopeDir(engine, scope, env);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    // No directory: nothing was ever written for this scope.
    return [];
  }
  const out: WrittenFile[] = [];
  for (const name of names.filter((n) => n.endsWith('.json'))) {
    const record = parseRecord(await readRegularFile(join(dir, name)).catch(() => null));
    if (record !== null) out.push(record);
  }
  return out.sort((a, b) => a.writtenAt.localeCompare(b.writtenAt) || a.file.localeCompare(b.file));
}

/** The context to record: absolute paths, so a re-render from anywhere resolves alike. */
export function recordedContext(ctx: ScopeContext): ScopeContext {
  const dir = resolve(ctx.dir ?? process.cwd());
  return {
    ...(ctx.scope === undefined ? {} : { scope: ctx.scope }),
    dir,
    ...(ctx.config === undefined ? {} : { config: resolve(dir, ctx.config) }),
  };
}

/** Records (or replaces the record of) a file berth wrote. */
export async function recordWrittenFile(engine: Engine, record: Omit<WrittenFile, 'writtenAt'>, env = process.env): Promise<void> {
  const dir = await scopeDir(engine, record.scope, env);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const full: WrittenFile = { ...record, file: resolve(record.file), writtenAt: new Date().toISOString() };
  await writeFileAtomic(join(dir, `${key(full.file)}.json`), `${JSON.stringify(full, null, 2)}\n`);
}

/** Forgets the record of `file` (it is gone, or no longer berth's). */
export async function forgetWrittenFile(engine: Engine, scope: string, file: string, env = process.env): Promise<void> {
  await unlink(join(await scopeDir(engine, scope, env), `${key(resolve(file))}.json`)).catch(() => {
    // Already forgotten: nothing to do.
  });
}

/**
 * Refuses to replace `file` with `text` unless it is absent, already `text`, or berth's own
 * unedited output for `scope` (its record's sha256): the writers that own a file whole
 * (render --write, compose-override --write) never replace a person's file without --force.
 */
export async function refuseForeignFile(engine: Engine, scope: string, file: string, text: string): Promise<void> {
  // The writer's checks first (another user's link, a device, a FIFO are refused as writes are), then the file they lead to, read without following links.
  const target = await resolveWriteTarget(file);
  if (target.existing === null) return;
  const current = await readRegularFile(target.file, { noFollow: true, label: file });
  if (current === null || current.toString('utf8') === text) return;
  const record = await writtenFile(engine, scope, file);
  if (record?.sha256 === digest(current)) return;
  const why = record === null ? 'berth did not write it' : 'it was edited since berth wrote it';
  throw new UsageError(`not writing ${file}: it exists and ${why}. Name another file, or pass --force to replace it.`, { file });
}

function parseRecord(bytes: Buffer | null): WrittenFile | null {
  if (bytes === null) return null;
  try {
    const value = JSON.parse(bytes.toString('utf8')) as WrittenFile;
    return typeof value?.file === 'string' && typeof value.kind === 'string' ? value : null;
  } catch {
    // A record cut short or edited into nonsense: treat the file as never recorded.
    return null;
  }
}

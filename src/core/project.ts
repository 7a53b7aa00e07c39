/**
 * Resolving a ScopeContext: which berth.yaml, which scope, which project directory.
 * Every engine call starts here, so one engine serves any number of scopes and projects.
 */
import path from 'node:path';
import { UsageError } from '../errors.js';
import type { ProjectInfo, ScopeContext } from '../engine/index.js';
import { ConfigMemo, loadConfig } from '../config/load.js';
import { isPort } from '../config/ports.js';
import { checkScopeName, projectDir, resolveScope } from './scope.js';

/**
 * Checks a context's fields without reading anything: every call does this, including
 * machine-wide ones that need no berth.yaml (an empty scope must fail there too, not wipe
 * the machine).
 */
export function checkContext(ctx: ScopeContext): void {
  if (typeof ctx !== 'object' || ctx === null) throw new UsageError('invalid scope context: expected an object with scope, dir or config.');
  if (ctx.scope !== undefined) {
    if (ctx.scope === '') throw new UsageError('the scope is empty: name one (--scope NAME), or leave the option out to act for the project.');
    if (typeof ctx.scope !== 'string') throw new UsageError(`invalid scope ${JSON.stringify(ctx.scope)}: a scope is text, e.g. conductor/ws-7.`);
    checkScopeName(ctx.scope);
  }
  if (ctx.dir !== undefined && (typeof ctx.dir !== 'string' || !path.isAbsolute(ctx.dir))) {
    throw new UsageError(`the working directory must be an absolute path, got ${JSON.stringify(ctx.dir)}.`);
  }
  if (ctx.config !== undefined && (typeof ctx.config !== 'string' || ctx.config === '')) {
    throw new UsageError(`invalid config file ${JSON.stringify(ctx.config)}: give a path to berth.yaml.`);
  }
  if (ctx.base !== undefined && !isPort(ctx.base)) {
    throw new UsageError(`invalid base port ${JSON.stringify(ctx.base)}: a port is a whole number from 1 to 65535.`);
  }
  if (ctx.scopeDir !== undefined && (typeof ctx.scopeDir !== 'string' || !path.isAbsolute(ctx.scopeDir))) {
    throw new UsageError(`the scope's directory (--dir) must be an absolute path, got ${JSON.stringify(ctx.scopeDir)}.`);
  }
  if (ctx.actor !== undefined) checkActor(ctx.actor);
}

/** Longest user name or command line an actor may carry into the history. */
export const MAX_ACTOR_TEXT = 1000;

/** An actor as the history stores it: a pid above 0, and a user and command of bounded text or null. */
function checkActor(actor: unknown): void {
  const a = (typeof actor === 'object' && actor !== null ? actor : {}) as Record<string, unknown>;
  const text = (v: unknown): boolean => v === null || (typeof v === 'string' && v.length <= MAX_ACTOR_TEXT);
  if (!Number.isInteger(a.pid) || (a.pid as number) < 1 || !text(a.user) || !text(a.command)) {
    throw new UsageError(`invalid actor ${JSON.stringify(actor)?.slice(0, 200)}: expected {pid: a whole number above 0, user: text or null, command: text or null} (at most ${MAX_ACTOR_TEXT} characters each).`);
  }
}

/** Resolves contexts against a default working directory (the engine's own). */
export class ProjectResolver {
  /** berth.yaml parses by text: an engine that lives long (the daemon) parses each version once. */
  private readonly memo = new ConfigMemo();

  constructor(private readonly cwd: string) {}

  /**
   * The scope, project directory and berth.yaml of `ctx`. A named scope is tied to no
   * directory unless `ctx.scopeDir` names one; a derived one belongs to its project directory (gc releases it when that
   * directory is gone). An empty scope name is refused: a script that meant a scope must
   * never silently act on the project's.
   */
  async resolve(ctx: ScopeContext = {}): Promise<ProjectInfo> {
    checkContext(ctx);
    const dir = ctx.dir ?? this.cwd;
    const loaded = await loadConfig(dir, ctx.config, this.memo);
    // A base from the caller (--base, BASE_PORT) wins over berth.yaml's, for this call only.
    const config = ctx.base === undefined ? loaded : { ...loaded, base: ctx.base };
    const explicit = ctx.scope !== undefined;
    const scope = resolveScope(ctx.scope, config, dir);
    const project = projectDir(dir, config);
    return { scope, explicit, directory: explicit ? (ctx.scopeDir ?? null) : project, projectDir: project, config };
  }
}

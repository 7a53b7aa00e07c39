/**
 * Resolving a ScopeContext: which berth.yaml, which scope, which project directory.
 * Every engine call starts here, so one engine serves any number of scopes and projects.
 */
import path from 'node:path';
import { UsageError } from '../errors.js';
import type { ProjectInfo, ScopeContext } from '../engine/index.js';
import { loadConfig } from '../config/load.js';
import { projectDir, resolveScope } from './scope.js';

/** Resolves contexts against a default working directory (the engine's own). */
export class ProjectResolver {
  constructor(private readonly cwd: string) {}

  /**
   * The scope, project directory and berth.yaml of `ctx`. A named scope is tied to no
   * directory; a derived one belongs to its project directory (gc releases it when that
   * directory is gone). An empty scope name is refused: a script that meant a scope must
   * never silently act on the project's.
   */
  async resolve(ctx: ScopeContext = {}): Promise<ProjectInfo> {
    if (ctx.scope === '') throw new UsageError('the scope is empty: name one (--scope NAME), or leave the option out to act for the project.');
    if (ctx.dir !== undefined && (typeof ctx.dir !== 'string' || !path.isAbsolute(ctx.dir))) {
      throw new UsageError(`the working directory must be an absolute path, got ${JSON.stringify(ctx.dir)}.`);
    }
    const dir = ctx.dir ?? this.cwd;
    const config = await loadConfig(dir, ctx.config);
    const explicit = ctx.scope !== undefined;
    const scope = resolveScope(ctx.scope, config, dir);
    const project = projectDir(dir, config);
    return { scope, explicit, directory: explicit ? null : project, projectDir: project, config };
  }
}

/**
 * What every command action needs: the global options, the scope context they describe,
 * and an open engine, closed again when the action ends.
 */
import path from 'node:path';
import type { Command } from 'commander';
import type { Engine, ScopeContext } from '../engine/index.js';
import { engineFor } from './open-engine.js';
import type { GlobalOptions } from './options.js';
import { parsePort } from '../config/ports.js';

/** The global options as commander parsed them, wherever they stood on the line. */
export function globals(cmd: Command): GlobalOptions {
  return cmd.optsWithGlobals<GlobalOptions>();
}

/**
 * The scope context of a command: --scope (else BERTH_SCOPE; an empty BERTH_SCOPE counts as
 * unset, an empty --scope is refused by the engine), this directory, --config (else BERTH_CONFIG).
 */
export function scopeContext(opts: GlobalOptions, env: NodeJS.ProcessEnv = process.env): ScopeContext {
  return {
    scope: opts.scope ?? (env.BERTH_SCOPE || undefined),
    dir: path.resolve(process.cwd()),
    config: opts.config ?? (env.BERTH_CONFIG || undefined),
    base: baseOf(opts, env),
    scopeDir: opts.dir === undefined ? undefined : path.resolve(opts.dir),
  };
}

/**
 * The base port the caller asks for: --base, else BERTH_BASE_PORT, else BASE_PORT (the
 * variable the sequential port managers berth replaces read); empty values count as unset.
 */
function baseOf(opts: GlobalOptions, env: NodeJS.ProcessEnv): number | undefined {
  if (opts.base !== undefined) return parsePort(opts.base, '--base');
  for (const name of ['BERTH_BASE_PORT', 'BASE_PORT']) {
    if (env[name]) return parsePort(env[name], name);
  }
  return undefined;
}

/** What an action gets. */
export interface Invocation {
  readonly engine: Engine;
  readonly ctx: ScopeContext;
  readonly opts: GlobalOptions;
  /** --json was given. */
  readonly json: boolean;
}

/**
 * Opens the engine for the command's global options, runs `fn`, and closes it. `machine`:
 * the command's --machine, acting as that machine of a shared registry.
 */
export async function withEngine<T>(cmd: Command, fn: (run: Invocation) => Promise<T>, machine?: string): Promise<T> {
  const opts = globals(cmd);
  const engine = await engineFor(opts, process.env, machine);
  try {
    return await fn({ engine, ctx: scopeContext(opts), opts, json: opts.json === true });
  } finally {
    await engine.close();
  }
}

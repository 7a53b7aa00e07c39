/**
 * What every command action needs: the global options and an open engine, closed again
 * when the action ends.
 */
import type { Command } from 'commander';
import { openBerth, type Berth } from '../core/engine.js';
import type { GlobalOptions } from './options.js';

/** The global options as commander parsed them, wherever they stood on the line. */
export function globals(cmd: Command): GlobalOptions {
  return cmd.optsWithGlobals<GlobalOptions>();
}

/** Opens the engine for the command's global options, runs `fn`, and closes it. */
export async function withBerth<T>(cmd: Command, fn: (berth: Berth, opts: GlobalOptions) => Promise<T>): Promise<T> {
  const opts = globals(cmd);
  const berth = await openBerth({ db: opts.db, config: opts.config, scope: opts.scope });
  try {
    return await fn(berth, opts);
  } finally {
    await berth.close();
  }
}

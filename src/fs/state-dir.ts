/**
 * The state directory (DESIGN.md): BERTH_STATE_DIR, else $XDG_STATE_HOME/berth, else
 * ~/.local/state/berth. It holds the default store, the daemon's lockfile, socket and
 * tokens, and service logs; one daemon per state directory.
 */
import path from 'node:path';

/** The state directory `env` names. */
export function stateDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.BERTH_STATE_DIR) return path.resolve(env.BERTH_STATE_DIR);
  return path.join(env.XDG_STATE_HOME || path.join(env.HOME || '.', '.local', 'state'), 'berth');
}

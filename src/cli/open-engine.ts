/**
 * The CLI's composition root: the one place in src/cli/ that builds a concrete engine.
 * A LocalEngine over the store --db / BERTH_DB names and this machine; or, with --url or
 * BERTH_URL, a RemoteEngine through that daemon. The client and the daemon's state files
 * are loaded only then, never on the start-up path of a local command.
 */
import type { Engine } from '../engine/index.js';
import { StoreError, UsageError } from '../errors.js';
import { localMachine } from '../os/machine.js';
import { openEngine, portSourcesOf } from '../open.js';
import { defaultActor } from '../store/events.js';
import type { PortWatchSources } from '../workflows/port-watch.js';
import type { GlobalOptions } from './options.js';

/**
 * The engine for one command, from its global options and the environment: --url, else
 * --db, else BERTH_URL, else BERTH_DB (a flag beats the environment). `machine`: act as
 * that machine of a shared registry (a command's --machine).
 */
export async function engineFor(opts: GlobalOptions, env: NodeJS.ProcessEnv = process.env, machine?: string): Promise<Engine> {
  if (opts.url !== undefined && opts.db !== undefined) {
    throw new UsageError('--url and --db both say where the leases are: give one (--url works through a daemon, --db opens a store directly).');
  }
  const url = opts.url ?? (opts.db === undefined ? env.BERTH_URL || undefined : undefined);
  if (url === undefined) return openEngine({ db: opts.db, env, machineName: machine });
  if (machine !== undefined) {
    throw new UsageError(`--machine ${machine} opens the shared registry directly: a daemon acts for its own machine only. Give --db postgres://... instead of --url / BERTH_URL.`);
  }
  return remoteEngine(url, env);
}

/** A RemoteEngine for `url`, with BERTH_TOKEN or the token file of the state directory. */
async function remoteEngine(url: string, env: NodeJS.ProcessEnv): Promise<Engine> {
  const [{ RemoteEngine }, { parseDaemonTarget }, { readToken, stateDir, statePaths }] = await Promise.all([
    import('../client/remote-engine.js'),
    import('../client/target.js'),
    import('../server/state.js'),
  ]);
  const paths = statePaths(stateDir(env));
  const target = parseDaemonTarget(url, paths.socket);
  let token = env.BERTH_TOKEN || undefined;
  if (token === undefined) {
    try {
      token = readToken(paths.token);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      throw new StoreError(`no API token in ${paths.token}: the daemon writes it when it starts (\`berth serve\`). Start it, set BERTH_STATE_DIR to its state directory, or set BERTH_TOKEN.`, {
        token: paths.token,
      });
    }
  }
  // The daemon records this process, not itself, as the one making the changes.
  return new RemoteEngine({ ...target, token, actor: defaultActor() });
}

/** What `berth run`'s port check reads: this machine. */
export function localPortSources(): PortWatchSources {
  return portSourcesOf(localMachine);
}

/**
 * The CLI's composition root: the one place in src/cli/ that builds a concrete engine.
 * Today a LocalEngine over the store --db / BERTH_DB names and this machine.
 */
import type { Engine } from '../engine/index.js';
import { localMachine } from '../os/machine.js';
import { openEngine, portSourcesOf } from '../open.js';
import type { PortWatchSources } from '../workflows/port-watch.js';
import type { GlobalOptions } from './options.js';

/** The engine for one command, from its global options and the environment. */
export function engineFor(opts: GlobalOptions, env: NodeJS.ProcessEnv = process.env): Engine {
  return openEngine({ db: opts.db, env });
}

/** What `berth run`'s port check reads: this machine. */
export function localPortSources(): PortWatchSources {
  return portSourcesOf(localMachine);
}

/**
 * The contract's harness for RemoteEngine: a daemon in this process serving a LocalEngine
 * over the given store and this machine, the engine on its unix socket and each peer over
 * loopback TCP, as other processes would be. Runners differ only in the store they open.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RemoteEngine } from '../../src/client/remote-engine.js';
import { LocalEngine } from '../../src/core/local-engine.js';
import { localMachine } from '../../src/os/machine.js';
import { startDaemon } from '../../src/server/daemon.js';
import type { Store } from '../../src/store/store.js';
import type { EngineHarness } from './harness.js';
import { realHarness } from './support.js';

/** A store for the daemon, and the BERTH_DB that names it. */
export interface DaemonStore {
  readonly store: Store;
  readonly db: string;
}

/** A RemoteEngine harness; `open` gets the daemon's fresh state directory. */
export async function remoteHarness(prefix: string, open: (state: string) => Promise<DaemonStore> | DaemonStore): Promise<EngineHarness> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const state = path.join(dir, '.state');
  fs.mkdirSync(state, { mode: 0o700 });
  const { store, db } = await open(state);
  const daemon = await startDaemon({
    env: { BERTH_STATE_DIR: state, BERTH_DB: db },
    engine: new LocalEngine({ store, machine: localMachine, cwd: dir, env: {} }),
    port: 0,
  });
  const engine = new RemoteEngine({ socketPath: daemon.paths.socket, token: daemon.token, cwd: dir });
  // A peer: another client of the same daemon, as another process would be, over TCP this time.
  return realHarness(engine, dir, () => new RemoteEngine({ url: daemon.url, token: daemon.token, cwd: dir }), () => daemon.stop());
}

/**
 * The engine contract on RemoteEngine: every call over HTTP to an in-process daemon
 * (its unix socket; the peer over loopback TCP), which serves a LocalEngine over a SQLite
 * file and this machine. Everything LocalEngine passes on SQLite passes here too.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RemoteEngine } from '../../src/client/remote-engine.js';
import { LocalEngine } from '../../src/core/local-engine.js';
import type { Engine } from '../../src/engine/index.js';
import { localMachine } from '../../src/os/machine.js';
import { startDaemon } from '../../src/server/daemon.js';
import { openSqliteStore } from '../../src/store/sqlite-store.js';
import { engineContract, type EngineHarness } from './harness.js';

engineContract('RemoteEngine, daemon over a SQLite store, this machine', async (): Promise<EngineHarness> => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-contract-remote-'));
  const state = path.join(dir, '.state');
  const file = path.join(state, 'berth.db');
  fs.mkdirSync(state, { mode: 0o700 });
  const daemon = await startDaemon({
    env: { BERTH_STATE_DIR: state, BERTH_DB: file },
    engine: new LocalEngine({ store: openSqliteStore(file), machine: localMachine, cwd: dir, env: {} }),
    port: 0,
  });
  const engine = new RemoteEngine({ socketPath: daemon.paths.socket, token: daemon.token, cwd: dir });
  const peers: Engine[] = [];
  return {
    engine,
    dir,
    real: true,
    async peer() {
      // Another client of the same daemon, as another process would be, over TCP this time.
      const other = new RemoteEngine({ url: daemon.url, token: daemon.token, cwd: dir });
      peers.push(other);
      return other;
    },
    async cleanup() {
      for (const p of peers) await p.close();
      await engine.close();
      await daemon.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
});

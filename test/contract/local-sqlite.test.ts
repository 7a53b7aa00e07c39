/**
 * The engine contract on LocalEngine over a SQLite file and this machine: real sockets,
 * real processes, a real file.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LocalEngine } from '../../src/core/local-engine.js';
import type { Engine } from '../../src/engine/index.js';
import { localMachine } from '../../src/os/machine.js';
import { openSqliteStore } from '../../src/store/sqlite-store.js';
import { engineContract, type EngineHarness } from './harness.js';

engineContract('LocalEngine, SQLite store, this machine', async (): Promise<EngineHarness> => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-contract-sqlite-'));
  const file = path.join(dir, 'berth.db');
  const engine = new LocalEngine({ store: openSqliteStore(file), machine: localMachine, cwd: dir, env: {} });
  const peers: Engine[] = [];
  return {
    engine,
    dir,
    real: true,
    async peer() {
      // A second engine with its own store opened on the same file, as another process would.
      const other = new LocalEngine({ store: openSqliteStore(file), machine: localMachine, cwd: dir, env: {} });
      peers.push(other);
      return other;
    },
    async cleanup() {
      for (const p of peers) await p.close();
      await engine.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
});

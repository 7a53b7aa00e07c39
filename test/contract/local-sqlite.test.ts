/**
 * The engine contract on LocalEngine over a SQLite file and this machine: real sockets,
 * real processes, a real file.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LocalEngine } from '../../src/core/local-engine.js';
import { localMachine } from '../../src/os/machine.js';
import { openSqliteStore } from '../../src/store/sqlite-store.js';
import { engineContract, type EngineHarness } from './harness.js';
import { realHarness } from './support.js';

engineContract('LocalEngine, SQLite store, this machine', async (): Promise<EngineHarness> => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-contract-sqlite-'));
  const file = path.join(dir, 'berth.db');
  const open = () => new LocalEngine({ store: openSqliteStore(file), machine: localMachine, cwd: dir, env: {} });
  // A peer: a second engine with its own store opened on the same file, as another process would.
  return realHarness(open(), dir, open);
});

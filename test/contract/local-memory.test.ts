/**
 * The engine contract on LocalEngine over the memory store and a FakeMachine: fast, and
 * in full control of listeners and processes.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LocalEngine } from '../../src/core/local-engine.js';
import type { Engine } from '../../src/engine/index.js';
import { openMemoryStore } from '../../src/store/memory/memory-store.js';
import { FakeMachine } from '../helpers/fake-machine.js';
import { engineContract, type EngineHarness } from './harness.js';

engineContract('LocalEngine, memory store, fake machine', async (): Promise<EngineHarness> => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-contract-mem-'));
  const store = openMemoryStore();
  const machine = new FakeMachine();
  const engine = new LocalEngine({ store, machine, cwd: dir, env: {} });
  const peers: Engine[] = [];
  return {
    engine,
    machine,
    dir,
    real: false,
    async peer() {
      // Another engine over the same store object: how a second engine in this process sees it.
      const other = new LocalEngine({ store, machine, cwd: dir, env: {}, ownsStore: false });
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

/**
 * The engine contract on LocalEngine over a shared PostgreSQL registry and this machine:
 * a real server (test/helpers/postgres.ts), real sockets, real processes. Each test has
 * a schema of its own, so tests and files do not see each other's leases.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, it } from 'node:test';
import { LocalEngine } from '../../src/core/local-engine.js';
import type { Engine } from '../../src/engine/index.js';
import { localMachine } from '../../src/os/machine.js';
import { openPostgresStore } from '../../src/store/postgres/open.js';
import { pgUnavailable, startPg, uniqueSchema, type PgServer } from '../helpers/postgres.js';
import { engineContract, type EngineHarness } from './harness.js';

const skip = pgUnavailable();
let server: PgServer | undefined;

if (skip !== null) {
  it('engine contract on PostgreSQL', { skip }, () => {});
} else {
  before(async () => {
    server = await startPg();
  });
  after(async () => {
    await server?.stop();
  });

  engineContract('LocalEngine, PostgreSQL store, this machine', async (): Promise<EngineHarness> => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-contract-pg-'));
    const schema = uniqueSchema();
    const open = () => openPostgresStore(server!.url, { schema, host: 'local' });
    const engine = new LocalEngine({ store: await open(), machine: localMachine, cwd: dir, env: {} });
    const peers: Engine[] = [];
    return {
      engine,
      dir,
      real: true,
      async peer() {
        // A second engine with its own connections to the same registry, as another process would.
        const other = new LocalEngine({ store: await open(), machine: localMachine, cwd: dir, env: {} });
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
}

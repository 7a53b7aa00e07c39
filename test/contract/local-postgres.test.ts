/**
 * The engine contract on LocalEngine over a shared PostgreSQL registry and this machine:
 * a real server (test/helpers/postgres.ts), real sockets, real processes. Each test has
 * a schema of its own, so tests and files do not see each other's leases.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { it } from 'node:test';
import { LocalEngine } from '../../src/core/local-engine.js';
import { localMachine } from '../../src/os/machine.js';
import { openPostgresStore } from '../../src/store/postgres/open.js';
import { pgServerForFile, uniqueSchema } from '../helpers/postgres.js';
import { engineContract, type EngineHarness } from './harness.js';
import { realHarness } from './support.js';

const { skip, server } = pgServerForFile();

if (skip !== null) {
  it('engine contract on PostgreSQL', { skip }, () => {});
} else {
  engineContract('LocalEngine, PostgreSQL store, this machine', async (): Promise<EngineHarness> => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-contract-pg-'));
    const schema = uniqueSchema();
    const open = () => openPostgresStore(server.url, { schema, host: 'local' });
    const engine = () => open().then((store) => new LocalEngine({ store, machine: localMachine, cwd: dir, env: {} }));
    // A peer: a second engine with its own connections to the same registry, as another process would.
    return realHarness(await engine(), dir, engine);
  });
}

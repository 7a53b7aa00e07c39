/**
 * The engine contract on RemoteEngine against a daemon whose LocalEngine runs on a shared
 * PostgreSQL registry (a real server, test/helpers/postgres.ts): every call over HTTP to an
 * in-process daemon (its unix socket; the peer over loopback TCP). Each test has a schema
 * of its own. Everything LocalEngine passes on PostgreSQL passes here too.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, it } from 'node:test';
import { RemoteEngine } from '../../src/client/remote-engine.js';
import { LocalEngine } from '../../src/core/local-engine.js';
import type { Engine } from '../../src/engine/index.js';
import { localMachine } from '../../src/os/machine.js';
import { startDaemon } from '../../src/server/daemon.js';
import { openPostgresStore } from '../../src/store/postgres/open.js';
import { pgUnavailable, startPg, uniqueSchema, type PgServer } from '../helpers/postgres.js';
import { engineContract, type EngineHarness } from './harness.js';

const skip = pgUnavailable();
let server: PgServer | undefined;

if (skip !== null) {
  it('engine contract on RemoteEngine over PostgreSQL', { skip }, () => {});
} else {
  before(async () => {
    server = await startPg();
  });
  after(async () => {
    await server?.stop();
  });

  engineContract('RemoteEngine, daemon over a PostgreSQL store, this machine', async (): Promise<EngineHarness> => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-contract-remote-pg-'));
    const state = path.join(dir, '.state');
    fs.mkdirSync(state, { mode: 0o700 });
    const store = await openPostgresStore(server!.url, { schema: uniqueSchema(), host: 'local' });
    const daemon = await startDaemon({
      env: { BERTH_STATE_DIR: state, BERTH_DB: server!.url },
      engine: new LocalEngine({ store, machine: localMachine, cwd: dir, env: {} }),
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
}

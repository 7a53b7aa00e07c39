/**
 * The engine contract on RemoteEngine against a daemon whose LocalEngine runs on a shared
 * PostgreSQL registry (a real server, test/helpers/postgres.ts): every call over HTTP to an
 * in-process daemon (its unix socket; the peer over loopback TCP). Each test has a schema
 * of its own. Everything LocalEngine passes on PostgreSQL passes here too.
 */
import { it } from 'node:test';
import { openPostgresStore } from '../../src/store/postgres/open.js';
import { pgServerForFile, uniqueSchema } from '../helpers/postgres.js';
import { engineContract } from './harness.js';
import { remoteHarness } from './remote-harness.js';

const { skip, server } = pgServerForFile();

if (skip !== null) {
  it('engine contract on RemoteEngine over PostgreSQL', { skip }, () => {});
} else {
  engineContract('RemoteEngine, daemon over a PostgreSQL store, this machine', () =>
    remoteHarness('berth-contract-remote-pg-', async () => ({ store: await openPostgresStore(server.url, { schema: uniqueSchema(), host: 'local' }), db: server.url })),
  );
}

/**
 * The engine contract on RemoteEngine: every call over HTTP to an in-process daemon
 * (its unix socket; the peer over loopback TCP), which serves a LocalEngine over a SQLite
 * file and this machine. Everything LocalEngine passes on SQLite passes here too.
 */
import path from 'node:path';
import { openSqliteStore } from '../../src/store/sqlite-store.js';
import { engineContract } from './harness.js';
import { remoteHarness } from './remote-harness.js';

engineContract('RemoteEngine, daemon over a SQLite store, this machine', () =>
  remoteHarness('berth-contract-remote-', (state) => {
    const file = path.join(state, 'berth.db');
    return { store: openSqliteStore(file), db: file };
  }),
);

/**
 * The PostgreSQL store against a real server (see test/helpers/postgres.ts): the store
 * conformance suite, each test in a schema of its own, and what is particular to
 * PostgreSQL: its schema, refusals, machines, lost connections.
 */
import { after, before, describe } from 'node:test';
import { openPostgresStore } from '../../src/store/postgres/open.js';
import { pgUnavailable, startPg, uniqueSchema, type PgServer } from '../helpers/postgres.js';
import { storeConformance } from './conformance.js';

const skip = pgUnavailable();
let server: PgServer;

describe('postgres store', { skip: skip ?? false }, () => {
  before(async () => {
    server = await startPg();
  });
  after(async () => {
    await server?.stop();
  });

  storeConformance('postgres', async (opts) => {
    const store = await openPostgresStore(server.url, { schema: uniqueSchema(), host: 'local', ...opts });
    return { store, cleanup: async () => {} };
  });
});

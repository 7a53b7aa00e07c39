/**
 * The daemon of machine alpha on a PostgreSQL registry shared with machine beta (issue
 * 14), over HTTP as the dashboard asks: its own leases by default, every machine's with
 * allMachines=true; beta's changes on its event stream; and every action route that names
 * a lease by scope and name refuses beta's lease with a message saying whose it is, beta's
 * lease untouched. Skips, saying why, without PostgreSQL.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Lease } from '../../src/types.js';
import { berth, tempDir } from '../helpers/cli.js';
import { createDatabase, dropDatabase, pgUnavailable, startPg, type PgServer } from '../helpers/postgres.js';
import { freePort, openStream, problemOf, request, startDaemon, type Daemon } from './harness.js';

const skip = pgUnavailable();

describe("a daemon on a shared registry: other machines' leases, read-only", { skip: skip ?? false }, () => {
  let server: PgServer;
  let url: string;
  let d: Daemon;
  const beta = tempDir('berth-beta-');
  /** The CLI as machine beta (its own state directory: no daemon of its own). */
  const asBeta = (args: readonly string[]) => berth(args, { cwd: beta.dir, db: url, env: { BERTH_MACHINE: 'beta', BERTH_STATE_DIR: beta.dir } });

  before(async () => {
    server = await startPg();
    url = await createDatabase(server);
    d = await startDaemon({ db: url, env: { BERTH_MACHINE: 'alpha' } });
  });
  after(async () => {
    await d?.stop();
    if (url !== undefined) await dropDatabase(server, url);
    await server?.stop();
    beta.cleanup();
  });

  const names = (leases: readonly Lease[]): string[] => leases.map((l) => `${l.host}:${l.scope}/${l.name}`).sort();

  it('lists its own leases, every machine\'s with allMachines=true, and streams beta\'s changes', async () => {
    const port = await freePort();
    assert.equal(d.cli(['allocate', 'web', '--scope', 'shop', '--port', String(port)]).code, 0);
    const stream = await openStream(d);
    try {
      await stream.next((e) => e.event === 'snapshot', 20_000);
      // The same port on another machine: a port namespace of its own.
      const res = asBeta(['allocate', 'web', '--scope', 'shop', '--port', String(port)]);
      assert.equal(res.code, 0, res.stderr);
      assert.equal(asBeta(['allocate', 'api', '--scope', 'shop']).code, 0);
      const change = await stream.next((e) => e.event === 'change' && e.data.host === 'beta' && e.data.name === 'api', 20_000);
      assert.equal(change.data.scope, 'shop');
    } finally {
      stream.close();
    }
    assert.deepEqual(names((await request(d, { path: '/v1/leases' })).json as Lease[]), ['alpha:shop/web']);
    assert.deepEqual(names((await request(d, { path: '/v1/leases?allMachines=true' })).json as Lease[]), ['alpha:shop/web', 'beta:shop/api', 'beta:shop/web']);
  });

  it("refuses every action on another machine's lease, saying whose it is; nothing changes", async () => {
    const before = names((await request(d, { path: '/v1/leases?allMachines=true' })).json as Lease[]);
    const actions = [
      { method: 'DELETE', path: '/v1/leases/shop/api' },
      { method: 'POST', path: '/v1/leases/shop/release', body: { names: ['api'] } },
      { method: 'POST', path: '/v1/leases/shop/api/reassign', body: { next: true } },
      { method: 'POST', path: '/v1/leases/shop/api/kill', body: {} },
    ];
    for (const action of actions) {
      const res = await request(d, { body: {}, ...action });
      assert.equal(res.status, 404, `${action.method} ${action.path}: ${res.text}`);
      const problem = problemOf(res);
      assert.equal(problem.code, 'not-found');
      assert.match(problem.message, /no lease 'api' in scope shop on this machine.* Machine beta holds a lease of that name on this shared registry, read-only from here: berth changes only this machine's \(alpha\) leases.*Run the command on beta\./, action.path);
    }
    assert.deepEqual(names((await request(d, { path: '/v1/leases?allMachines=true' })).json as Lease[]), before, 'nothing changed');
    // A name no machine has gets the usual answer.
    const none = await request(d, { method: 'DELETE', path: '/v1/leases/shop/nope', body: {} });
    assert.equal(none.status, 404);
    assert.doesNotMatch(problemOf(none).message, /Machine/);
  });
});

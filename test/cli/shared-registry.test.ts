/**
 * Several machines on one PostgreSQL registry, through the built CLI as a team uses it:
 * BERTH_MACHINE names each, the same port is leased on both, list --all-machines shows
 * both, reset and import --replace act on one machine only (another with --machine and
 * --yes), and a change made on one reaches the other's event feed.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { openEngine } from '../../src/open.js';
import type { Lease, RegistryEvent } from '../../src/types.js';
import { berth, json, tempDir, type CliResult } from '../helpers/cli.js';
import { createDatabase, dropDatabase, pgUnavailable, startPg, type PgServer } from '../helpers/postgres.js';

const skip = pgUnavailable();
let server: PgServer;
let url: string;
const work = tempDir('berth-shared-');

if (skip === null) {
  before(async () => {
    server = await startPg();
    url = await createDatabase(server);
  });
  after(async () => {
    await dropDatabase(server, url);
    await server.stop();
    work.cleanup();
  });
}

/** The CLI as machine `machine` of the shared registry. */
function as(machine: string, args: readonly string[]): CliResult {
  return berth(args, { cwd: work.dir, db: url, env: { BERTH_MACHINE: machine } });
}

function ok(res: CliResult): CliResult {
  assert.equal(res.code, 0, `exit ${res.code}\nstdout: ${res.stdout}\nstderr: ${res.stderr}`);
  return res;
}

/**
 * Fixed ports this file leases: a band below the kernel's ephemeral range (32768 and up),
 * where an outgoing connection of any process (the PostgreSQL clients of the suite, say)
 * can hold a port for a while and make a fixed lease fail; placed at random so parallel
 * runs do not meet.
 */
const BASE = 24_000 + Math.floor(Math.random() * 300) * 20;
const P = { web: BASE, api: BASE + 1, feed: BASE + 2, pw: BASE + 3, notify: BASE + 10 };

const hosts = (leases: readonly Lease[]) => leases.map((l) => `${l.host}:${l.scope}/${l.name}:${l.port}`).sort();

describe('a registry shared by two machines', { skip: skip ?? false }, () => {
  it('leases the same port on both; list shows one machine, --all-machines both; reset on one leaves the other whole', () => {
    const port = String(P.web);
    ok(as('alpha', ['--scope', 'shop', 'allocate', 'web', '--port', port]));
    ok(as('beta', ['--scope', 'shop', 'allocate', 'web', '--port', port]));
    ok(as('beta', ['--scope', 'shop', 'allocate', 'api', '--port', String(P.api)]));
    assert.deepEqual(hosts(json<Lease[]>(ok(as('alpha', ['list', '--json'])))), [`alpha:shop/web:${port}`]);
    const all = ok(as('alpha', ['list', '--all-machines']));
    assert.match(all.stdout, /^MACHINE\s+SCOPE/);
    assert.match(all.stdout, new RegExp(`alpha\\s+shop\\s+web\\s+${port}`));
    assert.match(all.stdout, new RegExp(`beta\\s+shop\\s+web\\s+${port}`));

    // Another machine's rows need --machine and, when destroyed, --yes.
    const refused = as('alpha', ['reset', '--machine', 'beta']);
    assert.equal(refused.code, 4);
    const replace = as('alpha', ['import', '--replace', '--machine', 'beta', '-']);
    assert.equal(replace.code, 4, replace.stderr);
    assert.match(replace.stderr, /--yes/);
    const gc = as('alpha', ['gc', '--machine', 'beta']);
    assert.equal(gc.code, 2);
    assert.match(gc.stderr, /Run `berth gc` on beta/);
    assert.equal(json<Lease[]>(ok(as('alpha', ['list', '--all-machines', '--json']))).length, 3, 'nothing changed');

    const exported = json<{ leases: Lease[] }>(ok(as('alpha', ['export', '--machine', 'beta'])));
    assert.deepEqual(hosts(exported.leases), [`beta:shop/api:${P.api}`, `beta:shop/web:${port}`]);

    ok(as('beta', ['reset', '--yes']));
    assert.deepEqual(hosts(json<Lease[]>(ok(as('alpha', ['list', '--all-machines', '--json'])))), [`alpha:shop/web:${port}`], "alpha's lease stays");
    ok(as('alpha', ['reset', '--machine', 'alpha', '--yes']));
    assert.deepEqual(json<Lease[]>(ok(as('alpha', ['list', '--all-machines', '--json']))), []);
  });

  it('never records the password of a --db URL in the shared history', () => {
    const withPassword = url.replace('://berth@', '://berth:sekret@');
    ok(berth(['--db', withPassword, '--scope', 'pw', 'allocate', 'web', '--port', String(P.pw)], { cwd: work.dir, env: { BERTH_MACHINE: 'gamma' } }));
    const history = ok(as('gamma', ['history', '--json']));
    assert.ok(!history.stdout.includes('sekret'), history.stdout);
    assert.match(history.stdout, /berth:\*\*\*@/);
  });

  it('refuses --machine on a SQLite store, which describes one machine', () => {
    const res = berth(['reset', '--yes', '--machine', 'other'], { cwd: work.dir, db: `${work.dir}/one.db` });
    assert.equal(res.code, 2);
    assert.match(res.stderr, /a SQLite store describes this machine only/);
  });

  it("a change made on one machine reaches the other's event feed", async () => {
    const engine = openEngine({ db: url, env: { BERTH_MACHINE: 'alpha' }, cwd: work.dir });
    const seen: RegistryEvent[] = [];
    try {
      const stop = engine.events.subscribe(await engine.events.lastId(), (e) => seen.push(e));
      try {
        ok(as('beta', ['--scope', 'feed', 'allocate', 'db', '--port', String(P.feed)]));
        for (let waited = 0; waited < 10_000 && !seen.some((e) => e.host === 'beta'); waited += 50) await sleep(50);
        const event = seen.find((e) => e.host === 'beta');
        assert.ok(event, 'the event of beta arrived on alpha');
        assert.equal(event.scope, 'feed');
        assert.equal(event.port, P.feed);
      } finally {
        stop();
      }
    } finally {
      await engine.close();
    }
  });

  it('the feed is woken by the registry (LISTEN/NOTIFY), not only by its own polling', async () => {
    const alpha = openEngine({ db: url, env: { BERTH_MACHINE: 'alpha' }, cwd: work.dir });
    const beta = openEngine({ db: url, env: { BERTH_MACHINE: 'beta' }, cwd: work.dir });
    const seen: RegistryEvent[] = [];
    try {
      // Polling every ten minutes: only a notification can bring beta's change in time.
      const stop = alpha.events.subscribe(await alpha.events.lastId(), (e) => seen.push(e), { intervalMs: 600_000 });
      try {
        // Allocate until one arrives: the listening connection opens in the background.
        for (let n = 0; n < 100 && !seen.some((e) => e.host === 'beta' && e.scope === 'notify'); n++) {
          await beta.leases.allocate({ scope: 'notify', dir: work.dir }, [{ name: `n${n}`, port: P.notify + n }]);
          await sleep(100);
        }
        assert.ok(seen.some((e) => e.host === 'beta' && e.scope === 'notify'), "beta's event woke alpha's feed");
      } finally {
        stop();
      }
    } finally {
      await Promise.all([alpha.close(), beta.close()]);
    }
  });
});

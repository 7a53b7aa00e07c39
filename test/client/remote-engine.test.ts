/**
 * RemoteEngine beyond the contract suite: odd inputs the URL cannot carry as they are
 * (empty and dot names, `-`, values of the wrong type) give the error LocalEngine gives,
 * and a daemon that is not there is a StoreError that says how to start one.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { RemoteEngine } from '../../src/client/remote-engine.js';
import * as library from '../../src/index.js';
import { parseDaemonTarget } from '../../src/client/target.js';
import { LocalEngine } from '../../src/core/local-engine.js';
import type { Engine } from '../../src/engine/index.js';
import { BerthError, StoreError, UsageError } from '../../src/errors.js';
import { localMachine } from '../../src/os/machine.js';
import { startDaemon, type RunningDaemon } from '../../src/server/daemon.js';
import { openSqliteStore } from '../../src/store/sqlite-store.js';

/** Input the contract's types forbid, as a caller may still send it. */
type Loose = any;

/** What a call ended with: its value's JSON, or its error's class, kind, exit code and message. */
async function outcome(call: () => Promise<unknown>): Promise<Record<string, unknown>> {
  try {
    return { ok: JSON.stringify(await call()) };
  } catch (error) {
    assert.ok(error instanceof BerthError, `a BerthError, not ${String(error)}`);
    return { class: error.constructor.name, kind: error.kind, exitCode: error.exitCode, message: error.message };
  }
}

describe('RemoteEngine and LocalEngine answer odd input alike', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-remote-odd-'));
  const state = path.join(dir, '.state');
  let daemon: RunningDaemon;
  let remote: Engine;
  let local: Engine;

  before(async () => {
    fs.mkdirSync(state, { mode: 0o700 });
    const project = path.join(dir, 'proj');
    fs.mkdirSync(project);
    fs.writeFileSync(path.join(project, 'berth.yaml'), 'project: odd\npools:\n  p:\n    ports: { a: 24100 }\n    slots: 2\n');
    const file = path.join(state, 'berth.db');
    daemon = await startDaemon({ env: { BERTH_STATE_DIR: state, BERTH_DB: file }, engine: new LocalEngine({ store: openSqliteStore(file), machine: localMachine, cwd: project, env: {} }), port: 0 });
    remote = new RemoteEngine({ socketPath: daemon.paths.socket, token: daemon.token, cwd: project });
    // The same store file: both engines see the same registry, so answers are comparable.
    local = new LocalEngine({ store: openSqliteStore(file), machine: localMachine, cwd: project, env: {} });
  });

  after(async () => {
    await remote.close();
    await local.close();
    await daemon.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Calls that must end the same way on both engines, message included. */
  const SAME: Record<string, (e: Engine) => Promise<unknown>> = {
    'get ..': (e) => e.leases.get({ scope: 's' }, '..'),
    'get .': (e) => e.leases.get({ scope: 's' }, '.'),
    'get empty name': (e) => e.leases.get({ scope: 's' }, ''),
    'get a/b': (e) => e.leases.get({ scope: 's' }, 'a/b'),
    'get in scope ..': (e) => e.leases.get({ scope: '..' }, 'web'),
    'get in scope -': (e) => e.leases.get({ scope: '-' }, 'web'),
    'get in scope with %': (e) => e.leases.get({ scope: 'a%2Fb' }, 'web'),
    'release in an empty scope': (e) => e.leases.release({ scope: '' }),
    'reassign empty name': (e) => e.leases.reassign({ scope: 's' }, '', 5000),
    'kill empty target': (e) => e.reality.kill({ scope: 's' }, ''),
    'kill blank target': (e) => e.reality.kill({ scope: 's' }, '   '),
    'kill ..': (e) => e.reality.kill({ scope: 's' }, '..'),
    'kill an object': (e) => e.reality.kill({ scope: 's' }, {} as Loose),
    'kill a missing lease': (e) => e.reality.kill({ scope: 's' }, 'ghost'),
    'pool definition, empty name': (e) => e.pools.definition({}, ''),
    'pool definition, the only one': (e) => e.pools.definition({}),
    'pool urls, unknown': (e) => e.pools.urls({}, 'nope'),
    'reserve in scope ..': (e) => e.pools.reserve({ scope: '..' }),
    'reserve in scope -': (e) => e.pools.reserve({ scope: '-' }),
    'status in scope -': (e) => e.reality.status({ scope: '-' }),
    'project, empty scope': (e) => e.project({ scope: '' }),
    'project of the default directory': async (e) => (await e.project({})).scope,
    'history of an empty scope': (e) => e.registry.history({}, { scope: '' }),
    'reset with an empty context scope': (e) => e.registry.reset({ scope: '' }),
    'free, count 0': (e) => e.reality.free({}, { count: 0 }),
  };

  for (const [title, call] of Object.entries(SAME)) {
    it(title, async () => {
      assert.deepEqual(await outcome(() => call(remote)), await outcome(() => call(local)));
    });
  }

  /** Values of the wrong type: the URL writes them so the daemon refuses them too, in its own words. */
  const SAME_KIND: Record<string, (e: Engine) => Promise<unknown>> = {
    'history port as text': (e) => e.registry.history({}, { port: '5000' as Loose }),
    'history limit 1.5': (e) => e.registry.history({}, { limit: 1.5 }),
    'who port as text': (e) => e.reality.who({}, '5000' as Loose),
    'events after text': (e) => e.events.after('3' as Loose),
    'events after -1': (e) => e.events.after(-1),
    'free range as text': (e) => e.reality.free({}, { range: '5000-5010' as Loose }),
    'allocate range as text': (e) => e.leases.allocate({ scope: 's' }, [{ name: 'web', range: '5000-5010' as Loose }]),
    'kill :abc': (e) => e.reality.kill({}, ':abc'),
    // The daemon checks body types against the route's schema before the engine sees them.
    'kill with a grace given as text': (e) => e.reality.kill({ scope: 's' }, 5000, { graceMs: '100' as Loose }),
    'kill a lease with a grace given as text': (e) => e.reality.kill({ scope: 's' }, 'web', { graceMs: '100' as Loose }),
  };

  for (const [title, call] of Object.entries(SAME_KIND)) {
    it(`${title}: bad input on both`, async () => {
      const [r, l] = [await outcome(() => call(remote)), await outcome(() => call(local))];
      assert.deepEqual([r.kind, r.exitCode, l.kind, l.exitCode], ['usage', 2, 'usage', 2], JSON.stringify({ r, l }));
    });
  }
});

describe('RemoteEngine without a daemon', () => {
  it('a socket that is not there: a StoreError that says to run berth serve', async () => {
    const engine = new RemoteEngine({ socketPath: path.join(os.tmpdir(), `berth-none-${process.pid}.sock`), token: 'x'.repeat(64) });
    try {
      const err = await engine.leases.list({}).then(() => null, (e: unknown) => e);
      assert.ok(err instanceof StoreError, String(err));
      assert.equal(err.exitCode, 4);
      assert.match(err.message, /not running.*berth serve/);
    } finally {
      await engine.close();
    }
  });

  it('a port nobody listens on: the same', async () => {
    const engine = new RemoteEngine({ url: 'http://127.0.0.1:1', token: 'x'.repeat(64) });
    try {
      await assert.rejects(engine.info(), (err: unknown) => err instanceof StoreError && /ECONNREFUSED.*berth serve/.test(err.message));
    } finally {
      await engine.close();
    }
  });

  it('an address that is no daemon URL, or no token: bad input', () => {
    assert.throws(() => new RemoteEngine({ url: 'https://127.0.0.1:1', token: 'x'.repeat(64) }), UsageError);
    assert.throws(() => new RemoteEngine({ url: 'not a url', token: 'x'.repeat(64) }), UsageError);
    assert.throws(() => new RemoteEngine({ url: 'http://127.0.0.1:1', token: '' }), UsageError);
    assert.throws(() => parseDaemonTarget('ftp://x', '/s'), UsageError);
    assert.deepEqual(parseDaemonTarget('unix:', '/state/berth.sock'), { socketPath: '/state/berth.sock' });
    assert.deepEqual(parseDaemonTarget('unix:/run/b.sock', '/s'), { socketPath: '/run/b.sock' });
    assert.deepEqual(parseDaemonTarget('unix:///run/b.sock', '/s'), { socketPath: '/run/b.sock' });
    assert.deepEqual(parseDaemonTarget('http://127.0.0.1:4100', '/s'), { url: 'http://127.0.0.1:4100' });
  });
});

it('the package entry exports RemoteEngine, so a library user can reach a running daemon', () => {
  assert.equal(library.RemoteEngine, RemoteEngine);
});

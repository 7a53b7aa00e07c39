/**
 * Contract: the engine checks its own input (the daemon passes request bodies straight
 * through, library callers skip the CLI's parsing). Bad input is a UsageError (or a
 * ConfigError for berth.yaml), never a conflict or a not-found, and nothing is written.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe } from 'node:test';
import { ConfigError, UsageError } from '../../src/errors.js';
import type { Engine } from '../../src/engine/index.js';
import { fails, range, labTest, type HarnessFactory } from './support.js';

/** Input the contract's types forbid, as a caller over the wire may still send it. */
type Loose = any;

/** Asserts nothing was written: no lease, no event. */
async function nothingWritten(engine: Engine): Promise<void> {
  assert.deepEqual(await engine.leases.list({}), []);
  assert.equal(await engine.events.lastId(), 0);
}

/** Registers the input validation tests. */
export function validationContract(name: string, make: HarnessFactory): void {
  const test = labTest(make);

  describe(`${name}: input validation`, () => {
    test('protocols, ranges and ports: usage errors, never conflicts', async (lab) => {
      const b = await lab.band(5);
      const e = lab.engine;
      const ctx = { scope: 'val/a' };
      await fails(e.leases.allocate(ctx, [{ name: 'x', protocol: 'sctp' as Loose, range: range(b, 5) }]), UsageError, /protocol 'sctp'/);
      await fails(e.leases.allocate(ctx, [{ name: 'x', range: { start: b + 4, end: b } }]), UsageError, /start is above the end/);
      for (const port of ['5000', 1.5, 0, -1, 70_000, Number.NaN, null, true, [5000]]) {
        await fails(e.leases.allocate(ctx, [{ name: 'x', port: port as Loose }]), UsageError, /port/);
        await fails(e.leases.allocate(ctx, [{ name: 'x', prefer: port as Loose }]), UsageError, /prefer/);
      }
      for (const bad of [[b, b + 4], { start: String(b), end: b + 4 }, { start: b }, 'A-B']) {
        await fails(e.leases.allocate(ctx, [{ name: 'x', range: bad as Loose }]), UsageError, /range/);
      }
      await fails(e.leases.allocate(ctx, [{ name: 'x', strategy: 'random' as Loose }]), UsageError, /unknown strategy/);
      await fails(e.leases.allocate(ctx, [{ name: 'x', strategy: 'fixed' }]), UsageError, /fixed strategy needs a port/);
      await fails(e.leases.allocate(ctx, [{ name: 'x', purpose: 'p'.repeat(501) }]), UsageError, /at most 500/);
      await fails(e.reality.who(ctx, b, 'sctp' as Loose), UsageError, /protocol/);
      await fails(e.reality.ports(ctx, { protocol: 'sctp' as Loose }), UsageError, /protocol/);
      await fails(e.reality.free(ctx, { protocol: 'sctp' as Loose }), UsageError, /protocol/);
      for (const port of [0, 1.5, 70_000]) await fails(e.reality.who(ctx, port), UsageError, /port/);
      await nothingWritten(e);
    });

    test('reassign, who and history take ports as numbers, as allocate does', async (lab) => {
      const b = await lab.band(5);
      const e = lab.engine;
      const ctx = { scope: 'val/b' };
      await e.leases.allocate(ctx, [{ name: 'web', port: b }]);
      await fails(e.leases.reassign(ctx, 'web', 1.5), UsageError, /port/);
      await fails(e.leases.reassign(ctx, 'web', String(b + 1) as Loose), UsageError, /port/);
      await fails(e.reality.who(ctx, String(b) as Loose), UsageError, /port/);
      await fails(e.registry.history(ctx, { port: String(b) as Loose }), UsageError, /port/);
      assert.equal((await e.leases.get(ctx, 'web')).port, b);
    });

    test('free refuses a reversed or incomplete range as bad input, not as exhausted', async (lab) => {
      const b = await lab.band(5);
      const e = lab.engine;
      const ctx = { scope: 'val/free' };
      await fails(e.reality.free(ctx, { range: range(b, 5), count: 0 }), UsageError, /count/);
      await fails(e.reality.free(ctx, { range: { start: b + 4, end: b } }), UsageError, /start is above the end/);
      await fails(e.reality.free(ctx, { range: { start: b } as Loose }), UsageError, /range/);
      await fails(e.reality.free(ctx, { range: { start: String(b), end: b + 4 } as Loose }), UsageError, /range/);
      await nothingWritten(e);
    });

    test('names and requests of the wrong shape: usage errors', async (lab) => {
      const b = await lab.band(5);
      const e = lab.engine;
      const ctx = { scope: 'val/c' };
      for (const req of [{ name: 42 }, {}, 'web', null, { name: '' }, { name: 'bad name' }, { name: '-x' }]) {
        await fails(e.leases.allocate(ctx, [req as Loose]), UsageError, /name|request/);
      }
      await fails(e.leases.allocate(ctx, { name: 'web' } as Loose), UsageError, /list/);
      await fails(e.leases.allocate(ctx, [{ name: 'web', range: range(b, 5) }, { name: 'web', range: range(b, 5) }]), UsageError, /named twice/);
      await fails(e.leases.allocate(ctx, []), UsageError, /nothing to allocate/);
      await fails(e.leases.release(ctx, [42 as Loose]), UsageError, /name/);
      await fails(e.leases.release(ctx, 'web' as Loose), UsageError, /list/);
      await fails(e.leases.handOver(ctx, [42 as Loose], process.pid, process.pid), UsageError, /name/);
      await fails(e.leases.handOver(ctx, ['web'], '1' as Loose, process.pid), UsageError, /pid/);
      await fails(e.leases.releaseOwned(ctx, [42 as Loose], [process.pid]), UsageError, /name/);
      await fails(e.leases.releaseOwned(ctx, ['web'], 'x' as Loose), UsageError, /pid/);
      await fails(e.leases.allocate(ctx, [{ name: 'web', range: range(b, 5) }], { ephemeral: true, pid: '1' as Loose }), UsageError, /pid/);
      await nothingWritten(e);
    });

    test('get, reassign and kill check the lease name as allocate does (a bad name is bad input, not absent)', async (lab) => {
      const e = lab.engine;
      const ctx = { scope: 'val/d' };
      await fails(e.leases.get(ctx, 42 as Loose), UsageError, /name/);
      await fails(e.leases.get(ctx, 'bad name'), UsageError, /name/);
      await fails(e.leases.reassign(ctx, 42 as Loose, 5000), UsageError, /name/);
      await fails(e.leases.reassign(ctx, 'bad name', 5000), UsageError, /name/);
      await fails(e.reality.kill(ctx, 'bad name'), UsageError, /name/);
      await nothingWritten(e);
    });

    test('an empty or invalid scope is refused by every call that acts for a scope', async (lab) => {
      const b = await lab.band(5);
      const e = lab.engine;
      const req = [{ name: 'web', range: range(b, 5) }];
      for (const scope of ['', 'a b', ' lead', 'x'.repeat(201)]) {
        const ctx = { scope };
        await fails(e.project(ctx), UsageError, /scope/);
        await fails(e.leases.allocate(ctx, req), UsageError, /scope/);
        await fails(e.leases.get(ctx, 'web'), UsageError, /scope/);
        await fails(e.leases.release(ctx, ['web']), UsageError, /scope/);
        await fails(e.leases.release(ctx), UsageError, /scope/);
        await fails(e.leases.reassign(ctx, 'web', b), UsageError, /scope/);
        await fails(e.pools.reserve(ctx), UsageError, /scope/);
        await fails(e.wiring.env(ctx), UsageError, /scope/);
        await fails(e.reality.status(ctx), UsageError, /scope/);
        await fails(e.leases.list({}, { scope }), UsageError, /scope/);
        await fails(e.registry.export({}, { scope }), UsageError, /scope/);
        await fails(e.registry.history({}, { scope }), UsageError, /scope/);
      }
      await nothingWritten(e);
    });

    test('machine-wide calls refuse an empty scope in their context too', async (lab) => {
      // A script that meant one scope and passed '' must not list, export or wipe every scope instead.
      const e = lab.engine;
      await e.leases.allocate({ scope: 'val/kept' }, [{ name: 'web', range: range(await lab.band(5), 5) }]);
      const ctx = { scope: '' };
      await fails(e.leases.list(ctx), UsageError, /scope/);
      await fails(e.registry.export(ctx), UsageError, /scope/);
      await fails(e.registry.history(ctx), UsageError, /scope/);
      await fails(e.registry.gc(ctx), UsageError, /scope/);
      await fails(e.registry.reset(ctx), UsageError, /scope/);
      assert.equal((await e.leases.list({})).length, 1, 'nothing was forgotten');
    });

    test('contexts: a relative dir is refused; a bad berth.yaml is a ConfigError naming the file', async (lab) => {
      const e = lab.engine;
      await fails(e.leases.allocate({ dir: 'relative/dir' }, [{ name: 'web' }]), UsageError, /absolute/);
      const dir = lab.bare('broken');
      const file = path.join(dir, 'berth.yaml');
      fs.writeFileSync(file, 'services:\n  web: [unclosed\n');
      const err = await fails(e.leases.allocate({ dir }), ConfigError, /not valid YAML/);
      assert.ok(err.message.includes(file), err.message);
      fs.writeFileSync(file, 'services:\n  web:\n    port: 99999\n');
      await fails(e.project({ dir }), ConfigError, /services\.web\.port/);
      await fails(e.leases.allocate({ dir: lab.bare('ok'), config: 'missing.yaml' }, [{ name: 'web' }]), ConfigError, /missing\.yaml/);
      await nothingWritten(e);
    });

    test('feed, history and kill options are checked', async (lab) => {
      const e = lab.engine;
      const ctx = { scope: 'val/e' };
      for (const id of [-1, 1.5, Number.NaN, '3' as Loose]) await fails(e.events.after(id), UsageError, /event id/);
      await fails(e.events.after(0, 0), UsageError, /limit/);
      await fails(e.registry.history(ctx, { limit: 0 }), UsageError, /limit/);
      await fails(e.registry.history(ctx, { port: 0 }), UsageError, /port/);
      await fails(e.registry.history(ctx, { since: 'yesterday' }), UsageError, /since/);
      await fails(e.reality.kill(ctx, 5000, { graceMs: -1 }), UsageError, /grace/);
      await fails(e.reality.kill(ctx, 5000, { signal: 'SIGFOO' }), UsageError, /signal/);
      await fails(e.reality.kill(ctx, ''), UsageError, /kill/);
      await fails(e.reality.kill(ctx, ':0'), UsageError, /port/);
      await fails(e.reality.kill(ctx, {} as Loose), UsageError, /target/);
      await nothingWritten(e);
    });
  });
}

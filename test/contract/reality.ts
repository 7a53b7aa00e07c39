/**
 * Contract: reality. who, ports, status, check, free and kill, set against the registry.
 * On the real machine the holders are real sockets and real child processes; on a fake
 * one, FakeMachine listeners and processes. Tests that need one kind of machine say why.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { describe } from 'node:test';
import { ExhaustedError, NotFoundError, RefusedError } from '../../src/errors.js';
import { fails, labTest, range, unless, type HarnessFactory } from './support.js';

/** Listens on `port` of `host` in this process; null when that address cannot be bound (no IPv6). */
function listenHere(port: number, host: string): Promise<net.Server | null> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(null));
    server.listen({ port, host, exclusive: true }, () => resolve(server));
  });
}

/** Registers the reality tests. */
export function realityContract(name: string, make: HarnessFactory): void {
  const test = labTest(make);

  describe(`${name}: reality`, () => {
    test('who and ports name the holder of a port and the lease that owns it', async (lab) => {
      const b = await lab.band(5);
      const ctx = { scope: 'real/who' };
      const [web] = await lab.engine.leases.allocate(ctx, [{ name: 'web', port: b }]);
      const holder = await lab.hold(b, 'child');
      const who = await lab.engine.reality.who(ctx, b);
      assert.equal(who.port, b);
      assert.equal(who.protocol, 'tcp');
      assert.deepEqual(who.lease, web);
      assert.ok(who.holders.some((h) => h.pid === holder.pid && h.port === b && h.protocol === 'tcp' && h.process === 'node'), JSON.stringify(who.holders));
      assert.deepEqual(await lab.engine.reality.who({}, b + 1), { port: b + 1, protocol: 'tcp', lease: null, holders: [] });
      assert.deepEqual((await lab.engine.reality.who({}, b, 'udp')).holders, []);
      const ports = await lab.engine.reality.ports({});
      const entry = ports.find((p) => p.port === b && p.pid === holder.pid);
      assert.ok(entry, 'ports lists the holder');
      assert.deepEqual(entry.lease, { scope: 'real/who', name: 'web' });
      assert.ok(!(await lab.engine.reality.ports({}, { protocol: 'udp' })).some((p) => p.port === b && p.protocol === 'tcp'));
    });

    test('status: idle when nobody listens, listening when the expected holder does, foreign when someone else does', async (lab) => {
      const b = await lab.band(10);
      const ctx = { scope: 'real/st' };
      const owner = await lab.owner();
      await lab.engine.leases.allocate(ctx, [{ name: 'idle', port: b }, { name: 'anyone', port: b + 1 }]);
      await lab.engine.leases.allocate(ctx, [{ name: 'eph', port: b + 2 }], { ephemeral: true, pid: owner.pid });
      await lab.hold(b + 1);
      const intruder = await lab.hold(b + 2);
      // An ephemeral lease whose owner itself listens.
      const listener = await lab.hold(b + 3, 'child');
      await lab.engine.leases.allocate(ctx, [{ name: 'own', port: b + 3 }], { ephemeral: true, pid: listener.pid, force: true });
      await lab.engine.leases.allocate({ scope: 'real/other' }, [{ name: 'x', port: b + 4 }]);

      const status = await lab.engine.reality.status(ctx);
      const by = new Map(status.map((s) => [s.lease.name, s]));
      assert.deepEqual([...by.keys()].sort(), ['anyone', 'eph', 'idle', 'own'], 'only the scope’s leases');
      assert.deepEqual([by.get('idle')!.state, by.get('idle')!.holders], ['idle', []]);
      assert.equal(by.get('anyone')!.state, 'listening');
      assert.deepEqual(by.get('anyone')!.expected, { kind: 'any' });
      assert.equal(by.get('eph')!.state, 'foreign');
      assert.deepEqual(by.get('eph')!.expected, { kind: 'pid', pid: owner.pid });
      assert.ok(by.get('eph')!.foreign.some((h) => h.pid === intruder.pid));
      assert.deepEqual([by.get('own')!.state, by.get('own')!.foreign], ['listening', []]);
      const all = await lab.engine.reality.status(ctx, { all: true });
      assert.ok(all.some((s) => s.lease.scope === 'real/other' && s.state === 'idle'));
    });

    test('check: foreign holders, dead owners, and berth.yaml fixed ports leased, shared or taken', async (lab) => {
      const b = await lab.band(10);
      const dir = lab.project('chk', `project: chk\nservices:\n  web: ${b}\n  api: ${b}\n  db: ${b + 1}\n  cache: ${b + 2}\n`);
      await lab.engine.leases.allocate({ scope: 'chk/other' }, [{ name: 'squat', port: b + 1 }]);
      await lab.hold(b + 2);
      const gone = await lab.owner();
      const live = await lab.owner();
      await lab.engine.leases.allocate({ dir }, [{ name: 'eph-dead', port: b + 5 }], { ephemeral: true, pid: gone.pid });
      await lab.engine.leases.allocate({ dir }, [{ name: 'eph-held', port: b + 6 }], { ephemeral: true, pid: live.pid });
      await gone.end();
      const intruder = await lab.hold(b + 6);

      const conflicts = await lab.engine.reality.check({ dir });
      const of = (kind: string) => conflicts.filter((c) => c.kind === kind);
      assert.deepEqual(of('foreign-holder').map((c) => [c.port, c.lease]), [[b + 6, { scope: 'chk', name: 'eph-held' }]]);
      assert.ok(of('foreign-holder')[0]!.holders.some((h) => h.pid === intruder.pid));
      assert.deepEqual(of('dead-owner').map((c) => [c.port, c.lease]), [[b + 5, { scope: 'chk', name: 'eph-dead' }]]);
      assert.deepEqual(of('fixed-port-leased').map((c) => [c.port, c.services]), [[b + 1, ['db']]]);
      assert.deepEqual(of('duplicate-fixed-port').map((c) => [c.port, [...c.services].sort()]), [[b, ['api', 'web']]]);
      assert.deepEqual(of('fixed-port-in-use').map((c) => [c.port, c.services]), [[b + 2, ['cache']]]);
      for (const c of conflicts) assert.ok(c.message.length > 0 && c.protocol === 'tcp');
    });

    test('free: the first ports no lease holds and nobody listens on; it takes no lease', async (lab) => {
      const b = await lab.band(10);
      const ctx = { scope: 'real/free' };
      await lab.engine.leases.allocate(ctx, [{ name: 'web', port: b }]);
      await lab.hold(b + 1);
      const found = await lab.engine.reality.free(ctx, { range: range(b, 10), count: 3 });
      assert.deepEqual(found, { protocol: 'tcp', ports: [b + 2, b + 3, b + 4], from: b, to: b + 9 });
      assert.deepEqual((await lab.engine.reality.free(ctx, { range: range(b, 10), from: b + 5 })).ports, [b + 5]);
      await fails(lab.engine.reality.free(ctx, { range: range(b, 3), count: 2 }), ExhaustedError, /only 1 free tcp port/);
      assert.deepEqual((await lab.engine.leases.list({})).map((l) => l.port), [b], 'free leased nothing');
    });

    test('kill ends what listens on a lease’s port, reports it, and the port is free; the lease stays', async (lab) => {
      const b = await lab.band(5);
      const ctx = { scope: 'real/kill' };
      await lab.engine.leases.allocate(ctx, [{ name: 'web', port: b }]);
      const holder = await lab.hold(b, 'child');
      const report = await lab.engine.reality.kill(ctx, 'web', { graceMs: 2000 });
      assert.deepEqual([report.port, report.protocol, report.lease, report.signal, report.free], [b, 'tcp', { scope: 'real/kill', name: 'web' }, 'SIGTERM', true]);
      assert.deepEqual(report.killed.map((k) => [k.pid, k.signals, k.exited, k.error]), [[holder.pid, ['SIGTERM'], true, null]]);
      assert.equal(report.killed[0]!.process, 'node');
      assert.deepEqual((await lab.engine.reality.who(ctx, b)).holders, []);
      assert.equal((await lab.engine.leases.get(ctx, 'web')).port, b, 'kill does not release');
      await fails(lab.engine.reality.kill(ctx, `:${b}`), NotFoundError, /nothing listens/);
      await fails(lab.engine.reality.kill(ctx, 'ghost'), NotFoundError, /ghost/);
    });

    test('kill refuses berth itself and signals nobody', async (lab) => {
      const b = await lab.band(5);
      await lab.hold(b, 'self');
      const err = await fails(lab.engine.reality.kill({}, b, { graceMs: 100 }), RefusedError, /berth itself.*nothing was signalled|nothing was signalled[\s\S]*berth itself/);
      assert.deepEqual((err.details?.refusals as { kind: string }[]).map((r) => r.kind), ['self']);
      assert.ok((await lab.engine.reality.who({}, b)).holders.some((h) => h.pid === process.pid), 'still listening');
    });

    test('kill refuses another user’s process unless forced, and escalates to SIGKILL after the grace', async (lab, t) => {
      if (unless(lab, t, 'fake', 'needs another user’s process and one that ignores SIGTERM; test/cli/reality.test.ts covers both on the OS')) return;
      const b = await lab.band(5);
      const m = lab.fake;
      m.addProcess({ pid: 4_100_001, uid: 4242, user: 'alice', name: 'theirs', command: 'theirs --serve' });
      m.addListener({ port: b, pid: 4_100_001 });
      await fails(lab.engine.reality.kill({}, b), RefusedError, /belongs to user alice/);
      assert.equal(m.isAlive(4_100_001), true);
      const forced = await lab.engine.reality.kill({}, b, { force: true, graceMs: 10 });
      assert.deepEqual(forced.killed.map((k) => [k.pid, k.user, k.exited]), [[4_100_001, 'alice', true]]);
      m.addProcess({ pid: 4_100_002, name: 'stubborn', ignoresTerm: true });
      m.addListener({ port: b + 1, pid: 4_100_002 });
      const report = await lab.engine.reality.kill({}, b + 1, { graceMs: 300 });
      assert.deepEqual(report.killed.map((k) => [k.signals, k.exited]), [[['SIGTERM', 'SIGKILL'], true]]);
      assert.equal(report.free, true);
    });

    test('a port held only on IPv6 loopback is not handed out, and who finds its holder', async (lab, t) => {
      if (unless(lab, t, 'real', 'the bind probe across IPv4 and IPv6 is the OS’s; a fake machine has no address families')) return;
      const b = await lab.band(5);
      const server = await listenHere(b, '::1');
      if (server === null) return t.skip('no IPv6 loopback here');
      try {
        const [lease] = await lab.engine.leases.allocate({ scope: 'real/v6' }, [{ name: 'web', range: range(b, 5) }]);
        assert.equal(lease!.port, b + 1);
        const who = await lab.engine.reality.who({}, b);
        assert.ok(who.holders.some((h) => h.pid === process.pid && h.address === '::1'), JSON.stringify(who.holders));
      } finally {
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    });
  });
}

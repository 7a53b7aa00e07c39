/**
 * Reality through the built CLI, with real sockets and real processes: who, ports, status,
 * check, free and kill, their refusals and their exit codes; allocate against real
 * listeners. Loopback only; every child is killed in `finally`.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openBerth } from '../../src/index.js';
import { RefusedError } from '../../src/errors.js';
import type { Conflict, FreeResult, KillReport, LeaseStatus, PortEntry, WhoResult } from '../../src/engine/index.js';
import { ephemeralPortRange, isAlive, isPortFree } from '../../src/os/index.js';
import type { Lease } from '../../src/types.js';
import { berth, berthAsync, json, tempDir, type CliResult } from '../helpers/cli.js';
import { NOBODY_UID, startNode, stopNode, TCP_LISTENER, type Helper } from '../os/helpers.js';

/** Grace for kills in tests: long enough for a node child to handle SIGTERM. */
const GRACE_MS = '2000';
/** Every test ends within this. */
const TEST_TIMEOUT_MS = 60_000;

/** A child listening on loopback that ignores SIGTERM, to prove the escalation. */
const STUBBORN_LISTENER = `
process.on('SIGTERM', () => {});
const [host, port] = process.argv.slice(1);
const server = require('node:net').createServer();
server.listen({ host, port: Number(port) }, () => console.log(server.address().port));
`;

/** Listens on `port` of `host` in this process; resolves null when the port cannot be bound. */
function listenHere(port: number, host = '127.0.0.1'): Promise<net.Server | null> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(null));
    server.listen({ port, host, exclusive: true }, () => resolve(server));
  });
}

function close(server: net.Server | null | undefined): Promise<void> {
  return new Promise((resolve) => (server?.listening ? server.close(() => resolve()) : resolve()));
}

/** Whether this process can bind `port` on 127.0.0.1 right now (and let go again). */
async function bindable(port: number): Promise<boolean> {
  const server = await listenHere(port);
  await close(server);
  return server !== null;
}

/** A port free on every address, outside the OS ephemeral range (so `--from` starts there), with `spare` free ports after it. */
async function quietPort(spare = 0): Promise<number> {
  const ephemeral = ephemeralPortRange();
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 9_000);
    if (ephemeral && port + spare >= ephemeral.start && port <= ephemeral.end) continue;
    let ok = true;
    for (let p = port; p <= port + spare && ok; p++) ok = await isPortFree(p, 'tcp');
    if (ok) return port;
  }
  throw new Error('no quiet port from 20000 to 29000');
}

async function ipv6Loopback(): Promise<boolean> {
  const server = await listenHere(0, '::1');
  await close(server);
  return server !== null;
}

function listenerChild(port: number, host = '127.0.0.1', marker = 'berth-reality-test'): Promise<Helper> {
  return startNode(TCP_LISTENER, [host, String(port), marker]);
}

/** The stderr and exit code, for assertion messages. */
const show = (r: CliResult): string => `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;

let dir: string;
let cleanup: () => void;
let db: string;

describe('berth who, ports, status, check, free and kill against real sockets', () => {
  before(() => {
    ({ dir, cleanup } = tempDir());
    db = path.join(dir, 'berth.db');
  });
  after(() => cleanup());

  it('who names the pid and command; kill ends it and the port binds again; 3000 survives kills of 300 and 30000', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const ports = [3000, 300, 30000];
    const taken = [];
    for (const p of ports) if (!(await bindable(p))) taken.push(p);
    if (taken.length > 0) {
      t.skip(`cannot own port(s) ${taken.join(', ')} here (held by something else, or not permitted)`);
      return;
    }
    const helpers: Helper[] = [];
    try {
      for (const p of ports) {
        try {
          helpers.push(await listenerChild(p, '127.0.0.1', `marker-${p}`));
        } catch (error) {
          // Another test (or program) took the port between the check and the listen.
          t.skip(`port ${p} was taken while the test started its listeners: ${(error as Error).message}`);
          return;
        }
      }
      const [keeper, on300, on30000] = helpers as [Helper, Helper, Helper];

      const who = json<WhoResult>(berth(['who', '3000', '--json'], { cwd: dir, db }));
      assert.deepEqual(
        who.holders.map((h) => [h.pid, h.process, h.address, h.port]),
        [[keeper.pid, 'node', '127.0.0.1', 3000]],
      );
      assert.ok(who.holders[0]!.command?.endsWith('127.0.0.1 3000 marker-3000'), who.holders[0]!.command ?? 'no command');
      assert.equal(who.lease, null);
      const human = berth(['who', '3000'], { cwd: dir, db });
      assert.equal(human.code, 0);
      assert.match(human.stdout, new RegExp(`^tcp port 3000: no lease\\nPID\\s+PROCESS\\s+USER\\s+ADDRESS\\s+CONTAINER\\s+COMMAND\\n${keeper.pid}\\s+node\\s+\\S+\\s+127\\.0\\.0\\.1\\s+-\\s+.*marker-3000\\n$`));

      const ports300 = json<PortEntry[]>(berth(['ports', '--json'], { cwd: dir, db }));
      for (const h of helpers) assert.ok(ports300.some((e) => e.pid === h.pid), `ports lists pid ${h.pid}`);

      for (const [target, helper, port] of [[':300', on300, 300], ['30000', on30000, 30000]] as const) {
        const res = await berthAsync(['kill', target, '--grace', GRACE_MS, '--json'], { cwd: dir, db });
        assert.equal(res.code, 0, show(res));
        const report = json<KillReport>(res);
        assert.deepEqual(
          report.killed.map((k) => [k.pid, k.process, k.signals, k.exited]),
          [[helper.pid, 'node', ['SIGTERM'], true]],
        );
        assert.ok(report.killed[0]!.command?.endsWith(`marker-${port}`));
        assert.equal(report.free, true);
        assert.equal(isAlive(helper.pid), false);
        assert.equal(await bindable(port), true, `port ${port} binds again`);
        assert.equal(isAlive(keeper.pid), true, `the listener on 3000 survives killing ${port}`);
      }
      assert.deepEqual(
        json<WhoResult>(berth(['who', '3000', '--json'], { cwd: dir, db })).holders.map((h) => h.pid),
        [keeper.pid],
      );

      const last = await berthAsync(['kill', ':3000', '--grace', GRACE_MS], { cwd: dir, db });
      assert.equal(last.code, 0, show(last));
      assert.match(last.stdout, new RegExp(`^PID\\s+PROCESS\\s+USER\\s+SIGNALS\\s+EXITED\\s+COMMAND\\n${keeper.pid}\\s+node\\s+\\S+\\s+SIGTERM\\s+yes\\s+.*\\ntcp port 3000 is free now\\n$`));
      assert.equal(await bindable(3000), true);
    } finally {
      for (const h of helpers) await stopNode(h);
    }
  });

  it('kill escalates to SIGKILL after the grace period, and also ends a child that inherited the socket', { timeout: TEST_TIMEOUT_MS }, async () => {
    const port = await quietPort();
    let stubborn: Helper | undefined;
    let parent: Helper | undefined;
    let inheritor: number | undefined;
    try {
      stubborn = await startNode(STUBBORN_LISTENER, ['127.0.0.1', String(port)]);
      const res = await berthAsync(['kill', String(port), '--grace', '300', '--json'], { cwd: dir, db });
      assert.equal(res.code, 0, show(res));
      assert.deepEqual(
        json<KillReport>(res).killed.map((k) => [k.pid, k.signals, k.exited]),
        [[stubborn.pid, ['SIGTERM', 'SIGKILL'], true]],
      );

      // A parent listens and hands the listening socket to a child as fd 3: both hold the port.
      const script = `
        const net = require('node:net');
        const { spawn } = require('node:child_process');
        const server = net.createServer().listen(${port}, '127.0.0.1', () => {
          const c = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1 << 30)'], { stdio: ['ignore', 'ignore', 'ignore', server._handle.fd] });
          console.log(c.pid);
        });`;
      parent = await startNode(script);
      inheritor = Number(parent.firstLine);
      const who = json<WhoResult>(berth(['who', String(port), '--json'], { cwd: dir, db }));
      assert.deepEqual(who.holders.map((h) => h.pid).sort(), [parent.pid, inheritor].sort());
      const killed = await berthAsync(['kill', `:${port}`, '--grace', GRACE_MS, '--json'], { cwd: dir, db });
      assert.equal(killed.code, 0, show(killed));
      const report = json<KillReport>(killed);
      assert.deepEqual(report.killed.map((k) => k.pid).sort(), [parent.pid, inheritor].sort());
      assert.ok(report.killed.every((k) => k.exited));
      assert.equal(report.free, true);
      assert.equal(await bindable(port), true);
    } finally {
      await stopNode(stubborn);
      await stopNode(parent);
      if (inheritor !== undefined && isAlive(inheritor)) process.kill(inheritor, 'SIGKILL');
    }
  });

  it('an IPv6-only listener on ::1 makes its port not free, and who finds it', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    if (!(await ipv6Loopback())) {
      t.skip('this machine has no IPv6 loopback');
      return;
    }
    const port = await quietPort(5);
    let helper: Helper | undefined;
    try {
      helper = await listenerChild(port, '::1');
      const free = berth(['free', '--from', String(port), '--json'], { cwd: dir, db });
      assert.equal(free.code, 0, show(free));
      const result = json<FreeResult>(free);
      assert.equal(result.ports.length, 1);
      assert.ok(result.ports[0]! > port, `free skipped ${port}: ${result.ports[0]}`);
      assert.equal(result.ports[0], port + 1, 'the next port was free when picked');
      const ranged = json<FreeResult>(berth(['free', '--range', `${port}-${port + 5}`, '--count', '2', '--json'], { cwd: dir, db }));
      assert.deepEqual(ranged.ports, [port + 1, port + 2]);
      assert.equal(berth(['free', '--from', String(port)], { cwd: dir, db }).stdout, `${port + 1}\n`, 'people get one port per line');

      const who = json<WhoResult>(berth(['who', String(port), '--json'], { cwd: dir, db }));
      assert.deepEqual(
        who.holders.map((h) => [h.address, h.pid]),
        [['::1', helper.pid]],
      );
    } finally {
      await stopNode(helper);
    }
  });

  it('check reports a leased port taken by a foreign process with both names, and exits 1', { timeout: TEST_TIMEOUT_MS }, async () => {
    const port = await quietPort();
    const proj = path.join(dir, 'goblin-proj');
    fs.mkdirSync(proj, { recursive: true });
    fs.writeFileSync(path.join(proj, 'berth.yaml'), `project: goblins\nservices:\n  goblin:\n    port: ${port}\n    process: goblin\n`);
    let helper: Helper | undefined;
    try {
      assert.equal(berth(['allocate', 'goblin'], { cwd: proj, db }).code, 0);
      assert.equal(berth(['check'], { cwd: proj, db }).code, 0, 'idle is no conflict');
      assert.equal(json<LeaseStatus[]>(berth(['status', '--json'], { cwd: proj, db }))[0]!.state, 'idle');

      helper = await listenerChild(port);
      const res = berth(['check', '--json'], { cwd: proj, db });
      assert.equal(res.code, 1, show(res));
      const conflicts = json<Conflict[]>(res);
      assert.deepEqual(
        conflicts.map((c) => [c.kind, c.port, c.lease]),
        [['foreign-holder', port, { scope: 'goblins', name: 'goblin' }]],
      );
      assert.ok(conflicts[0]!.message.startsWith(`port ${port}: expected 'goblin' but found 'node' (pid ${helper.pid})`), conflicts[0]!.message);
      assert.match(JSON.parse(res.stderr).error, /^conflicts$/);

      const human = berth(['conflicts'], { cwd: proj, db });
      assert.equal(human.code, 1);
      assert.match(human.stdout, new RegExp(`^foreign-holder: port ${port}: expected 'goblin' but found 'node' \\(pid ${helper.pid}\\)`));
      assert.match(human.stderr, /1 conflict\(s\) found: foreign-holder/);

      const status = json<LeaseStatus[]>(berth(['status', '--json'], { cwd: proj, db }));
      assert.deepEqual(
        status.map((s) => [s.lease.name, s.state, s.expected, s.foreign.map((h) => h.pid)]),
        [['goblin', 'foreign', { kind: 'process', name: 'goblin' }, [helper.pid]]],
      );
      assert.match(berth(['status'], { cwd: proj, db }).stdout, new RegExp(`goblins\\s+goblin\\s+${port}\\s+tcp\\s+foreign\\s+'goblin'\\s+node \\(pid ${helper.pid}\\)`));

      const entries = json<PortEntry[]>(berth(['ports', '--json'], { cwd: proj, db }));
      assert.deepEqual(
        entries.filter((e) => e.port === port).map((e) => [e.pid, e.lease]),
        [[helper.pid, { scope: 'goblins', name: 'goblin' }]],
      );
      const who = json<WhoResult>(berth(['who', String(port), '--json'], { cwd: proj, db }));
      assert.equal(who.lease?.name, 'goblin');

      // By lease name: kill what holds the goblin's port.
      const killed = await berthAsync(['kill', 'goblin', '--grace', GRACE_MS, '--json'], { cwd: proj, db });
      assert.equal(killed.code, 0, show(killed));
      assert.deepEqual(json<KillReport>(killed).lease, { scope: 'goblins', name: 'goblin' });
      assert.equal(berth(['check'], { cwd: proj, db }).code, 0);
    } finally {
      await stopNode(helper);
    }
  });

  it('status: an ephemeral lease is listening when its pid listens and foreign when someone else does', { timeout: TEST_TIMEOUT_MS }, async () => {
    const port = await quietPort();
    let owner: Helper | undefined;
    let stranger: Helper | undefined;
    try {
      owner = await listenerChild(port);
      assert.equal(berth(['allocate', 'web', '--port', String(port), '--force', '--ephemeral', '--pid', String(owner.pid), '--scope', 'eph'], { cwd: dir, db }).code, 0);
      let [s] = json<LeaseStatus[]>(berth(['status', '--json', '--scope', 'eph'], { cwd: dir, db }));
      assert.deepEqual([s!.state, s!.expected, s!.holders.map((h) => h.pid)], ['listening', { kind: 'pid', pid: owner.pid }, [owner.pid]]);
      await stopNode(owner);
      stranger = await listenerChild(port);
      [s] = json<LeaseStatus[]>(berth(['status', '--json', '--scope', 'eph'], { cwd: dir, db }));
      assert.equal(s!.state, 'foreign');
      const kinds = json<Conflict[]>(berth(['check', '--json', '--scope', 'eph'], { cwd: dir, db })).map((c) => c.kind);
      assert.deepEqual(kinds, ['foreign-holder', 'dead-owner']);
      await stopNode(stranger);
      [s] = json<LeaseStatus[]>(berth(['status', '--json', '--scope', 'eph'], { cwd: dir, db }));
      assert.equal(s!.state, 'idle');
      assert.ok(json<LeaseStatus[]>(berth(['status', '--all', '--json'], { cwd: dir, db })).some((x) => x.lease.scope === 'eph'), '--all spans scopes');
    } finally {
      await stopNode(owner);
      await stopNode(stranger);
      berth(['release', '--scope', 'eph'], { cwd: dir, db });
    }
  });

  it('check reports an ephemeral lease whose pid is dead', { timeout: TEST_TIMEOUT_MS }, async () => {
    // The owner must be alive when the lease is made; it dies afterwards.
    const gone = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    const pid = gone.pid!;
    const port = await quietPort();
    const made = berth(['allocate', 'api', '--port', String(port), '--ephemeral', '--pid', String(pid), '--scope', 'dead'], { cwd: dir, db });
    gone.kill('SIGKILL');
    await new Promise((resolve) => gone.once('exit', resolve));
    assert.equal(made.code, 0, show(made));
    assert.equal(isAlive(pid), false);
    const res = berth(['check', '--json', '--scope', 'dead'], { cwd: dir, db });
    assert.equal(res.code, 1, show(res));
    const [c, ...rest] = json<Conflict[]>(res);
    assert.deepEqual(rest, []);
    assert.equal(c!.kind, 'dead-owner');
    assert.equal(c!.message, `port ${port}: ephemeral lease dead/api belongs to pid ${pid}, which is gone. Reclaim it with \`berth gc\`.`);
    assert.equal(berth(['gc'], { cwd: dir, db }).code, 0);
    assert.equal(berth(['check', '--scope', 'dead'], { cwd: dir, db }).code, 0);
  });

  it('check: berth.yaml fixed ports leased elsewhere, shared by two services, or taken by a process', { timeout: TEST_TIMEOUT_MS }, async () => {
    const port = await quietPort(2);
    const proj = path.join(dir, 'fixed-proj');
    fs.mkdirSync(proj, { recursive: true });
    fs.writeFileSync(path.join(proj, 'berth.yaml'), `services:\n  a: ${port}\n  b: ${port}\n  c: ${port + 1}\n`);
    let helper: Helper | undefined;
    try {
      assert.equal(berth(['allocate', 'other', '--port', String(port), '--scope', 'elsewhere'], { cwd: dir, db }).code, 0);
      helper = await listenerChild(port + 1);
      const res = berth(['check', '--json'], { cwd: proj, db });
      assert.equal(res.code, 1, show(res));
      assert.deepEqual(
        json<Conflict[]>(res).map((c) => [c.kind, c.port, c.services]),
        [
          ['fixed-port-leased', port, ['a', 'b']],
          ['duplicate-fixed-port', port, ['a', 'b']],
          ['fixed-port-in-use', port + 1, ['c']],
        ],
      );
    } finally {
      await stopNode(helper);
      berth(['release', '--scope', 'elsewhere'], { cwd: dir, db });
    }
  });

  it('allocate postgres while a real listener holds 5432 gives another port; a held fixed port needs --force', { timeout: TEST_TIMEOUT_MS }, async () => {
    try {
      // Held only around the one allocation: other test files may want 5432 free.
      const held = await listenHere(5432, '0.0.0.0');
      let res: CliResult;
      try {
        if (held === null) assert.equal(await isPortFree(5432, 'tcp'), false, 'something else already holds 5432');
        res = berth(['allocate', 'postgres', '--scope', 'pg', '--json'], { cwd: dir, db });
      } finally {
        await close(held);
      }
      assert.equal(res.code, 0, show(res));
      const [lease] = json<Lease[]>(res);
      assert.notEqual(lease!.port, 5432);

      const port = await quietPort();
      const blocker = await listenHere(port);
      try {
        const refused = berth(['allocate', 'db', '--port', String(port), '--scope', 'pg'], { cwd: dir, db });
        assert.equal(refused.code, 4, show(refused));
        assert.match(refused.stderr, new RegExp(`port ${port} for pg/db is in use by another process.*berth who ${port}`));
        assert.equal(berth(['get', 'db', '--scope', 'pg'], { cwd: dir, db }).code, 1, 'nothing was leased');
        const forced = berth(['allocate', 'db', '--port', String(port), '--scope', 'pg', '--force', '--json'], { cwd: dir, db });
        assert.equal(forced.code, 0, show(forced));
        assert.equal(json<Lease[]>(forced)[0]!.port, port);
      } finally {
        await close(blocker);
      }
    } finally {
      berth(['release', '--scope', 'pg'], { cwd: dir, db });
    }
  });

  it("kill refuses berth's parent and another user's process (exit 4, nothing signalled); --force kills the latter", { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const port = await quietPort();
    const mine = await listenHere(port);
    try {
      const res = await berthAsync(['kill', `:${port}`], { cwd: dir, db });
      assert.equal(res.code, 4, show(res));
      assert.match(res.stderr, new RegExp(`refusing to kill the holders of tcp port ${port}; nothing was signalled\\.\\n  node \\(pid ${process.pid}\\) is berth's parent`));
      const asJson = await berthAsync(['kill', `:${port}`, '--json', '--force'], { cwd: dir, db });
      assert.equal(asJson.code, 4, '--force does not override the parent');
      const error = JSON.parse(asJson.stderr) as { error: string; refusals: { kind: string; pid: number }[] };
      assert.equal(error.error, 'refused');
      assert.deepEqual(error.refusals.map((r) => [r.kind, r.pid]), [['ancestor', process.pid]]);
    } finally {
      await close(mine);
    }

    if (process.getuid?.() !== 0) {
      t.skip("needs root, to run a listener as nobody");
      return;
    }
    let nobody: Helper | undefined;
    try {
      nobody = await startNode(TCP_LISTENER, ['127.0.0.1', String(port)], { uid: NOBODY_UID, gid: NOBODY_UID });
      const refused = await berthAsync(['kill', String(port)], { cwd: dir, db });
      assert.equal(refused.code, 4, show(refused));
      assert.match(refused.stderr, new RegExp(`node \\(pid ${nobody.pid}\\) belongs to user nobody, not to you; pass --force`));
      assert.equal(isAlive(nobody.pid), true, 'not signalled');
      const forced = await berthAsync(['kill', String(port), '--force', '--grace', GRACE_MS, '--json'], { cwd: dir, db });
      assert.equal(forced.code, 0, show(forced));
      assert.deepEqual(
        json<KillReport>(forced).killed.map((k) => [k.pid, k.user, k.exited]),
        [[nobody.pid, 'nobody', true]],
      );
    } finally {
      await stopNode(nobody);
    }
  });

  it('the engine refuses to kill its own process (self)', { timeout: TEST_TIMEOUT_MS }, async () => {
    const port = await quietPort();
    const mine = await listenHere(port);
    const engine = await openBerth({ db, cwd: dir, scope: 'self' });
    try {
      await assert.rejects(engine.kill(port), (error: unknown) => {
        assert.ok(error instanceof RefusedError);
        assert.deepEqual((error.details?.refusals as { kind: string }[]).map((r) => r.kind), ['self']);
        assert.match(error.message, /is berth itself/);
        return true;
      });
      assert.equal(mine?.listening, true, 'still listening');
    } finally {
      await engine.close();
      await close(mine);
    }
  });

  it('exit codes: nothing listens (1), bad port or signal (2), too few free ports (3)', { timeout: TEST_TIMEOUT_MS }, async () => {
    const port = await quietPort();
    const nobodyHere = berth(['who', String(port)], { cwd: dir, db });
    assert.equal(nobodyHere.code, 1, show(nobodyHere));
    assert.match(nobodyHere.stderr, new RegExp(`nothing listens on tcp port ${port} and no lease holds it`));
    assert.equal(berth(['kill', `:${port}`], { cwd: dir, db }).code, 1);
    assert.equal(berth(['kill', 'no-such-lease'], { cwd: dir, db }).code, 1);
    for (const args of [['who', '0'], ['who', '65536'], ['who', 'web'], ['who', '80', '--protocol', 'sctp'], ['kill', ':0'], ['kill', `:${port}`, '--signal', 'NOPE'], ['kill', `:${port}`, '--grace', '-1'], ['free', '--range', '9-1'], ['free', '--count', '0']]) {
      const res = berth(args, { cwd: dir, db });
      assert.equal(res.code, 2, `${args.join(' ')}: ${show(res)}`);
    }
    const blocker = await listenHere(port);
    try {
      const res = berth(['free', '--range', `${port}-${port}`], { cwd: dir, db });
      assert.equal(res.code, 3, show(res));
      assert.match(res.stderr, new RegExp(`only 0 free tcp port\\(s\\) in ${port}-${port}, 1 asked for`));
    } finally {
      await close(blocker);
    }
    // A leased port nobody listens on: who answers with the lease (exit 0).
    assert.equal(berth(['allocate', 'idle', '--port', String(port), '--scope', 'quiet'], { cwd: dir, db }).code, 0);
    const idle = berth(['who', String(port)], { cwd: dir, db });
    assert.equal(idle.code, 0, show(idle));
    assert.equal(idle.stdout, `tcp port ${port}: leased to quiet/idle; nothing listens on it\n`);
    const freeNow = json<FreeResult>(berth(['free', '--range', `${port}-${port + 1}`, '--json'], { cwd: dir, db }));
    assert.deepEqual(freeNow.ports, [port + 1], 'a leased port is not free');
    berth(['release', '--scope', 'quiet'], { cwd: dir, db });
  });
});

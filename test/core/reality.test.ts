/**
 * The pure parts of reality: expected holders, lease states, conflict kinds, the kill
 * policy and its input parsing; and the kill on a fake machine whose processes change
 * under it (pid reuse). Real sockets and processes are in test/cli/reality* and
 * test/os/kill-*.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RefusedError, UsageError } from '../../src/errors.js';
import {
  ListenerIndex,
  annotateListeners,
  containerStopCommand,
  expectationOf,
  findConflicts,
  fixedPortOf,
  holderMatches,
  isSelfOrDescendant,
  killPort,
  killRefusals,
  leaseStatus,
  parseKillTarget,
  processNameMatches,
  serviceOf,
  type KillPolicyContext,
  type ParentOf,
} from '../../src/core/reality/index.js';
import type { LeaseStatus } from '../../src/engine/index.js';
import { printable } from '../../src/wiring/describe.js';
import { parseSignal } from '../../src/config/signals.js';
import type { ServiceConfig } from '../../src/types.js';
import type { Lease, Listener } from '../../src/types.js';
import { NOT_HOLDING } from '../../src/os/types.js';
import { FakeMachine } from '../helpers/fake-machine.js';
import { lease as baseLease, service } from '../helpers/fixtures.js';

/** Reality's tests use host `h` and scope `app`. */
function lease(name: string, port: number, extra: Partial<Lease> = {}): Lease {
  return baseLease(name, port, { host: 'h', scope: 'app', ...extra });
}

function listener(port: number, pid: number | null, process: string | null, extra: Partial<Listener> = {}): Listener {
  return { protocol: 'tcp', address: '127.0.0.1', port, pid, process, command: process === null ? null : `/usr/bin/${process} serve`, user: 'dev', container: null, ...extra };
}

/** A process tree: 100 -> 101 -> 102, 200 alone; parents of unknown pids are null. */
const TREE = new Map([
  [100, 1],
  [101, 100],
  [102, 101],
  [200, 1],
  [1, 0],
]);
const parentOf: ParentOf = (pid) => TREE.get(pid) ?? null;

describe('expected holders', () => {
  it('an ephemeral lease expects its pid, a configured service its process, anything else anyone', () => {
    assert.deepEqual(expectationOf(lease('web', 3000, { ephemeral: true, pid: 100 }), service('web', { process: 'node' })), { kind: 'pid', pid: 100 });
    assert.deepEqual(expectationOf(lease('web', 3000), service('web', { process: 'node' })), { kind: 'process', name: 'node' });
    assert.deepEqual(expectationOf(lease('web', 3000), service('web')), { kind: 'any' });
    assert.deepEqual(expectationOf(lease('web', 3000), null), { kind: 'any' });
  });

  it('the pid matches itself and its descendants, never its parent or a stranger', () => {
    assert.equal(isSelfOrDescendant(100, 100, parentOf), true);
    assert.equal(isSelfOrDescendant(102, 100, parentOf), true);
    assert.equal(isSelfOrDescendant(100, 101, parentOf), false);
    assert.equal(isSelfOrDescendant(200, 100, parentOf), false);
    assert.equal(isSelfOrDescendant(999, 100, parentOf), false, 'unknown pid');
    const loop: ParentOf = (pid) => (pid === 5 ? 6 : 5);
    assert.equal(isSelfOrDescendant(5, 7, loop), false, 'a cycle ends');
  });

  it('process names: exact, truncated to 15 characters, or with a version suffix', () => {
    assert.equal(processNameMatches('node', 'node'), true);
    assert.equal(processNameMatches('python', 'python3'), true);
    assert.equal(processNameMatches('python', 'python3.12'), true);
    assert.equal(processNameMatches('python', 'pythonista'), false);
    assert.equal(processNameMatches('postgres', 'postgrest'), false);
    assert.equal(processNameMatches('goblin-server-main', 'goblin-server-m'), true);
    assert.equal(processNameMatches('node', null), false);
  });

  it('a process expectation matches the name, the program of the command line or the container', () => {
    const expected = { kind: 'process', name: 'goblin' } as const;
    assert.equal(holderMatches(expected, listener(1, 10, 'goblin'), parentOf), true);
    assert.equal(holderMatches(expected, listener(1, 10, 'MainThread', { command: '/opt/bin/goblin --port 1' }), parentOf), true);
    assert.equal(holderMatches(expected, listener(1, 10, 'conmon', { container: { id: 'abc', name: 'goblin', image: 'x' } }), parentOf), true);
    assert.equal(holderMatches(expected, listener(1, 10, 'python'), parentOf), false);
    assert.equal(holderMatches(expected, listener(1, null, null), parentOf), false, 'a hidden holder is not the expected one');
    assert.equal(holderMatches({ kind: 'any' }, listener(1, null, null), parentOf), true);
  });
});

describe('printable', () => {
  it('keeps text from the process table on one line without control characters', () => {
    assert.equal(printable('node -e \nconst x = 1;\n\tserver.listen()'), 'node -e const x = 1; server.listen()');
    assert.equal(printable('evil\u001b[31mred\u0007'), 'evil?[31mred?');
    assert.equal(printable('plain name'), 'plain name');
  });

  it('reaches conflict messages and kill refusals', () => {
    const sneaky = listener(8767, 12345, 'py\nthon\u001b[2J');
    const [refusal] = killRefusals([sneaky], { selfPid: 1, ancestors: [], uid: 1000, force: false, ownerOf: () => ({ uid: 0, user: 'root' }) });
    assert.ok(!/[\n\u001b]/.test(refusal!.reason), refusal!.reason);
    const status = leaseStatus(lease('goblin', 8767), service('goblin', { process: 'goblin' }), [sneaky], parentOf);
    const [c] = findConflicts({ statuses: [status], allLeases: [status.lease], services: [], scope: 'app', configFile: null, listeners: new ListenerIndex([sneaky]), isAlive: () => true, parentOf });
    assert.ok(c!.message.startsWith("port 8767: expected 'goblin' but found 'py thon?[2J' (pid 12345)"), c!.message);
  });
});

describe('lease status', () => {
  it('idle, listening by the expected holder, or foreign', () => {
    const eph = lease('web', 3000, { ephemeral: true, pid: 100 });
    assert.equal(leaseStatus(eph, null, [], parentOf).state, 'idle');
    assert.equal(leaseStatus(eph, null, [listener(3000, 102, 'node')], parentOf).state, 'listening');
    const foreign = leaseStatus(eph, null, [listener(3000, 102, 'node'), listener(3000, 200, 'python', { address: '::1' })], parentOf);
    assert.equal(foreign.state, 'foreign');
    assert.deepEqual(foreign.foreign.map((h) => h.pid), [200]);
    assert.equal(leaseStatus(lease('db', 5432), null, [listener(5432, 200, 'anything')], parentOf).state, 'listening', 'no expectation: anyone');
  });

  it("berth.yaml's services apply to the config's own scope only, outside pools", () => {
    const config = { services: [service('db', { process: 'postgres' })] };
    assert.equal(serviceOf(lease('db', 5432), config, 'app')?.name, 'db');
    assert.equal(serviceOf(lease('db', 5432, { scope: 'other' }), config, 'app'), null);
    assert.equal(serviceOf(lease('db', 5432, { pool: 'p', slot: 0 }), config, 'app'), null);
  });

  it('listeners are annotated with the lease of exactly their protocol and port', () => {
    const leases = [lease('web', 3000), lease('dns', 3000, { protocol: 'udp', scope: 'other' })];
    const entries = annotateListeners([listener(3000, 1, 'a'), listener(300, 2, 'b'), listener(30000, 3, 'c'), listener(3000, 4, 'd', { protocol: 'udp' })], leases);
    assert.deepEqual(
      entries.map((e) => [e.port, e.protocol, e.lease]),
      [
        [3000, 'tcp', { scope: 'app', name: 'web' }],
        [300, 'tcp', null],
        [30000, 'tcp', null],
        [3000, 'udp', { scope: 'other', name: 'dns' }],
      ],
    );
  });
});

describe('conflicts', () => {
  function check(opts: { leases?: Lease[]; others?: Lease[]; services?: ServiceConfig[]; listeners?: Listener[]; alive?: number[] }) {
    const listeners = new ListenerIndex(opts.listeners ?? []);
    const config = { services: opts.services ?? [] };
    const statuses: LeaseStatus[] = (opts.leases ?? []).map((l) => leaseStatus(l, serviceOf(l, config, 'app'), listeners.at(l.protocol, l.port), parentOf));
    return findConflicts({
      statuses,
      allLeases: [...(opts.leases ?? []), ...(opts.others ?? [])],
      services: config.services,
      scope: 'app',
      configFile: '/p/berth.yaml',
      listeners,
      isAlive: (pid) => (opts.alive ?? []).includes(pid),
      parentOf,
    });
  }

  it('nothing to report when reality agrees', () => {
    assert.deepEqual(check({ leases: [lease('web', 3000, { ephemeral: true, pid: 100 })], listeners: [listener(3000, 101, 'node')], alive: [100] }), []);
  });

  it('foreign-holder names the expected and the found process', () => {
    const [c, ...rest] = check({ leases: [lease('goblin', 8767)], services: [service('goblin', { process: 'goblin' })], listeners: [listener(8767, 12345, 'python')] });
    assert.deepEqual(rest, []);
    assert.equal(c!.kind, 'foreign-holder');
    assert.ok(c!.message.startsWith("port 8767: expected 'goblin' but found 'python' (pid 12345)"), c!.message);
    assert.match(c!.message, /berth kill 8767/);
    assert.deepEqual(c!.lease, { scope: 'app', name: 'goblin' });
    assert.deepEqual(c!.holders.map((h) => h.pid), [12345]);
  });

  it('a foreign container is named with its stop hint', () => {
    const holder = listener(8080, 77, 'conmon', { container: { id: 'abc', name: 'web1', image: 'bb' } });
    const [c] = check({ leases: [lease('api', 8080, { ephemeral: true, pid: 100 })], listeners: [holder], alive: [100] });
    assert.equal(c!.kind, 'foreign-holder');
    assert.match(c!.message, /^port 8080: expected pid 100 or its children but found container 'web1' \(conmon, pid 77\)/);
    assert.match(c!.message, /stop the container web1 \(`podman stop web1`, or `berth kill 8080 --stop-container`\)/);
  });

  it('dead-owner for an ephemeral lease whose pid is gone', () => {
    const [c] = check({ leases: [lease('api', 5001, { ephemeral: true, pid: 4242 })], alive: [] });
    assert.equal(c!.kind, 'dead-owner');
    assert.match(c!.message, /app\/api belongs to pid 4242, which is gone.*berth gc/);
  });

  it('fixed-port-leased when another lease holds a service\'s fixed port; not for its own lease', () => {
    const services = [service('db', { port: 5432 })];
    assert.deepEqual(check({ leases: [lease('db', 5432)], services }), []);
    const [c] = check({ services, others: [lease('pg', 5432, { scope: 'other' })] });
    assert.equal(c!.kind, 'fixed-port-leased');
    assert.match(c!.message, /^port 5432: fixed for service 'db' in \/p\/berth.yaml, but leased to other\/pg/);
    assert.deepEqual(c!.services, ['db']);
    assert.deepEqual(check({ services: [service('db', { port: 5432, strategy: 'preferred' })], others: [lease('pg', 5432, { scope: 'other' })] }), [], 'a preferred port is not fixed');
  });

  it('duplicate-fixed-port for two services with one fixed port (per protocol)', () => {
    const conflicts = check({ services: [service('a', { port: 7000 }), service('b', { port: 7000 }), service('c', { port: 7000, protocol: 'udp' })] });
    assert.deepEqual(
      conflicts.map((c) => [c.kind, c.services]),
      [['duplicate-fixed-port', ['a', 'b']]],
    );
    assert.match(conflicts[0]!.message, /services 'a' and 'b' in \/p\/berth.yaml both have fixed tcp port 7000/);
  });

  it('fixed-port-in-use when a process holds a fixed port no lease holds, unless it is the expected process', () => {
    const [c] = check({ services: [service('db', { port: 5432 })], listeners: [listener(5432, 300, 'python')] });
    assert.equal(c!.kind, 'fixed-port-in-use');
    assert.match(c!.message, /^port 5432: fixed for 'db' in \/p\/berth.yaml, but taken by 'python' \(pid 300\) and no lease holds it/);
    assert.deepEqual(check({ services: [service('db', { port: 5432, process: 'postgres' })], listeners: [listener(5432, 300, 'postgres')] }), []);
  });

  it('fixedPortOf: a port with no strategy, or strategy fixed', () => {
    assert.equal(fixedPortOf(service('a', { port: 1 })), 1);
    assert.equal(fixedPortOf(service('a', { port: 1, strategy: 'fixed' })), 1);
    assert.equal(fixedPortOf(service('a', { port: 1, strategy: 'preferred' })), null);
    assert.equal(fixedPortOf(service('a')), null);
  });

  it('conflicts come ordered by kind, then port', () => {
    const conflicts = check({
      leases: [lease('z', 9000, { ephemeral: true, pid: 100 }), lease('y', 8000, { ephemeral: true, pid: 4242 })],
      services: [service('a', { port: 7000 }), service('b', { port: 7000 })],
      listeners: [listener(9000, 200, 'x'), listener(7000, 200, 'x')],
      alive: [100],
    });
    assert.deepEqual(
      conflicts.map((c) => [c.kind, c.port]),
      [
        ['foreign-holder', 9000],
        ['dead-owner', 8000],
        ['duplicate-fixed-port', 7000],
        ['fixed-port-in-use', 7000],
      ],
    );
  });
});

describe('kill policy', () => {
  const ctx: KillPolicyContext = {
    selfPid: 500,
    ancestors: [400, 300, 1],
    uid: 1000,
    force: false,
    ownerOf: (pid) => (pid === 666 ? { uid: 0, user: 'root' } : { uid: 1000, user: 'dev' }),
  };

  it('allows an ordinary process of the same user', () => {
    assert.deepEqual(killRefusals([listener(3000, 1234, 'node')], ctx), []);
  });

  it('refuses pid 1, berth itself, its parent and further ancestors, whatever --force says', () => {
    for (const force of [false, true]) {
      const refusals = killRefusals([listener(3000, 1, 'init'), listener(3000, 500, 'node'), listener(3000, 400, 'bash'), listener(3000, 300, 'tmux')], { ...ctx, force });
      assert.deepEqual(
        refusals.map((r) => [r.kind, r.pid]),
        [
          ['init', 1],
          ['self', 500],
          ['ancestor', 400],
          ['ancestor', 300],
        ],
      );
      assert.match(refusals[2]!.reason, /berth's parent/);
    }
  });

  it("refuses another user's process unless forced", () => {
    const [r] = killRefusals([listener(3000, 666, 'nginx')], ctx);
    assert.equal(r!.kind, 'other-user');
    assert.match(r!.reason, /nginx \(pid 666\) belongs to user root.*--force/);
    assert.deepEqual(killRefusals([listener(3000, 666, 'nginx')], { ...ctx, force: true }), []);
    assert.deepEqual(killRefusals([listener(3000, 666, 'nginx')], { ...ctx, uid: null }), [], 'no uids on this platform');
  });

  it('refuses a container\'s published port and names the stop command, even forced', () => {
    const docker = listener(8080, 77, 'docker-proxy', { container: { id: 'abc', name: 'web1', image: 'nginx' } });
    const [r] = killRefusals([docker], { ...ctx, force: true });
    assert.equal(r!.kind, 'container');
    assert.equal(r!.instead, 'docker stop web1');
    assert.match(r!.reason, /container 'web1' publishes port 8080.*`docker stop web1`/);
    assert.equal(containerStopCommand(listener(8080, 77, 'conmon', { container: { id: 'abc', name: 'web1', image: 'bb' } })), 'podman stop web1');
    const [bare] = killRefusals([listener(8080, 78, 'docker-proxy')], ctx);
    assert.equal(bare!.kind, 'container', 'a docker-proxy without a known container');
    assert.equal(bare!.instead, 'docker ps --filter publish=8080, then docker stop NAME');
    const [vm] = killRefusals([listener(8080, null, null, { container: { id: 'abc', name: 'web2', image: 'x' } })], ctx);
    assert.equal(vm!.instead, 'docker stop web2', 'a published port whose proxy is not visible');
  });

  it('refuses the user-mode networks of rootless containers (pasta, passt, slirp4netns), naming the container stop instead', () => {
    for (const name of ['pasta', 'passt', 'pasta.avx2', 'passt.avx2', 'slirp4netns']) {
      const [r, ...rest] = killRefusals([listener(8080, 90, name)], { ...ctx, force: true });
      assert.equal(rest.length, 0, name);
      assert.equal(r!.kind, 'container', name);
      assert.equal(r!.instead, 'podman ps --filter publish=8080, then podman stop NAME', name);
      assert.match(r!.reason, new RegExp(`^${name.replace('.', '\\.')} \\(pid 90\\) forwards port 8080 into a rootless container's network; .*\`podman ps --filter publish=8080, then podman stop NAME\``), name);
    }
  });

  it('matches the full executable, not the 15-character process name: rootlessport-child, and rootlessport re-executed as exe', () => {
    const cut = listener(8080, 91, 'rootlessport-ch');
    const withExe = { ...ctx, executableOf: (pid: number) => (pid === 91 ? 'rootlessport-child' : pid === 92 ? 'rootlessport' : null) };
    const [r] = killRefusals([cut], withExe);
    assert.equal(r!.kind, 'container');
    assert.equal(r!.instead, 'podman ps --filter publish=8080, then podman stop NAME');
    assert.match(r!.reason, /^rootlessport-child \(pid 91\) holds port 8080 for a container; killing rootlessport-child would break the container engine\. Run `podman ps/);
    assert.equal(r!.process, 'rootlessport-ch', 'the refusal keeps the listed name');
    assert.equal(killRefusals([listener(8080, 92, 'exe')], withExe)[0]?.instead, 'podman ps --filter publish=8080, then podman stop NAME');
    assert.equal(containerStopCommand(cut, 'rootlessport-child'), 'podman ps --filter publish=8080, then podman stop NAME');
    assert.deepEqual(killRefusals([listener(8080, 93, 'node')], withExe), [], 'an ordinary process is still allowed');
  });

  it('refuses a holder it cannot see; one refusal per process', () => {
    const [r, ...rest] = killRefusals([listener(3000, null, null), listener(3000, null, null, { address: '::1' })], ctx);
    assert.equal(r!.kind, 'hidden');
    assert.equal(rest.length, 1, 'two hidden sockets on two addresses are two refusals');
    assert.equal(killRefusals([listener(3000, 1, 'init'), listener(3000, 1, 'init', { address: '::' })], ctx).length, 1);
  });

  it('targets: :PORT and PORT are ports, other words lease names; bad ports are usage errors', () => {
    assert.deepEqual(parseKillTarget(':3000'), { port: 3000 });
    assert.deepEqual(parseKillTarget('3000'), { port: 3000 });
    assert.deepEqual(parseKillTarget('web'), { lease: 'web' });
    for (const bad of [':0', ':70000', '0', '65536', ':web', '']) assert.throws(() => parseKillTarget(bad), UsageError, bad);
  });

  it('signals by name, with or without SIG, any case, or by number; unknown ones are usage errors', () => {
    assert.equal(parseSignal('TERM'), 'SIGTERM');
    assert.equal(parseSignal('sigint'), 'SIGINT');
    assert.equal(parseSignal('SIGKILL'), 'SIGKILL');
    assert.equal(parseSignal('9'), 'SIGKILL');
    assert.equal(parseSignal(15), 'SIGTERM');
    for (const bad of ['FOO', 'SIG', '0', '999', '-9', '']) assert.throws(() => parseSignal(bad), UsageError, bad);
  });
});

describe('kill on a machine that changes under it (fake)', () => {
  const PID = 4_200_001;
  const PORT = 3000;
  const kill = (machine: FakeMachine) => killPort({ port: PORT, protocol: 'tcp', lease: null, graceMs: 100, machine });
  /** A machine where PID (named `web`) listens on PORT. */
  function holderOnPort(): FakeMachine {
    const m = new FakeMachine();
    m.addProcess({ pid: PID, name: 'web', command: 'node web.js' });
    m.addListener({ port: PORT, pid: PID });
    return m;
  }

  it('the holder exits after listing and a newcomer takes its pid and port: the newcomer is never signalled', async () => {
    const m = holderOnPort();
    const killProcesses = m.killProcesses.bind(m);
    m.killProcesses = async (pids, opts) => {
      m.addProcess({ pid: PID, name: 'newcomer' });
      m.addListener({ port: PORT, pid: PID });
      return killProcesses(pids, opts);
    };
    const report = await kill(m);
    assert.deepEqual(m.sent, []);
    assert.deepEqual(report.killed, [{ pid: PID, process: 'web', command: 'node web.js', user: '1000', signals: [], exited: true, error: null }]);
    assert.equal(report.free, false, 'the newcomer holds the port');
    assert.equal(m.processInfo(PID)?.name, 'newcomer');
  });

  it('the pid changes hands while being listed: the newcomer holds no socket and is left alone', async () => {
    const m = holderOnPort();
    const listeners = m.listeners.bind(m);
    m.listeners = async (query) => {
      const found = await listeners(query);
      m.addProcess({ pid: PID, name: 'newcomer' });
      return found;
    };
    const report = await kill(m);
    assert.deepEqual(m.sent, []);
    assert.deepEqual(report.killed.map((k) => [k.pid, k.signals, k.error]), [[PID, [], NOT_HOLDING]]);
  });

  it('a holder already gone when recorded is never signalled, even if its pid is taken later', async () => {
    const m = holderOnPort();
    const listeners = m.listeners.bind(m);
    m.listeners = async (query) => {
      const found = await listeners(query);
      m.exit(PID);
      return found;
    };
    const killProcesses = m.killProcesses.bind(m);
    m.killProcesses = async (pids, opts) => {
      m.addProcess({ pid: PID, name: 'newcomer' });
      m.addListener({ port: PORT, pid: PID });
      return killProcesses(pids, opts);
    };
    const report = await kill(m);
    assert.deepEqual(m.sent, []);
    assert.deepEqual(report.killed.map((k) => [k.pid, k.process, k.signals, k.exited]), [[PID, 'web', [], true]]);
  });

  it('a container port forwarder whose comm is cut to 15 characters is refused by its full name', async () => {
    const m = new FakeMachine();
    m.addProcess({ pid: PID, name: 'rootlessport-child' });
    m.addListener({ port: PORT, pid: PID });
    assert.equal((await m.listeners())[0]!.process, 'rootlessport-ch');
    await assert.rejects(kill(m), (error: unknown) => {
      assert.ok(error instanceof RefusedError);
      assert.deepEqual((error.details?.refusals as { kind: string; instead: string }[]).map((r) => [r.kind, r.instead]), [['container', `podman ps --filter publish=${PORT}, then podman stop NAME`]]);
      return true;
    });
    assert.deepEqual(m.sent, []);
  });
});

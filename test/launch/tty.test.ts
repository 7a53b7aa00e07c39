/**
 * berth up on a real terminal (a pseudo-terminal made by util-linux `script`): the live
 * status line (counts per state, who waits for what) drawn in place and never written off
 * a terminal; the stranger prompt answered kill, reassign and abort; Ctrl-C from the
 * terminal stops the stack. And the exit-4 stop path: a process outside the stack that
 * holds a service's port when the stop ends is named with the port, exit 4.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { after, test } from 'node:test';
import { BERTH_BIN, cliEnv } from '../helpers/cli.js';
import { Stack, chatty, fixture, freePort, portFree, waitFor } from './harness.js';

const stacks: Stack[] = [];
const children: ChildProcess[] = [];
after(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const s of stacks) await s.cleanup();
});

/** A process of the test's own listening on `port` of `host`; resolves once it listens. */
async function stranger(port: number, host = '127.0.0.1'): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['-e', `require('http').createServer((q, r) => r.end('stranger')).listen(${port}, '${host}', () => console.log('ready'))`], { stdio: ['ignore', 'pipe', 'ignore'] });
  children.push(child);
  await new Promise((resolve) => child.stdout!.once('data', resolve));
  return child;
}

const gone = (child: ChildProcess): boolean => child.exitCode !== null || child.signalCode !== null;

/** `berth up ARGS` on a pseudo-terminal: its screen output collects in `out`; `type` sends keys. */
function onTerminal(stack: Stack, args: string[] = []): { child: ChildProcess; out: () => string; type: (keys: string) => void; exited: Promise<number | null> } {
  // `script` runs the command through $SHELL -c. `exec` makes berth the terminal's
  // foreground process itself, as when a person types the command: dash (the /bin/sh of a
  // machine without SHELL set, as in CI) would otherwise wait in between and die of the
  // Ctrl-C meant for berth. SHELL is pinned so the test is the same everywhere.
  const command = ['exec', process.execPath, BERTH_BIN, 'up', ...args].join(' ');
  const child = spawn('script', ['-qfec', command, '/dev/null'], { cwd: stack.dir, env: { ...cliEnv({ env: stack.env() }), TERM: 'xterm', SHELL: '/bin/sh' }, stdio: ['pipe', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, out: () => out, type: (keys) => void child.stdin!.write(keys), exited };
}

/** db is slow to be ready, so api is seen waiting for it. */
async function slowPair(): Promise<{ stack: Stack; ports: number[] }> {
  const ports = [await freePort(), await freePort()];
  const stack = new Stack(fixture('db', ports[0]!, 'health: {http: /}', { FX_READY_DELAY_MS: 1500 }) + chatty('api', ports[1]!, 'depends_on: [db]'));
  stacks.push(stack);
  return { stack, ports };
}

test('on a terminal: the status line is redrawn in place with who waits for what; kill answers the prompt; Ctrl-C stops', async () => {
  const { stack, ports } = await slowPair();
  const holder = await stranger(ports[1]!);
  const t = onTerminal(stack);
  await waitFor(`the prompt\n${t.out()}`, () => /\[k\]ill it, \[r\]eassign api to a free port, or \[a\]bort\?/.test(t.out()));
  assert.match(t.out(), new RegExp(`port ${ports[1]} \\(api\\) is held by pid ${holder.pid} \\(node\\)`), 'the holder is named');
  t.type('k\r');
  await waitFor('the stranger to be killed', () => gone(holder));
  await waitFor(`the stack to be healthy\n${t.out()}`, () => /Ctrl-C stops the stack/.test(t.out()));
  const screen = t.out();
  assert.match(screen, /\r\x1b\[2K\x1b\[7mberth lt-[0-9a-f]+: [^\r\n]*api waits for db \(starting\)/, 'a status line drawn in place says api waits for db');
  assert.match(screen, /\x1b\[7mberth lt-[0-9a-f]+: 2 healthy\x1b\[0m/, 'then: both healthy');
  assert.match(screen, /\x1b\[\d+mapi \|\x1b\[0m hit|\x1b\[\d+mapi \|\x1b\[0m chatty/, 'log lines, coloured, scroll above it');
  t.type('\x03');
  assert.equal(await t.exited, 0, t.out());
  assert.deepEqual(stack.processes(), []);
  for (const p of ports) assert.ok(await portFree(p));
});

test('on a terminal: reassign moves the service to a free port and starts it there; abort starts nothing', async () => {
  const { stack, ports } = await slowPair();
  const holder = await stranger(ports[1]!);
  const aborted = onTerminal(stack);
  await waitFor(`the prompt\n${aborted.out()}`, () => /\[a\]bort\?/.test(aborted.out()));
  aborted.type('a\r');
  assert.equal(await aborted.exited, 4, aborted.out());
  assert.match(aborted.out(), /aborted: port \d+ \(api\) is held by pid/);
  assert.deepEqual(stack.processes(), [], 'nothing was started');
  assert.ok(!gone(holder), 'the stranger was left alone');

  const t = onTerminal(stack);
  await waitFor(`the prompt\n${t.out()}`, () => /\[a\]bort\?/.test(t.out()));
  t.type('r\r');
  await waitFor(`the stack to be healthy\n${t.out()}`, () => /Ctrl-C stops the stack/.test(t.out()));
  const api = stack.service('api')!;
  assert.equal(api.state, 'healthy');
  assert.notEqual(api.ports[0]!.port, ports[1], 'api runs on its new port');
  assert.ok(!gone(holder), 'the stranger keeps its port');
  t.type('\x03');
  assert.equal(await t.exited, 0, t.out());
  assert.deepEqual(stack.processes(), []);
});

test('off a terminal no status line is written', async () => {
  const { stack } = await slowPair();
  stack.start();
  await stack.waitStates(['db', 'api'], ['healthy']);
  await waitFor('the up summary', () => stack.out.includes('Ctrl-C stops the stack'));
  process.kill(stack.up!.pid!, 'SIGTERM');
  assert.equal(await stack.exited(), 0, stack.out);
  assert.doesNotMatch(stack.out, /\x1b\[/, 'no escape sequence at all: no status line, no colour');
});

test('a stop that leaves a port held by a process outside the stack exits 4 naming the port and the holder', async () => {
  const port = await freePort();
  const stack = new Stack(chatty('api', port, 'stop: {grace: 500ms}'));
  stacks.push(stack);
  stack.start();
  await stack.waitStates(['api'], ['healthy']);
  // The test's own process takes api's port on another loopback address: api's tree can be
  // stopped whole, and the port is still not free.
  const holder = await stranger(port, '127.0.0.2');
  process.kill(stack.up!.pid!, 'SIGTERM');
  assert.equal(await stack.exited(), 4, stack.out);
  assert.match(stack.out, new RegExp(`api: port ${port} is still held by [^\\n]*pid ${holder.pid}`), stack.out);
  assert.deepEqual(stack.processes(), [], "api's own processes are gone");
  holder.kill('SIGKILL');
});

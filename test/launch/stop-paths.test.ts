/**
 * Every way a stack is stopped leaves 0 processes and 0 held ports, with a tree that
 * fights back: a service whose processes ignore SIGTERM (SIGKILL after its grace), one
 * that daemonises (setsid, root exits 0), one with a worker and grandchild. SIGTERM to
 * berth's pid alone (an IDE stop button), SIGHUP (terminal closed), `berth down` from
 * another terminal; `berth up` SIGKILLed (the daemon stops the stack its client left), and
 * `berth down` after the daemon running the stack was SIGKILLed.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import fs from 'node:fs';
import path from 'node:path';
import { Stack, fixture, freePort, portFree, waitFor } from './harness.js';

const stacks: Stack[] = [];
after(async () => {
  for (const s of stacks) await s.cleanup();
});

async function toughStack(): Promise<{ stack: Stack; ports: number[] }> {
  const ports = [await freePort(), await freePort(), await freePort()];
  const stack = new Stack(
    fixture('stubborn', ports[0]!, 'health: {tcp: true}\nstop: {grace: 500ms}', { FX_IGNORE_TERM: 1, FX_WORKER: 1, FX_GRANDCHILD: 1 }) +
      fixture('daemon', ports[1]!, 'health: {tcp: true}', { FX_DAEMONISE: 1 }) +
      fixture('api', ports[2]!, 'depends_on: [stubborn, daemon]\nhealth: {http: /}', { FX_WORKER: 1, FX_GRANDCHILD: 1 }),
  );
  stacks.push(stack);
  stack.start();
  await stack.waitStates(['stubborn', 'daemon', 'api'], ['healthy']);
  return { stack, ports };
}

async function assertNothingLeft(stack: Stack, ports: readonly number[]): Promise<void> {
  assert.deepEqual(stack.processes(), [], `no process of the stack is left\n${stack.out}`);
  for (const port of ports) assert.ok(await portFree(port), `port ${port} is free`);
}

for (const signal of ['SIGTERM', 'SIGHUP'] as const) {
  test(`${signal} to berth up's pid alone stops the whole stack`, async () => {
    const { stack, ports } = await toughStack();
    const daemon = stack.service('daemon')!;
    assert.ok(daemon.pid !== null && daemon.state === 'healthy', 'the daemonised server is supervised');
    process.kill(stack.up!.pid!, signal);
    assert.equal(await stack.exited(), 0, stack.out);
    await assertNothingLeft(stack, ports);
  });
}

test('berth down from another terminal stops a running foreground stack', async () => {
  const { stack, ports } = await toughStack();
  const res = stack.run(['down']);
  assert.equal(res.code, 0, res.stderr);
  assert.match(res.stdout, /stopped api, daemon, stubborn/);
  assert.equal(await stack.exited(), 0, stack.out);
  await assertNothingLeft(stack, ports);
});

test('SIGKILL to berth up: the daemon sees its client gone and stops the stack itself', async () => {
  const { stack, ports } = await toughStack();
  process.kill(stack.up!.pid!, 'SIGKILL');
  await stack.exited();
  await waitFor('the daemon to stop the stack of its vanished client', () => stack.processes().length === 0);
  await assertNothingLeft(stack, ports);
  const res = stack.run(['down']);
  assert.equal(res.code, 0, res.stderr);
  assert.equal(stack.run(['list', '--json', '--scope', stack.scope]).stdout.trim(), '[]', 'the ephemeral leases are released');
});

test('berth down after the daemon running a foreground stack was SIGKILLed finds and stops every process from the record', async () => {
  const { stack, ports } = await toughStack();
  const daemonPid = (JSON.parse(fs.readFileSync(path.join(stack.state, 'daemon.json'), 'utf8')) as { pid: number }).pid;
  process.kill(daemonPid, 'SIGKILL');
  assert.notEqual(await stack.exited(), 0, 'berth up says its stack was left behind');
  assert.match(stack.out, /berth down/);
  assert.ok(stack.processes().length >= 6, 'the services outlive their supervisor');
  const ps = stack.ps();
  assert.ok(ps.every((s) => s.reason?.includes('berth down stops it')), JSON.stringify(ps));
  const refused = stack.run(['up', '--non-interactive']);
  assert.equal(refused.code, 4, 'a second up refuses while the orphans run');
  assert.match(refused.stderr, /berth down/);
  const res = stack.run(['down']);
  assert.equal(res.code, 0, res.stderr);
  assert.match(res.stdout, /stopped from the record/);
  await assertNothingLeft(stack, ports);
  assert.equal(stack.run(['list', '--json', '--scope', stack.scope]).stdout.trim(), '[]', 'the ephemeral leases are released');
});

/**
 * Every way a stack is stopped leaves 0 processes and 0 held ports, with a tree that
 * fights back: a service whose processes ignore SIGTERM (SIGKILL after its grace), one
 * that daemonises (setsid, root exits 0), one with a worker and grandchild. SIGTERM to
 * berth's pid alone (an IDE stop button), SIGHUP (terminal closed), `berth down` from
 * another terminal, and `berth down` after `berth up` was SIGKILLed.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { Stack, fixture, freePort, portFree } from './harness.js';

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

test('berth down after berth up was SIGKILLed finds and stops every process from the record', async () => {
  const { stack, ports } = await toughStack();
  process.kill(stack.up!.pid!, 'SIGKILL');
  await stack.exited();
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

/**
 * A foreground `berth up` runs its stack in the daemon, attached: from another terminal,
 * `berth stop|start|restart SERVICE` and `berth down SERVICE` work on it (the latter
 * stopping the service's dependents too and leaving the rest running), its services got
 * the environment of the shell that ran `berth up` (not the daemon's), and a whole
 * `berth down` ends the foreground command with exit 0 and nothing left.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { Stack, chatty, fixture, freePort, portFree } from './harness.js';

const stacks: Stack[] = [];
after(async () => {
  for (const s of stacks) await s.cleanup();
});

function ok(stack: Stack, args: string[]): string {
  const res = stack.run(args);
  assert.equal(res.code, 0, `berth ${args.join(' ')}: ${res.stderr}\n${stack.out}`);
  return res.stdout;
}

test('stop, start, restart and down SERVICE from another terminal work on a foreground stack', async () => {
  const ports = [await freePort(), await freePort(), await freePort()];
  const stack = new Stack(chatty('db', ports[0]!) + chatty('api', ports[1]!, 'depends_on: [db]') + chatty('web', ports[2]!, 'depends_on: [api]'));
  stacks.push(stack);
  stack.shell = { BERTH_TEST_MARK: 'daemon-shell' };
  ok(stack, ['daemon', 'start']);
  stack.shell = { BERTH_TEST_MARK: 'up-shell' };
  stack.start();
  await stack.waitStates(['db', 'api', 'web'], ['healthy']);
  assert.match(ok(stack, ['logs', 'api']), /mark=up-shell/, "the foreground stack runs with berth up's environment");

  ok(stack, ['stop', 'web']);
  let rows = await stack.waitStates(['web'], ['stopped']);
  assert.deepEqual(rows.map((r) => r.state), ['healthy', 'healthy', 'stopped']);
  assert.ok(await portFree(ports[2]!), "web's port is free once it is stopped");
  ok(stack, ['start', 'web']);
  await stack.waitStates(['web'], ['healthy']);

  const apiPid = stack.service('api')!.pid;
  const webPid = stack.service('web')!.pid;
  ok(stack, ['restart', 'api']);
  rows = await stack.waitStates(['db', 'api', 'web'], ['healthy']);
  assert.notEqual(rows[1]!.pid, apiPid, 'api runs a new process');
  assert.notEqual(rows[2]!.pid, webPid, 'web, which depends on api, was restarted with it');

  assert.match(ok(stack, ['down', 'api']), /stopped web, api/, 'dependents first');
  rows = await stack.waitStates(['api', 'web'], ['stopped']);
  assert.equal(rows[0]!.state, 'healthy', 'db runs on');
  for (const p of [ports[1]!, ports[2]!]) assert.ok(await portFree(p), `port ${p} is free`);
  assert.equal(stack.up!.exitCode, null, 'the foreground berth up still runs the rest');

  assert.match(ok(stack, ['down']), /stopped/);
  assert.equal(await stack.exited(), 0, stack.out);
  assert.deepEqual(stack.processes(), []);
  for (const p of ports) assert.ok(await portFree(p), `port ${p} is free`);
});

test('a foreground up --timeout that is not met exits 1 naming what is not up, with the stack stopped', async () => {
  const port = await freePort();
  const stack = new Stack(fixture('never', port, 'health: {tcp: true}', { FX_NO_LISTEN: 1 }));
  stacks.push(stack);
  stack.start(['--timeout', '2']);
  assert.equal(await stack.exited(), 1, stack.out);
  assert.match(stack.out, /not up within the timeout: never starting; stack stopped/);
  assert.deepEqual(stack.processes(), []);
});

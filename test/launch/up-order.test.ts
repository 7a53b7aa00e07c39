/**
 * berth up with real process trees: dependency order with fragile services (each exits at
 * once when what it needs is not ready), a crash whose orphaned worker holds the port
 * (restarted with 0 orphans), and Ctrl-C to the terminal's process group stopping it all.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { Stack, fixture, freePort, portFree, waitFor } from './harness.js';

const stacks: Stack[] = [];
after(async () => {
  for (const s of stacks) await s.cleanup();
});

test('a fragile stack starts in dependency order, crashes restart with no orphan, Ctrl-C leaves nothing', async () => {
  const [db, api, web] = [await freePort(), await freePort(), await freePort()];
  const stack = new Stack(
    fixture('db', db, 'health: {http: /, interval: 200ms}', { FX_READY_DELAY_MS: 1500 }) +
      fixture('api', api, 'depends_on: [db]\nhealth: {http: /, interval: 200ms}', { FX_NEEDS: 'DB_URL', FX_WORKER: 1, FX_GRANDCHILD: 1 }) +
      fixture('web', web, 'depends_on: [api]\nhealth: {tcp: true}', { FX_NEEDS: 'API_URL' }),
  );
  stacks.push(stack);
  stack.start();
  await stack.waitStates(['db', 'api', 'web'], ['healthy']);
  assert.doesNotMatch(stack.out, /EARLY/, 'no service started before its dependency was healthy');
  assert.deepEqual(stack.ps().map((s) => s.restarts), [0, 0, 0]);
  // ps reads the record; the prefixed lines come through berth up's stdout pipe, maybe later.
  await waitFor('the log lines of every start', () => stack.out.includes('web | [berth] starting'));
  const order = ['db', 'api', 'web'].map((n) => stack.out.indexOf(`${n.padEnd(3)} | [berth] starting`));
  assert.ok(order[0]! >= 0 && order[0]! < order[1]! && order[1]! < order[2]!, `started in order db, api, web:\n${stack.out}`);

  // The crash of api's root leaves its worker (which holds api's port) and grandchild behind.
  const before = stack.service('api')!;
  assert.ok(before.pids.length >= 3, `api's tree is tracked: ${JSON.stringify(before)}`);
  process.kill(before.pid!, 'SIGKILL');
  const after1 = await waitFor('api restarted and healthy', () => {
    const s = stack.service('api');
    return s !== undefined && s.restarts === 1 && s.state === 'healthy' && s.pid !== before.pid ? s : null;
  });
  for (const pid of before.pids) assert.ok(!after1.pids.includes(pid), 'the new tree shares no process with the old');
  const left = stack.processes();
  for (const pid of before.pids) assert.ok(!left.includes(pid), `pid ${pid} of the crashed tree is gone`);

  // Ctrl-C in a terminal: SIGINT to the whole foreground process group (berth up alone).
  process.kill(-stack.up!.pid!, 'SIGINT');
  assert.equal(await stack.exited(), 0, stack.out);
  assert.deepEqual(stack.processes(), [], 'no process of the stack is left');
  for (const port of [db, api, web]) assert.ok(await portFree(port), `port ${port} is free`);
  assert.deepEqual(stack.ps().map((s) => s.state), ['stopped', 'stopped', 'stopped']);
});

/**
 * Log following through the daemon: `GET .../logs?follow=true` sends the tail first, then
 * each line a running service prints as it prints it (no state change needed), and ends
 * when the stack is stopped; `berth logs -f` rides on it. A stack the daemon runs gets the
 * environment of the shell that asked for it, not the daemon's.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { after, test } from 'node:test';
import { BERTH_BIN, cliEnv } from '../helpers/cli.js';
import { Stack, chatty, freePort, hit, openStream, waitFor, type Frame } from './harness.js';

const stacks: Stack[] = [];
const children: ChildProcess[] = [];
after(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const s of stacks) {
    s.run(['daemon', 'stop']);
    await s.cleanup();
  }
});

const texts = (frames: readonly Frame[]): string[] => frames.filter((f) => f.event === 'log').map((f) => (f.data as { text: string }).text);

test('logs?follow=true streams the tail, then new lines as they are printed, and ends when the stack is stopped; berth logs -f follows too', async () => {
  const ports = [await freePort(), await freePort()];
  const stack = new Stack(chatty('talk', ports[0]!) + chatty('quiet', ports[1]!));
  stacks.push(stack);
  // The daemon starts from one shell; the stack is asked for from another.
  stack.shell = { BERTH_TEST_MARK: 'daemon-shell' };
  assert.equal(stack.run(['daemon', 'start']).code, 0);
  stack.shell = { BERTH_TEST_MARK: 'caller-shell' };
  const up = stack.run(['up', '-d']);
  assert.equal(up.code, 0, up.stderr);

  const one = openStream(stack, 'GET', `/v1/services/${stack.scope}/talk/logs?follow=true&tail=3`);
  assert.equal(await one.status, 200);
  await waitFor('the tail', () => texts(one.frames).some((t) => t.startsWith('chatty ')));
  assert.ok(texts(one.frames).includes('mark=caller-shell'), `the service got the calling shell's environment: ${texts(one.frames).join(' / ')}`);
  const first = one.frames[0]!.data as { name: string; stream: string; text: string; time: string };
  assert.deepEqual(Object.keys(first).sort(), ['name', 'stream', 'text', 'time']);
  assert.equal(first.name, 'talk');

  const all = openStream(stack, 'GET', `/v1/services/${stack.scope}/-/logs?follow=true&tail=0`);
  assert.equal(await all.status, 200);
  const follower = spawn(process.execPath, [BERTH_BIN, 'logs', '-f', '--tail', '0', 'talk'], { cwd: stack.dir, env: cliEnv({ env: stack.env() }), stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(follower);
  let followed = '';
  follower.stdout!.on('data', (d) => (followed += d));
  follower.stderr!.on('data', (d) => (followed += d));

  // No state changes from here: only lines. Each hit is repeated until the follower has
  // seen one, since it may subscribe after the first hit's line was printed.
  await hit(ports[0]!, '/one');
  await waitFor('the new line on the service stream', () => texts(one.frames).includes('hit /one'));
  await waitFor('the new line on the all-services stream', () => texts(all.frames).includes('hit /one'));
  await hit(ports[1]!, '/other');
  await waitFor("the other service's line on the all-services stream", () => texts(all.frames).includes('hit /other'));
  assert.ok(!texts(one.frames).includes('hit /other'), "talk's stream carries only talk's lines");
  await waitFor('berth logs -f to print a new line', async () => {
    await hit(ports[0]!, '/two');
    return followed.includes('hit /two');
  });
  assert.doesNotMatch(followed, /quiet/, 'only the named service');

  const down = stack.run(['down']);
  assert.equal(down.code, 0, down.stderr);
  await one.ended;
  await all.ended;
  const code = await new Promise<number | null>((resolve) => (follower.exitCode !== null ? resolve(follower.exitCode) : follower.once('exit', (c) => resolve(c))));
  assert.equal(code, 0, `berth logs -f ends with the stack\n${followed}`);
});

test('follow of a stack that does not run in the daemon sends what its files hold and ends', async () => {
  const port = await freePort();
  const stack = new Stack(chatty('talk', port));
  stacks.push(stack);
  assert.equal(stack.run(['up', '-d']).code, 0);
  assert.equal(stack.run(['down']).code, 0);
  const s = openStream(stack, 'GET', `/v1/services/${stack.scope}/talk/logs?follow=true`);
  assert.equal(await s.status, 200);
  await s.ended;
  assert.ok(texts(s.frames).some((t) => t.startsWith('chatty ')), texts(s.frames).join(' / '));
  const missing = openStream(stack, 'GET', `/v1/services/${stack.scope}/nope/logs?follow=true`);
  assert.equal(await missing.status, 404);
});

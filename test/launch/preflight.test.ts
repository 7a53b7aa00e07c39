/**
 * What berth up checks before and while it runs: a stranger on a leased port is named and
 * nothing starts under --non-interactive; --check-only starts nothing; subsets and
 * --no-deps; a crash loop backs off, then fails; a stranger answering a service's health
 * check is reported by pid, never counted healthy.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import http from 'node:http';
import { after, test } from 'node:test';
import { Stack, fixture, freePort, waitFor } from './harness.js';

const stacks: Stack[] = [];
const servers: http.Server[] = [];
after(async () => {
  for (const s of servers) s.close();
  for (const s of stacks) await s.cleanup();
});

function stranger(port: number): Promise<http.Server> {
  return new Promise((resolve) => {
    const server = http.createServer((_req, res) => res.end('stranger says ok\n'));
    servers.push(server);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

async function threeTier(): Promise<{ stack: Stack; ports: number[] }> {
  const ports = [await freePort(), await freePort(), await freePort()];
  const stack = new Stack(
    fixture('db', ports[0]!, 'health: {http: /}') + fixture('api', ports[1]!, 'depends_on: [db]\nhealth: {http: /}') + fixture('web', ports[2]!, 'depends_on: [api]'),
  );
  stacks.push(stack);
  return { stack, ports };
}

test('a stranger on a leased port is named before anything starts; --non-interactive exits 4; --check-only reports it', async () => {
  const { stack, ports } = await threeTier();
  const clean = stack.run(['up', '--check-only']);
  assert.equal(clean.code, 0, clean.stderr);
  assert.match(clean.stdout, /start order db → api → web; shutdown web → api → db/);
  const apiEnv = clean.stdout.split('\n').find((l) => l.startsWith('api: '))!.split(' ');
  for (const v of [`PORT=${ports[1]}`, `API_PORT=${ports[1]}`, `DB_PORT=${ports[0]}`, `DB_URL=http://localhost:${ports[0]}`]) assert.ok(apiEnv.includes(v), `api gets ${v}: ${apiEnv.join(' ')}`);
  assert.ok(!apiEnv.some((v) => v.startsWith('WEB_')), 'not the variables of a service it does not depend on');
  assert.match(clean.stdout, /every leased port is free/);

  const server = await stranger(ports[1]!);
  const check = stack.run(['up', '--check-only']);
  assert.equal(check.code, 4, check.stderr);
  assert.match(check.stderr, new RegExp(`port ${ports[1]} \\(api\\) is held by pid ${process.pid} \\(node\\)`));

  const refused = stack.run(['up', '--non-interactive']);
  assert.equal(refused.code, 4);
  assert.match(refused.stderr, new RegExp(`pid ${process.pid} \\(node\\).*Nothing was started`));
  assert.deepEqual(stack.processes(), [], 'nothing started');
  assert.equal(stack.run(['list', '--json', '--scope', stack.scope]).stdout.trim(), '[]', 'no lease left behind');
  await new Promise((r) => server.close(r));
});

test('config errors exit 2 naming the key, before anything else', async () => {
  const stack = new Stack('  a:\n    command: [x]\n    depends_on: [b]\n  b:\n    command: [y]\n    depends_on: [a]\n');
  stacks.push(stack);
  const res = stack.run(['up', '--check-only']);
  assert.equal(res.code, 2);
  assert.match(res.stderr, /services\.a\.depends_on: dependency cycle a → b → a/);
});

test('a subset starts with its dependencies; --no-deps starts it alone', async () => {
  const { stack } = await threeTier();
  stack.start(['api']);
  await stack.waitStates(['db', 'api'], ['healthy']);
  assert.deepEqual(stack.ps().map((s) => s.name), ['db', 'api'], 'web is not part of it');
  process.kill(stack.up!.pid!, 'SIGTERM');
  assert.equal(await stack.exited(), 0);

  stack.out = '';
  stack.start(['web', '--no-deps']);
  await stack.waitStates(['web'], ['running']);
  assert.deepEqual(stack.ps().map((s) => s.name), ['web']);
  process.kill(stack.up!.pid!, 'SIGTERM');
  assert.equal(await stack.exited(), 0);
  assert.deepEqual(stack.processes(), []);
});

test('a crash loop restarts with growing backoff, then fails after max_restarts', async () => {
  const port = await freePort();
  const stack = new Stack(fixture('flaky', port, 'restart: {policy: on-failure, max_restarts: 2, backoff: {base: 50ms, factor: 3, cap: 1s}}', { FX_CRASH_AFTER_MS: 100 }));
  stacks.push(stack);
  stack.start();
  assert.equal(await stack.exited(), 1, 'berth up ends when nothing is left to run, exit 1 for the failure');
  assert.match(stack.out, /restart 1 in 50 ms/);
  assert.match(stack.out, /restart 2 in 150 ms/);
  assert.match(stack.out, /flaky failed \(crashed 3 times in a row \(last: exit code 1\); max_restarts is 2\)/);
  const row = stack.service('flaky')!;
  assert.equal(row.state, 'failed');
  assert.equal(row.restarts, 2);
  assert.deepEqual(stack.processes(), []);
});

test('a stranger answering on the port of a starting service is named and never counted healthy', async () => {
  const port = await freePort();
  const stack = new Stack(fixture('slow', port, 'health: {http: /, interval: 200ms, start_period: 30s}\nrestart: "no"', { FX_READY_DELAY_MS: 60_000 }));
  stacks.push(stack);
  stack.start();
  await stack.waitStates(['slow'], ['starting']);
  await stranger(port);
  const row = await waitFor('slow to be reported unhealthy', () => {
    const s = stack.service('slow');
    return s !== undefined && s.state !== 'starting' ? s : null;
  });
  assert.equal(row.state, 'unhealthy', JSON.stringify(row));
  assert.match(row.reason ?? '', new RegExp(`port ${port} is answered by pid ${process.pid} \\(node\\).*not by slow`));
  assert.doesNotMatch(stack.out, /\[berth\] healthy/);
  // Its health history: every check failed, the stranger named in the latest; never more than 20 kept.
  type Checks = { checks: { at: string; ok: boolean; detail: string }[] };
  const full = await waitFor('20 checks kept', () => {
    const s = stack.service('slow') as unknown as Checks | undefined;
    return s !== undefined && s.checks.length === 20 ? s.checks : null;
  });
  assert.ok(full.every((c) => !c.ok));
  assert.match(full.at(-1)!.detail, new RegExp(`answered by pid ${process.pid}`));
  const later = await waitFor('a newer check', () => {
    const s = stack.service('slow') as unknown as Checks | undefined;
    return s !== undefined && s.checks[0]!.at > full[0]!.at ? s.checks : null;
  });
  assert.equal(later.length, 20, 'the oldest check made room for the newest');
  process.kill(stack.up!.pid!, 'SIGTERM');
  await stack.exited();
  assert.deepEqual(stack.processes(), []);
});

test('--kill-strangers kills the holder of a leased port (by berth kill rules), then starts the stack', async () => {
  const port = await freePort();
  const holder = spawn(process.execPath, ['-e', `require('http').createServer((q, r) => r.end('x')).listen(${port}, '127.0.0.1', () => console.log('ready'))`], { stdio: ['ignore', 'pipe', 'ignore'] });
  try {
    await new Promise((resolve) => holder.stdout!.once('data', resolve));
    const stack = new Stack(fixture('api', port, 'health: {http: /}'));
    stacks.push(stack);
    stack.start(['--kill-strangers']);
    await stack.waitStates(['api'], ['healthy']);
    assert.match(stack.out, new RegExp(`port ${port} \\(api\\) is held by pid ${holder.pid} \\(node\\).*killing it`));
    assert.notEqual(holder.exitCode ?? holder.signalCode, null, 'the stranger is gone');
    process.kill(stack.up!.pid!, 'SIGTERM');
    assert.equal(await stack.exited(), 0);
  } finally {
    holder.kill('SIGKILL');
  }
});

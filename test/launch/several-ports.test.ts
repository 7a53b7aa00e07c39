/**
 * A service with several leases (`leases:`): its health check on a named one
 * (`health: {port: NAME}`), every port listed by ps with who listens, each port wired
 * into its environment and its dependents', checked for a holder before anything starts,
 * and free again after the stop.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, test } from 'node:test';
import { Stack, fixture, freePort, portFree, waitFor } from './harness.js';

const stacks: Stack[] = [];
const servers: http.Server[] = [];
after(async () => {
  for (const s of servers) s.close();
  for (const s of stacks) await s.cleanup();
});

/** api listens (in its worker) on its own port and on api-admin's; its check asks the admin port; web needs API_ADMIN_URL. */
async function adminStack(): Promise<{ stack: Stack; api: number; admin: number; web: number }> {
  const [api, admin, web] = [await freePort(), await freePort(), await freePort()];
  const stack = new Stack(
    fixture('api', api, 'leases: [api-admin]\nhealth: {http: /, port: api-admin}', { FX_WORKER: 1, FX_ALSO: 'API_ADMIN_PORT' }) +
      `  api-admin:\n    port: ${admin}\n    http: true\n` +
      fixture('web', web, 'depends_on: [api]\nhealth: {tcp: true}', { FX_NEEDS: 'API_ADMIN_URL' }),
  );
  stacks.push(stack);
  return { stack, api, admin, web };
}

type Row = { name: string; ports: { name: string; port: number; listening: boolean; stranger: string | null }[]; checks: { ok: boolean; detail: string }[] };

test('a service with two leases: checked on the named one, both listed and wired, both free after the stop', async () => {
  const { stack, api, admin, web } = await adminStack();
  const plan = stack.run(['up', '--check-only']);
  assert.equal(plan.code, 0, plan.stderr);
  assert.match(plan.stdout, new RegExp(`\\napi\\s+${api} api-admin=${admin}\\s`), 'the plan shows both ports');
  const webEnv = plan.stdout.split('\n').find((l) => l.startsWith('web: '))!.split(' ');
  assert.ok(webEnv.includes(`API_ADMIN_URL=http://localhost:${admin}`), `a dependent gets the admin URL: ${webEnv.join(' ')}`);

  stack.start();
  await stack.waitStates(['api', 'web'], ['healthy']);
  assert.doesNotMatch(stack.out, /EARLY/, 'web found API_ADMIN_URL answering');
  const row = stack.ps().find((s) => s.name === 'api') as unknown as Row;
  assert.deepEqual(row.ports.map((p) => [p.name, p.port, p.listening, p.stranger]), [['api', api, true, null], ['api-admin', admin, true, null]]);
  assert.equal(row.checks.at(-1)?.detail, `GET http://127.0.0.1:${admin}/ → 200`, 'the check asks the named lease');

  process.kill(-stack.up!.pid!, 'SIGINT');
  assert.equal(await stack.exited(), 0, stack.out);
  assert.deepEqual(stack.processes(), []);
  for (const p of [api, admin, web]) assert.ok(await portFree(p), `port ${p} is free`);
  assert.equal(stack.run(['list', '--json', '--scope', stack.scope]).stdout.trim(), '[]', 'every lease released, the extra one too');
});

test('a stranger on a service\'s second port is named before anything starts', async () => {
  const { stack, admin } = await adminStack();
  const server = await new Promise<http.Server>((resolve) => {
    const s = http.createServer((_req, res) => res.end('stranger\n'));
    servers.push(s);
    s.listen(admin, '127.0.0.1', () => resolve(s));
  });
  const refused = stack.run(['up', '--non-interactive']);
  assert.equal(refused.code, 4, refused.stderr);
  assert.match(refused.stderr, new RegExp(`port ${admin} \\(api-admin of api\\) is held by pid ${process.pid} \\(node\\)`));
  assert.deepEqual(stack.processes(), [], 'nothing started');
  await new Promise((r) => server.close(r));
  await waitFor('the admin port to be free', () => portFree(admin));
});

test('a stranger that comes later on a service\'s second port makes it unhealthy, named', async () => {
  const { stack, admin } = await adminStack();
  stack.start();
  await stack.waitStates(['api', 'web'], ['healthy']);
  // api's worker holds 127.0.0.1:ADMIN; the stranger takes the same port on another loopback address.
  const server = await new Promise<http.Server>((resolve) => {
    const s = http.createServer((_req, res) => res.end('stranger\n'));
    servers.push(s);
    s.listen(admin, '127.0.0.2', () => resolve(s));
  });
  const [row] = await stack.waitStates(['api'], ['unhealthy']).then((rows) => rows.filter((r) => r.name === 'api'));
  assert.match(row!.reason ?? '', new RegExp(`port ${admin} \\(api-admin\\) is answered by pid ${process.pid} \\(node\\).*not by api`));
  assert.match(row!.ports.find((p) => p.port === admin)?.stranger ?? '', new RegExp(`pid ${process.pid}`));
  await new Promise((r) => server.close(r));
  await stack.waitStates(['api'], ['healthy']);
  process.kill(-stack.up!.pid!, 'SIGINT');
  assert.equal(await stack.exited(), 0, stack.out);
  assert.deepEqual(stack.processes(), []);
});

test('down after the daemon running the stack was SIGKILLed stops the service and frees and releases every one of its leases', async () => {
  const { stack, api, admin, web } = await adminStack();
  stack.start();
  await stack.waitStates(['api', 'web'], ['healthy']);
  const daemonPid = (JSON.parse(fs.readFileSync(path.join(stack.state, 'daemon.json'), 'utf8')) as { pid: number }).pid;
  process.kill(daemonPid, 'SIGKILL');
  assert.notEqual(await stack.exited(), 0, 'berth up says its stack was left behind');
  const down = stack.run(['down']);
  assert.equal(down.code, 0, down.stderr);
  assert.match(down.stdout, /stopped from the record/);
  assert.deepEqual(stack.processes(), []);
  for (const p of [api, admin, web]) assert.ok(await portFree(p), `port ${p} is free`);
  assert.equal(stack.run(['list', '--json', '--scope', stack.scope]).stdout.trim(), '[]', 'the extra lease too');
});

/**
 * A library user reads and stops a daemon's launched stack through RemoteEngine.services:
 * a real `berth serve`, a stack started by `berth up -d` as a user starts it, then the
 * statuses (with health history), stop and start of one service, down, and up, logs and a
 * partial down from the library, over the daemon's unix socket. Errors come back as the typed errors the daemon threw.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { RemoteEngine, NotFoundError, type ServiceStatus } from '../../src/index.js';
import { berthAsync, tempDir } from '../helpers/cli.js';
import { fixture, portFree, waitFor } from '../launch/harness.js';
import { daemonEnv, freePort, startDaemon, type Daemon } from '../server/harness.js';

const SCOPE = 'remote-services';
const project = tempDir('berth-remote-services-');
let d: Daemon;
let remote: RemoteEngine;
let ports: number[];

before(async () => {
  d = await startDaemon();
  ports = [await freePort(), await freePort()];
  fs.writeFileSync(path.join(project.dir, 'berth.yaml'), `project: ${SCOPE}\nservices:\n${fixture('db', ports[0]!, 'health: {http: /}')}${fixture('web', ports[1]!, 'depends_on: [db]\nhealth: {tcp: true}')}`);
  const up = await berthAsync(['up', '-d'], { cwd: project.dir, env: daemonEnv(d.state, d.db) });
  assert.equal(up.code, 0, up.stderr);
  remote = new RemoteEngine({ socketPath: d.socket, token: d.token, cwd: project.dir });
});
after(async () => {
  await remote?.close();
  // Whatever a failed test left running goes with the stack (and with the daemon's stop).
  d?.cli(['down'], { cwd: project.dir });
  await d?.stop();
  project.cleanup();
});

const states = (list: readonly ServiceStatus[]): string[][] => list.map((s) => [s.name, s.state]);

test('RemoteEngine.services lists the stack by its project directory or its scope, with health history', async () => {
  const byDir = await remote.services.list({ dir: project.dir });
  assert.deepEqual(states(byDir), [['db', 'healthy'], ['web', 'healthy']]);
  assert.equal(byDir[0]!.checks.at(-1)?.ok, true, JSON.stringify(byDir[0]!.checks));
  assert.deepEqual(byDir[1]!.ports.map((p) => p.port), [ports[1]]);
  assert.deepEqual(states(await remote.services.list({ scope: SCOPE })), states(byDir));
  assert.deepEqual(await remote.services.list({ scope: 'no-such-stack' }), []);
});

test('stop and start one service, then down the stack (twice: the second stops nothing); an unknown service is a NotFoundError', async () => {
  const stopped = await remote.services.stop({ dir: project.dir }, 'web');
  assert.deepEqual(states(stopped), [['db', 'healthy'], ['web', 'stopped']]);
  assert.ok(await portFree(ports[1]!), "web's port is free once stopped");
  await remote.services.start({ scope: SCOPE }, 'web');
  await waitFor('web healthy again', async () => (await remote.services.list({ scope: SCOPE })).find((s) => s.name === 'web')?.state === 'healthy');
  await assert.rejects(remote.services.restart({ scope: SCOPE }, 'nope'), (error: unknown) => error instanceof NotFoundError && /no service 'nope'/.test(error.message));

  const report = await remote.services.down({ dir: project.dir });
  assert.deepEqual([...report.stopped].sort(), ['db', 'web']);
  assert.deepEqual(report.problems, []);
  for (const p of ports) assert.ok(await portFree(p), `port ${p} is free`);
  assert.deepEqual(await remote.services.list({ scope: SCOPE }), [], 'the daemon forgot the stack');
  // A down of a stack already stopped is done, not an error (as berth down says).
  assert.deepEqual((await remote.services.down({ scope: SCOPE })).stopped, []);
});

test('up starts the stack again from the library; logs reads its lines; down of one service leaves the rest running', async () => {
  const result = await remote.services.up({ dir: project.dir });
  assert.equal(result.ok, true, JSON.stringify(result.failed));
  assert.deepEqual(states(result.services), [['db', 'healthy'], ['web', 'healthy']]);
  const dbLines = await remote.services.logs({ scope: SCOPE }, 'db');
  assert.ok(dbLines.length > 0 && dbLines.every((l) => l.service === 'db'), JSON.stringify(dbLines));
  assert.equal((await remote.services.logs({ scope: SCOPE }, undefined, { tail: 1 })).length, 1);
  await assert.rejects(remote.services.up({ dir: project.dir }), /already runs/);

  const some = await remote.services.down({ scope: SCOPE }, ['web']);
  assert.deepEqual(some.stopped, ['web']);
  assert.deepEqual(states(await remote.services.list({ scope: SCOPE })), [['db', 'healthy'], ['web', 'stopped']]);
  assert.ok(await portFree(ports[1]!), "web's port is free");
  const all = await remote.services.down({ scope: SCOPE });
  assert.deepEqual(all.problems, []);
  for (const p of ports) assert.ok(await portFree(p), `port ${p} is free`);
});

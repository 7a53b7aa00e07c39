/**
 * berth up -d: the daemon runs the stack and the command returns once it is healthy (or
 * exits 1 naming what failed); the API stops and starts one service, its events arrive on
 * the event stream, `berth down` stops the stack through the daemon, and after the daemon
 * is SIGKILLed `berth down` still finds every process from the record.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, test } from 'node:test';
import { Stack, fixture, freePort, portFree, waitFor } from './harness.js';

const stacks: Stack[] = [];
after(async () => {
  for (const s of stacks) {
    s.run(['daemon', 'stop']);
    await s.cleanup();
  }
});

/** One API request over the daemon's unix socket. */
function api(stack: Stack, method: string, url: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const token = fs.readFileSync(path.join(stack.state, 'api-token'), 'utf8').trim();
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: path.join(stack.state, 'berth.sock'), method, path: url, headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', Host: 'localhost' } }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      // JSON answers parsed; text ones (/metrics) as they are.
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: text === '' ? null : /json/.test(String(res.headers['content-type'])) ? JSON.parse(text) : text }));
    });
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

/** Collects `service` events of the daemon's event stream. */
function serviceEvents(stack: Stack): { events: { name: string; state: string }[]; close: () => void } {
  const token = fs.readFileSync(path.join(stack.state, 'api-token'), 'utf8').trim();
  const events: { name: string; state: string }[] = [];
  const req = http.get({ socketPath: path.join(stack.state, 'berth.sock'), path: '/v1/events', headers: { Authorization: `Bearer ${token}`, Host: 'localhost' } }, (res) => {
    let buffer = '';
    res.on('data', (d) => {
      buffer += d;
      const frames = buffer.split('\n\n');
      buffer = frames.pop() ?? '';
      for (const f of frames) if (f.startsWith('event: service\n')) events.push(JSON.parse(f.slice(f.indexOf('data: ') + 6)) as { name: string; state: string });
    });
  });
  req.on('error', () => undefined);
  return { events, close: () => req.destroy() };
}

/** Collects `stack` events of the daemon's event stream; `connected` once its snapshot came. */
function stackEvents(stack: Stack): { events: { scope: string; removed: boolean }[]; connected: Promise<void>; close: () => void } {
  const token = fs.readFileSync(path.join(stack.state, 'api-token'), 'utf8').trim();
  const events: { scope: string; removed: boolean }[] = [];
  let snapshot = (): void => undefined;
  const connected = new Promise<void>((resolve) => (snapshot = resolve));
  const req = http.get({ socketPath: path.join(stack.state, 'berth.sock'), path: '/v1/events', headers: { Authorization: `Bearer ${token}`, Host: 'localhost' } }, (res) => {
    let buffer = '';
    res.on('data', (d) => {
      buffer += d;
      const frames = buffer.split('\n\n');
      buffer = frames.pop() ?? '';
      for (const f of frames) {
        if (f.includes('event: snapshot\n')) snapshot();
        if (f.startsWith('event: stack\n')) events.push(JSON.parse(f.slice(f.indexOf('data: ') + 6)) as { scope: string; removed: boolean });
      }
    });
  });
  req.on('error', () => undefined);
  return { events, connected, close: () => req.destroy() };
}

test('up -d returns once healthy; the API stops and starts a service, with events; down stops it through the daemon', async () => {
  const ports = [await freePort(), await freePort()];
  const stack = new Stack(fixture('db', ports[0]!, 'health: {http: /}', { FX_READY_DELAY_MS: 500 }) + fixture('api', ports[1]!, 'depends_on: [db]\nhealth: {http: /}', { FX_NEEDS: 'DB_URL', FX_WORKER: 1 }));
  stacks.push(stack);
  const up = stack.run(['up', '-d', '--json']);
  assert.equal(up.code, 0, up.stderr);
  const result = JSON.parse(up.stdout) as { ok: boolean; services: { name: string; state: string }[] };
  assert.deepEqual(result.services.map((s) => [s.name, s.state]), [['db', 'healthy'], ['api', 'healthy']]);
  assert.deepEqual(stack.ps().map((s) => s.state), ['healthy', 'healthy'], 'ps reads the daemon-run stack');
  // Health history: db refused connections for its first half second, then answered.
  type Check = { at: string; ok: boolean; detail: string; durationMs: number };
  const dbChecks = (stack.ps().find((s) => s.name === 'db') as unknown as { checks: Check[] }).checks;
  assert.ok(dbChecks.length >= 2 && dbChecks.length <= 20, `ps --json has db's checks: ${JSON.stringify(dbChecks)}`);
  assert.deepEqual(dbChecks.at(-1)!.ok, true);
  assert.equal(dbChecks.at(-1)!.detail, `GET http://127.0.0.1:${ports[0]}/ → 200`);
  assert.ok(dbChecks.some((c) => !c.ok && /ECONNREFUSED/.test(c.detail)), 'the refused checks before db listened');
  assert.ok(dbChecks.every((c) => Number.isInteger(c.durationMs) && c.durationMs >= 0 && !Number.isNaN(Date.parse(c.at))));
  // The table shows the last five as marks, oldest first.
  const table = stack.run(['ps']);
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, /^NAME\s+STATE\s+CHECKS\s+PID\s+PORT/m);
  // (db is checked on: the marks may have moved on since the checks above, so only their form is asserted.)
  assert.match(table.stdout, new RegExp(`^db\\s+healthy\\s+[✓✗]{0,4}✓\\s+\\d+\\s+${ports[0]}\\s`, 'm'));

  const feed = serviceEvents(stack);
  try {
    const listed = await api(stack, 'GET', `/v1/services?scope=${stack.scope}`);
    assert.equal(listed.status, 200);
    assert.deepEqual((listed.json as { name: string }[]).map((s) => s.name), ['db', 'api']);
    const apiChecks = (listed.json as { name: string; checks: Check[] }[]).find((s) => s.name === 'api')!.checks;
    assert.equal(apiChecks.at(-1)?.ok, true, `GET /v1/services has api's checks: ${JSON.stringify(apiChecks)}`);
    // /metrics: a state set per service, its health and restarts, for a Grafana panel.
    const metrics = String((await api(stack, 'GET', '/metrics')).json);
    const series = (name: string, labels: string) => new RegExp(`^${name}\\{${labels}\\} (\\d+)$`, 'm').exec(metrics)?.[1];
    assert.equal(series('berth_service_state', `scope="${stack.scope}",service="api",state="healthy"`), '1', metrics);
    assert.equal(series('berth_service_state', `scope="${stack.scope}",service="api",state="failed"`), '0');
    assert.equal(series('berth_service_healthy', `scope="${stack.scope}",service="db"`), '1');
    assert.equal(series('berth_service_restarts', `scope="${stack.scope}",service="db"`), '0');
    const stopped = await api(stack, 'POST', `/v1/services/${stack.scope}/api/stop`, {});
    assert.equal(stopped.status, 200, JSON.stringify(stopped.json));
    assert.equal((stopped.json as { name: string; state: string }[]).find((s) => s.name === 'api')!.state, 'stopped');
    assert.ok(await portFree(ports[1]!), "api's port is free once it is stopped");
    const started = await api(stack, 'POST', `/v1/services/${stack.scope}/api/start`, {});
    assert.equal(started.status, 200);
    await stack.waitStates(['api'], ['healthy']);
    await waitFor('api events on the stream', () => ['stopping', 'stopped', 'starting', 'healthy'].every((st) => feed.events.some((e) => e.name === 'api' && e.state === st)));
    const logs = await api(stack, 'GET', `/v1/services/${stack.scope}/api/logs?tail=2`);
    assert.equal((logs.json as unknown[]).length, 2);
  } finally {
    feed.close();
  }

  const restart = stack.run(['restart', 'api', '--json']);
  assert.equal(restart.code, 0, restart.stderr);
  await stack.waitStates(['api'], ['healthy']);
  const status = stack.run(['status']);
  assert.match(status.stdout, /SERVICE\s+STATE[\s\S]*\napi\s+healthy/, 'berth status shows the service states');

  const stacksFeed = stackEvents(stack);
  // The CLI runs synchronously: the stream must be open before it.
  await stacksFeed.connected;
  const down = stack.run(['down']);
  assert.equal(down.code, 0, down.stderr);
  assert.match(down.stdout, /run by the daemon/);
  try {
    await waitFor('the stack removed event', () => stacksFeed.events.some((e) => e.scope === stack.scope && e.removed));
  } finally {
    stacksFeed.close();
  }
  assert.deepEqual(stack.processes(), []);
  for (const p of ports) assert.ok(await portFree(p));
});

test('a service that fails makes up -d exit 1 naming it with its last lines; down after the daemon was SIGKILLed stops everything', async () => {
  const ports = [await freePort(), await freePort()];
  const stack = new Stack(fixture('ok', ports[0]!, 'health: {tcp: true}', { FX_WORKER: 1, FX_GRANDCHILD: 1 }) + fixture('bad', ports[1]!, 'restart: "no"', { FX_NEEDS: 'NOPE_URL' }));
  stacks.push(stack);
  const up = stack.run(['up', '-d']);
  assert.equal(up.code, 1, up.stderr);
  assert.match(up.stderr, /bad failed \(exited \(exit code 3\); restart: no\); last lines:\n[\s\S]*\n {2}EARLY: NOPE_URL=undefined not ready\n/);
  const daemonPid = JSON.parse(fs.readFileSync(path.join(stack.state, 'daemon.json'), 'utf8')).pid as number;
  assert.ok(stack.processes().length >= 3, 'ok runs with its worker and grandchild');
  process.kill(daemonPid, 'SIGKILL');
  await waitFor('the daemon to be gone', () => {
    try {
      process.kill(daemonPid, 0);
      return false;
    } catch {
      return true;
    }
  });
  const down = stack.run(['down']);
  assert.equal(down.code, 0, down.stderr);
  assert.match(down.stdout, /stopped from the record/);
  assert.deepEqual(stack.processes(), []);
  for (const p of ports) assert.ok(await portFree(p));
});

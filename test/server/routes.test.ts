/**
 * Every route of the API against a real daemon (`berth serve --port P`, as a user starts
 * it), each with a success whose body is the object `berth ... --json` prints for the same
 * thing, read from the same store. Routes that answer with data about the machine (ports,
 * free) are compared by shape; the rest exactly. The last test checks that every route of
 * ROUTES answered 200 at least once.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { matchRoute } from '../../src/http/match.js';
import { ROUTES } from '../../src/http/routes.js';
import { tempDir, type CliResult } from '../helpers/cli.js';
import { freePort, killQuietly, listener, openStream, request, startDaemon, waitExit, type Daemon, type Req, type Res } from './harness.js';

/**
 * The project the daemon runs in. Ports a test listens on come from the OS (freePort), never
 * from the first free port at 4000 that every parallel test's fresh store would hand out:
 * the kill routes kill what listens on a port, and it must be this test's own process.
 */
const config = (webPort: number, gobPort: number): string => `project: shop
services:
  web:
    purpose: storefront
    port: ${webPort}
  api:
    category: api
  gob:
    port: ${gobPort}
    process: goblin
pools:
  agents:
    ports: { backend: 27101, frontend: 27201 }
    step: 2
    slots: 3
    urls: ["http://localhost:\${frontend}/oauth/callback"]
`;

const LEASE_KEYS = ['host', 'scope', 'name', 'port', 'protocol', 'purpose', 'pool', 'slot', 'strategy', 'ephemeral', 'pid', 'createdAt', 'updatedAt'].sort();

function cliJson(res: CliResult): any {
  assert.equal(res.code, 0, `berth exited ${res.code}: ${res.stderr}`);
  return JSON.parse(res.stdout);
}

function okJson(res: Res, what: string): any {
  assert.equal(res.status, 200, `${what}: ${res.status} ${res.text.slice(0, 500)}`);
  assert.match(String(res.headers['content-type']), /^application\/json/, what);
  return res.json;
}

function assertLease(value: unknown): void {
  assert.deepEqual(Object.keys(value as object).sort(), LEASE_KEYS);
}

describe('every route against a real daemon', () => {
  const { dir, cleanup } = tempDir('berth-routes-');
  let d: Daemon;
  const children: ChildProcess[] = [];
  /** Route ids that answered 200. */
  const covered = new Set<string>();
  const call = async (req: Req): Promise<Res> => {
    const res = await request(d, req);
    const pathname = new URL(req.path, 'http://x').pathname;
    const m = matchRoute(req.method ?? 'GET', pathname);
    if (res.status === 200 && m.kind === 'route') covered.add(m.route.id);
    return res;
  };
  const get = async (p: string, what = p): Promise<any> => okJson(await call({ path: p }), `GET ${what}`);
  const send = async (method: string, p: string, body: unknown = {}): Promise<any> => okJson(await call({ method, path: p, body }), `${method} ${p}`);
  const spawnListener = async (port: number): Promise<ChildProcess> => {
    const child = await listener(port);
    children.push(child);
    return child;
  };

  before(async () => {
    const webPort = await freePort();
    let gobPort = await freePort();
    while (gobPort === webPort) gobPort = await freePort();
    fs.writeFileSync(path.join(dir, 'berth.yaml'), config(webPort, gobPort));
    d = await startDaemon({ dir });
  });
  after(async () => {
    for (const c of children) killQuietly(c);
    await d?.stop();
    cleanup();
  });

  it('health answers without a token; info and project describe the daemon', async () => {
    const health = await call({ path: '/v1/health', token: null });
    assert.deepEqual(okJson(health, 'health'), { ok: true });
    const info = await get('/v1/info');
    assert.equal(typeof info, 'object');
    const project = await get('/v1/project?scope=shop');
    assert.equal(project.scope, 'shop');
    assert.deepEqual(
      project.config.services.map((s: { name: string }) => s.name),
      ['web', 'api', 'gob'],
    );
    assert.equal(fs.realpathSync(project.projectDir), fs.realpathSync(dir));
  });

  it('PUT gets or allocates one lease: the object `berth get`/`list --json` prints', async () => {
    const web = await send('PUT', '/v1/leases/shop/web', { purpose: 'storefront' });
    assertLease(web);
    assert.equal(web.scope, 'shop');
    assert.equal(web.name, 'web');
    assert.deepEqual(await send('PUT', '/v1/leases/shop/web', {}), web, 'get-or-allocate: the same lease again');
    const slashed = await send('PUT', `/v1/leases/${encodeURIComponent('model_a/app1')}/db`, { category: 'database', protocol: 'tcp', purpose: 'the db' });
    assert.equal(slashed.scope, 'model_a/app1');
    assert.equal(slashed.purpose, 'the db');
    const fixed = await freePort();
    const pinned = await send('PUT', '/v1/leases/model_a%2Fapp1/fixed', { port: fixed, strategy: 'fixed' });
    assert.equal(pinned.port, fixed);
    const hashed = await send('PUT', '/v1/leases/model_a%2Fapp1/hashed', { strategy: 'hash', range: '20000-29999' });
    assert.ok(hashed.port >= 20000 && hashed.port <= 29999);
    assert.deepEqual(await get('/v1/leases'), cliJson(d.cli(['list', '--json'])));
    assert.deepEqual(await get('/v1/leases?scope=model_a%2Fapp1'), cliJson(d.cli(['list', '--scope', 'model_a/app1', '--json'])));
    assert.deepEqual(await get('/v1/leases/shop/web'), cliJson(d.cli(['list', '--scope', 'shop', '--json']))[0]);
  });

  it('POST allocate: every service of berth.yaml, or the named requests, all or none', async () => {
    const all = await send('POST', '/v1/leases/shop/allocate', {});
    assert.deepEqual(all.map((l: { name: string }) => l.name).sort(), ['api', 'gob', 'web']);
    const api = all.find((l: { name: string }) => l.name === 'api');
    assert.ok(api.port >= 8000 && api.port <= 8999, 'category api');
    const named = await send('POST', '/v1/leases/jobs/allocate', { requests: [{ name: 'worker', prefer: 24100 }, { name: 'queue', range: '24200-24299' }] });
    assert.deepEqual(
      named.map((l: { name: string }) => l.name),
      ['worker', 'queue'],
    );
    named.forEach(assertLease);
    assert.deepEqual(named, cliJson(d.cli(['list', '--scope', 'jobs', '--json'])).sort((a: { name: string }, b: { name: string }) => (a.name === 'worker' ? -1 : b.name === 'worker' ? 1 : 0)));
  });

  it('reassign, release (named and DELETE), hand-over and release-owned', async () => {
    const target = await freePort();
    const moved = await send('POST', '/v1/leases/jobs/worker/reassign', { port: target });
    assert.equal(moved.port, target);
    assert.equal(cliJson(d.cli(['get', 'worker', '--scope', 'jobs', '--json'])).port, target);
    const released = await send('POST', '/v1/leases/jobs/release', { names: ['worker'] });
    assert.deepEqual(
      released.map((l: { name: string }) => l.name),
      ['worker'],
    );
    const deleted = await send('DELETE', '/v1/leases/jobs/queue');
    assert.deepEqual(
      deleted.map((l: { name: string }) => l.name),
      ['queue'],
    );
    assert.deepEqual(cliJson(d.cli(['list', '--scope', 'jobs', '--json'])), []);

    const eph = await send('PUT', '/v1/leases/eph/tmp', { ephemeral: true, pid: process.pid });
    assert.equal(eph.ephemeral, true);
    assert.equal(eph.pid, process.pid);
    const handed = await send('POST', '/v1/leases/eph/hand-over', { names: ['tmp'], from: process.pid, to: d.child.pid });
    assert.equal(handed[0].pid, d.child.pid);
    const owned = await send('POST', '/v1/leases/eph/release-owned', { names: ['tmp'], pids: [d.child.pid] });
    assert.deepEqual(
      owned.map((l: { name: string }) => l.name),
      ['tmp'],
    );
    await send('PUT', '/v1/leases/eph/again', {});
    const whole = await send('POST', '/v1/leases/eph/release', {});
    assert.deepEqual(
      whole.map((l: { name: string }) => l.name),
      ['again'],
    );
  });

  it('pools: status, definition, urls and reserve, as `berth pools`/`urls --pool` print', async () => {
    const slot = await send('POST', '/v1/pools/agents/reserve', { scope: 'agent-1' });
    assert.deepEqual(
      slot.map((l: { name: string; port: number }) => [l.name, l.port]),
      [
        ['backend', 27101],
        ['frontend', 27201],
      ],
    );
    assert.deepEqual(slot, cliJson(d.cli(['list', '--scope', 'agent-1', '--json'])));
    const pools = await get('/v1/pools');
    assert.deepEqual(pools, cliJson(d.cli(['pools', '--json'])));
    assert.equal(pools[0].used, 1);
    const def = await get('/v1/pools/agents');
    assert.equal(def.name, 'agents');
    assert.deepEqual(def.roles, ['backend', 'frontend']);
    assert.deepEqual(await get('/v1/pools/agents/urls'), cliJson(d.cli(['urls', '--pool', 'agents', '--json'])));
  });

  it('reality: who, ports, status and free, with a listener of our own', async () => {
    const a = await send('PUT', '/v1/leases/killme/a', { port: await freePort() });
    const held = await spawnListener(a.port);
    const who = await get(`/v1/ports/${a.port}`);
    assert.deepEqual(who, cliJson(d.cli(['who', String(a.port), '--json'])));
    assert.equal(who.holders[0].pid, held.pid);
    assert.equal(who.lease.name, 'a');
    const ports = await get('/v1/ports');
    const mine = ports.find((p: { port: number }) => p.port === a.port);
    assert.equal(mine.pid, held.pid);
    assert.equal(mine.lease.scope, 'killme');
    const cliPorts = cliJson(d.cli(['ports', '--json']));
    assert.deepEqual(Object.keys(mine).sort(), Object.keys(cliPorts.find((p: { port: number }) => p.port === a.port)).sort());
    const udp = await get('/v1/ports?protocol=udp');
    assert.ok(udp.every((p: { protocol: string }) => p.protocol === 'udp'));
    const status = await get('/v1/status?scope=killme');
    assert.deepEqual(status, cliJson(d.cli(['status', '--scope', 'killme', '--json'])));
    assert.equal(status[0].state, 'listening');
    const all = await get('/v1/status?all=true');
    assert.ok(all.length >= 4);
    const free = await get('/v1/free?from=24000&count=3');
    assert.deepEqual(Object.keys(free).sort(), Object.keys(cliJson(d.cli(['free', '--from', '24000', '--count', '3', '--json']))).sort());
    assert.equal(free.ports.length, 3);
    assert.ok(free.ports.every((p: number) => p >= 24000));
    const band = await get('/v1/free?range=24500-24599&count=1&protocol=tcp');
    assert.ok(band.ports[0] >= 24500 && band.ports[0] <= 24599);
  });

  it('conflicts: a listener that is not the expected process, as `berth check --json` prints', async () => {
    const gob = cliJson(d.cli(['get', 'gob', '--scope', 'shop', '--json']));
    await spawnListener(gob.port);
    const found = await get('/v1/conflicts?scope=shop');
    assert.ok(found.length >= 1, 'node on the port where goblin is expected');
    const cli = d.cli(['check', '--scope', 'shop', '--json']);
    assert.equal(cli.code, 1, 'the CLI exits 1 when it finds conflicts');
    assert.deepEqual(found, JSON.parse(cli.stdout));
    assert.ok(found.some((c: { port: number }) => c.port === gob.port));
    const every = await get('/v1/conflicts?all=true');
    assert.ok(every.length >= found.length);
  });

  it('the uDOS routes: status, services, one service, conflicts, report and env, with their shapes', async () => {
    const web = cliJson(d.cli(['get', 'web', '--scope', 'shop', '--json']));
    const up = await spawnListener(web.port);
    // No ?scope=: the project the daemon was started in (berth.yaml's project: shop).
    const status = await get('/api/ports/status');
    assert.deepEqual(Object.keys(status).sort(), ['conflicts', 'services', 'shutdown_order', 'startup_order', 'timestamp']);
    assert.ok(!Number.isNaN(Date.parse(status.timestamp)));
    assert.deepEqual(Object.keys(status.services).sort(), ['api', 'gob', 'web']);
    for (const [name, s] of Object.entries<any>(status.services)) {
      assert.equal(s.name, name);
      assert.equal(typeof s.port, 'number');
      assert.ok(['running', 'stopped', 'conflict'].includes(s.status));
      assert.ok(s.pid === null || typeof s.pid === 'number');
    }
    assert.equal(status.services.web.status, 'running');
    assert.equal(status.services.web.pid, up.pid);
    assert.equal(status.services.web.port, web.port);
    assert.equal(status.services.gob.status, 'conflict', 'node listens where goblin is expected');
    assert.equal(status.services.api.status, 'stopped');
    assert.equal(status.services.api.pid, null);
    assert.deepEqual(status.startup_order, ['web', 'api', 'gob'], 'berth.yaml order');
    assert.deepEqual(status.shutdown_order, ['gob', 'api', 'web']);
    assert.ok(status.conflicts.length >= 1);
    assert.deepEqual(await get('/api/ports/status?scope=shop').then((s) => s.services), status.services);

    const services = await get('/api/ports/services');
    assert.deepEqual(services.services, Object.values(status.services));
    assert.deepEqual(await get('/api/ports/services/web'), status.services.web);
    const conflicts = await get('/api/ports/conflicts?scope=shop');
    assert.deepEqual(conflicts, { conflicts: status.conflicts });

    const report = await call({ path: '/api/ports/report' });
    assert.equal(report.status, 200);
    assert.match(String(report.headers['content-type']), /^text\/plain/);
    assert.match(report.text, new RegExp(`web\\s+port ${web.port}\\s+running \\(pid ${up.pid}\\)`));
    assert.match(report.text, /conflict\(s\):/);

    const env = await call({ path: '/api/ports/env' });
    assert.equal(env.status, 200);
    assert.match(String(env.headers['content-type']), /^text\/x-shellscript/);
    assert.match(env.text, /^#!\/bin\/sh\n/);
    assert.match(env.text, new RegExp(`^export WEB_PORT='${web.port}'$`, 'm'));
  });

  it('kill routes: by port, by lease, and the uDOS kill by service and by port; each says who died', async () => {
    const a = cliJson(d.cli(['get', 'a', '--scope', 'killme', '--json']));
    const byPort = await send('POST', `/v1/ports/${a.port}/kill`, { graceMs: 2000 });
    assert.equal(byPort.port, a.port);
    assert.equal(byPort.free, true);
    assert.equal(byPort.killed.length, 1);
    assert.notEqual(await waitExit(children[0]!, 5000), undefined, 'the listener is gone');

    const b = await send('PUT', '/v1/leases/killme/b', { port: await freePort() });
    const heldB = await spawnListener(b.port);
    const byLease = await send('POST', '/v1/leases/killme/b/kill', { signal: 'SIGTERM' });
    assert.equal(byLease.killed[0].pid, heldB.pid);
    assert.equal(byLease.lease.name, 'b');

    const web = cliJson(d.cli(['get', 'web', '--scope', 'shop', '--json']));
    const udosService = await send('POST', '/api/ports/services/web/kill', {});
    assert.equal(udosService.port, web.port);
    assert.equal(udosService.free, true);
    const gob = cliJson(d.cli(['get', 'gob', '--scope', 'shop', '--json']));
    const udosPort = await send('POST', `/api/ports/ports/${gob.port}/kill`, {});
    assert.equal(udosPort.port, gob.port);
    assert.equal(udosPort.killed.length, 1);
    for (const c of children) assert.notEqual(await waitExit(c, 5000), undefined, `listener ${c.pid} is gone`);
    assert.equal((await get('/api/ports/status')).services.web.status, 'stopped');
  });

  it('wiring: env (json, vars, dotenv, shell) and urls, as `berth env`/`berth urls` print', async () => {
    // json (the default) is the object `berth env --json` prints; vars is the engine's data
    // (what the remote engine rebuilds): each variable with the lease it comes from.
    assert.deepEqual(await get('/v1/env?scope=shop'), cliJson(d.cli(['env', '--scope', 'shop', '--json'])));
    assert.deepEqual(await get('/v1/env?scope=shop&format=json&urls=true&host=127.0.0.1'), cliJson(d.cli(['env', '--scope', 'shop', '--json', '--urls', '--host', '127.0.0.1'])));
    const vars = await get('/v1/env?scope=shop&format=vars');
    for (const v of vars) assert.deepEqual(Object.keys(v).sort(), ['lease', 'name', 'value']);
    const asObject = (list: { name: string; value: string }[]) => Object.fromEntries(list.map((v) => [v.name, v.value]));
    assert.deepEqual(asObject(vars), cliJson(d.cli(['env', '--scope', 'shop', '--json'])));
    for (const format of ['dotenv', 'shell']) {
      const res = await call({ path: `/v1/env?scope=shop&format=${format}` });
      assert.equal(res.status, 200);
      assert.match(String(res.headers['content-type']), /^text\/plain/);
      assert.equal(res.text, d.cli(['env', '--scope', 'shop', '--format', format]).stdout);
    }
    assert.deepEqual(await get('/v1/urls?scope=shop'), cliJson(d.cli(['urls', '--scope', 'shop', '--json'])));
    assert.deepEqual(await get('/v1/urls?scope=shop&host=127.0.0.1'), cliJson(d.cli(['urls', '--scope', 'shop', '--host', '127.0.0.1', '--json'])));
  });

  it('history and the event list: the changes `berth history --json` prints', async () => {
    assert.deepEqual(await get('/v1/history?limit=20'), cliJson(d.cli(['history', '--limit', '20', '--json'])));
    assert.deepEqual(await get('/v1/history?scope=shop&name=web'), cliJson(d.cli(['history', 'web', '--scope', 'shop', '--json'])));
    const web = cliJson(d.cli(['get', 'web', '--scope', 'shop', '--json']));
    assert.deepEqual(await get(`/v1/history?port=${web.port}&since=1h`), cliJson(d.cli(['history', `:${web.port}`, '--since', '1h', '--json'])));
    const last = (await get('/v1/events/last')).id;
    assert.ok(Number.isInteger(last) && last > 0);
    const first = await get('/v1/events/after/0?limit=3');
    assert.deepEqual(
      first.map((e: { id: number }) => e.id),
      [1, 2, 3],
    );
    const newest = await get(`/v1/events/after/${last - 1}`);
    assert.equal(newest.length, 1);
    assert.equal(newest[0].id, last);
    const stream = await openStream(d);
    try {
      assert.equal(stream.status, 200);
      const snapshot = await stream.next((e) => e.event === 'snapshot', 10_000);
      assert.equal(snapshot.id, last);
      covered.add('events.stream');
    } finally {
      stream.close();
    }
  });

  it('registry: export (as `berth export`), import, gc, and reset with {"yes": true}', async () => {
    const snap = await get('/v1/export');
    const cli = cliJson(d.cli(['export']));
    delete snap.exportedAt;
    delete cli.exportedAt;
    assert.deepEqual(snap, cli);
    const one = await get('/v1/export?scope=shop');
    assert.deepEqual(
      one.leases.map((l: { name: string }) => l.name).sort(),
      ['api', 'gob', 'web'],
    );
    const gcDry = await send('POST', '/v1/gc', { dryRun: true });
    assert.deepEqual(gcDry, cliJson(d.cli(['gc', '--dry-run', '--json'])));
    await send('POST', '/v1/gc', {});
    const reset = await send('POST', '/v1/reset', { yes: true });
    assert.equal(typeof reset, 'object');
    assert.deepEqual(cliJson(d.cli(['list', '--json'])), []);
    const imported = await send('POST', '/v1/import', { snapshot: snap });
    assert.equal(typeof imported, 'object');
    assert.equal(cliJson(d.cli(['list', '--json'])).length, snap.leases.length);
    const replaced = await send('POST', '/v1/import', { snapshot: one, replace: true });
    assert.equal(typeof replaced, 'object');
    assert.deepEqual(
      cliJson(d.cli(['list', '--json'])).map((l: { name: string }) => l.name).sort(),
      ['api', 'gob', 'web'],
    );
  });

  it('the OpenAPI document matches ROUTES exactly and is structurally OpenAPI 3.1', async () => {
    const doc = await get('/v1/openapi.json');
    assert.match(doc.openapi, /^3\.1\.\d+$/);
    assert.equal(typeof doc.info.title, 'string');
    assert.equal(typeof doc.info.version, 'string');
    const ops: string[] = [];
    for (const [p, item] of Object.entries<Record<string, any>>(doc.paths)) {
      assert.ok(p.startsWith('/'), p);
      for (const [method, op] of Object.entries(item)) {
        assert.ok(['get', 'put', 'post', 'delete'].includes(method), `${method} ${p}`);
        ops.push(`${method.toUpperCase()} ${p} ${op.operationId}`);
        assert.ok(op.responses && Object.keys(op.responses).length > 0, `${op.operationId} has responses`);
        for (const r of Object.values<any>(op.responses)) assert.equal(typeof r.description, 'string');
        const declared = (op.parameters ?? []).filter((x: { in: string }) => x.in === 'path').map((x: { name: string }) => x.name);
        assert.deepEqual(declared, [...p.matchAll(/\{(\w+)\}/g)].map((m) => m[1]), `${op.operationId}: path parameters`);
      }
    }
    assert.deepEqual(ops.sort(), ROUTES.map((r) => `${r.method} ${r.path} ${r.id}`).sort());
    const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"#\/components\/schemas\/(\w+)"/g)].map((m) => m[1]!);
    for (const ref of refs) assert.ok(doc.components.schemas[ref], `$ref ${ref} resolves`);
    for (const route of ROUTES.filter((r) => r.body)) assert.ok(doc.paths[route.path][route.method.toLowerCase()].requestBody, `${route.id} documents its body`);
  });

  it('GET /metrics parses as Prometheus text with the leases, slots and last event this test made', async () => {
    const { default: parse } = await import('parse-prometheus-text-format');
    const res = await call({ path: '/metrics' });
    assert.equal(res.status, 200);
    assert.match(String(res.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    const families = new Map(parse(res.text).map((f) => [f.name, f]));
    for (const name of ['berth_leases', 'berth_pool_slots', 'berth_listeners', 'berth_conflicts', 'berth_last_event_id']) assert.ok(families.has(name), name);
    const leases = await get('/v1/leases');
    const byScope = new Map<string, number>();
    for (const l of leases) byScope.set(`${l.scope}|${l.pool ?? ''}|${l.protocol}`, (byScope.get(`${l.scope}|${l.pool ?? ''}|${l.protocol}`) ?? 0) + 1);
    const got = new Map<string, number>();
    for (const m of families.get('berth_leases')!.metrics) {
      const key = `${m.labels!.scope}|${m.labels!.pool}|${m.labels!.protocol}`;
      got.set(key, (got.get(key) ?? 0) + Number(m.value));
    }
    assert.deepEqual(got, byScope);
    assert.deepEqual(byScope.get('shop||tcp'), 3);
    const api = leases.find((l: { name: string }) => l.name === 'api');
    assert.ok(families.get('berth_leases')!.metrics.some((m) => m.labels!.scope === 'shop' && m.labels!.category === 'api' && m.value === '1'), `the api lease (port ${api.port}) in category api`);
    const slots = Object.fromEntries(families.get('berth_pool_slots')!.metrics.map((m) => [`${m.labels!.pool}/${m.labels!.state}`, Number(m.value)]));
    const pools = await get('/v1/pools');
    assert.deepEqual(slots, { 'agents/used': pools[0].used, 'agents/free': pools[0].free });
    assert.equal(Number(families.get('berth_last_event_id')!.metrics[0]!.value), (await get('/v1/events/last')).id);
    const tcp = families.get('berth_listeners')!.metrics.find((m) => m.labels!.protocol === 'tcp');
    assert.ok(Number(tcp!.value) >= 1, 'the daemon itself listens');
    const conflicts = await get('/v1/conflicts?all=true');
    const kinds = new Map<string, number>();
    for (const c of conflicts) kinds.set(c.kind, (kinds.get(c.kind) ?? 0) + 1);
    assert.deepEqual(new Map(families.get('berth_conflicts')!.metrics.map((m) => [m.labels!.kind!, Number(m.value)])), kinds);
  });

  it('dashboard sessions: a link made with the token, traded once for a cookie that then authenticates', async () => {
    const link = await send('POST', '/v1/session/links', { readOnly: true });
    assert.equal(link.access, 'read');
    const secret = /#login=([\w-]+)$/.exec(link.url)![1]!;
    const login = await call({ method: 'POST', path: '/v1/session', body: { secret }, token: null });
    assert.deepEqual(okJson(login, 'POST /v1/session'), { access: 'read' });
    const cookie = String(login.headers['set-cookie']).split(';')[0]!;
    assert.deepEqual(okJson(await call({ path: '/v1/session', token: null, headers: { Cookie: cookie } }), 'GET /v1/session'), { access: 'read', via: 'session' });
    assert.equal((await call({ method: 'POST', path: '/v1/session', body: { secret }, token: null })).status, 401, 'a link works once');
    assert.deepEqual(okJson(await call({ method: 'DELETE', path: '/v1/session', body: {}, token: null, headers: { Cookie: cookie } }), 'DELETE /v1/session'), { ended: true });
    assert.equal((await call({ path: '/v1/session', token: null, headers: { Cookie: cookie } })).status, 401, 'logged out');
  });

  it('the launch routes: up a stack of the berth.yaml named by dir, list, stop, start, restart a service, its logs, down', async () => {
    const launchDir = path.join(dir, 'launchy');
    fs.mkdirSync(launchDir);
    const port = await freePort();
    const server = `require('http').createServer((q, r) => r.end('ok')).listen(process.env.PORT, '127.0.0.1', () => console.log('up'))`;
    fs.writeFileSync(path.join(launchDir, 'berth.yaml'), `project: launchy\nservices:\n  srv:\n    port: ${port}\n    command: [${JSON.stringify(process.execPath)}, -e, ${JSON.stringify(server)}]\n    health: {tcp: true}\n`);
    const q = `?dir=${encodeURIComponent(launchDir)}`;
    const up = await send('POST', `/v1/stacks/-/up${q}`, {});
    assert.equal(up.ok, true, JSON.stringify(up));
    assert.deepEqual(up.services.map((s: { name: string; state: string }) => [s.name, s.state]), [['srv', 'healthy']]);
    assert.deepEqual((await get('/v1/services?scope=launchy')).map((s: { state: string }) => s.state), ['healthy']);
    assert.equal((await send('POST', '/v1/services/launchy/srv/stop')).find((s: { name: string }) => s.name === 'srv').state, 'stopped');
    await send('POST', '/v1/services/launchy/srv/start');
    await send('POST', '/v1/services/launchy/srv/restart');
    assert.ok(Array.isArray(await get('/v1/services/launchy/srv/logs?tail=5')));
    const follow = await openStream(d, {}, `/v1/services/launchy/srv/logs?follow=true&tail=1`);
    assert.equal(follow.status, 200);
    assert.equal((await follow.next((e) => e.event === 'log', 10_000)).data.name, 'srv');
    assert.deepEqual((await send('POST', '/v1/stacks/launchy/down', { services: ['srv'] })).stopped, ['srv'], 'down of a subset');
    const down = await send('POST', '/v1/stacks/launchy/down');
    assert.deepEqual(down.stopped, ['srv']);
    assert.deepEqual(down.problems, []);
    // The daemon still knows the stack and its berth.yaml, so a page can start it again.
    const known = (await get('/v1/stacks')).find((s: { scope: string }) => s.scope === 'launchy');
    assert.deepEqual(known, { scope: 'launchy', configFile: fs.realpathSync(path.join(launchDir, 'berth.yaml')), services: ['srv'], state: 'down' });
    follow.close();
    // Attached: the stack lives as long as the connection that asked for it.
    const attached = await openStream(d, {}, `/v1/stacks/-/attach${q}`, {});
    try {
      assert.equal(attached.status, 200);
      assert.equal((await attached.next((e) => e.event === 'settled', 30_000)).data.ok, true);
      covered.add('stacks.attach');
    } finally {
      attached.close();
    }
    for (let i = 0; i < 600 && (await get('/v1/services?scope=launchy')).length > 0; i++) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(await get('/v1/services?scope=launchy'), [], 'the daemon stopped the stack its client left');
  });

  it('every route of ROUTES answered 200 at least once', () => {
    assert.deepEqual(
      ROUTES.map((r) => r.id).filter((id) => !covered.has(id)),
      [],
    );
  });
});

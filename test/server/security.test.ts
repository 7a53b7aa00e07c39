/**
 * The attacks of issue 11 against a real daemon: any web page the user opens is an
 * attacker, and the API can kill processes. Each attack is refused with a problem+json,
 * and nothing changes: the store's export and last event id are the same afterwards, and
 * the process a kill was aimed at still runs. No answer ever carries a CORS header.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ROUTES, buildPath, pathParams, type Route } from '../../src/http/routes.js';
import { tempDir } from '../helpers/cli.js';
import { exportState, freePort, killQuietly, lastEventId, listener, openStream, problemOf, request, startDaemon, type Daemon, type Req, type Res } from './harness.js';

const EVIL = 'https://evil.example';
/** Body fields that would make the API run or write something, were any route to take them. */
const EXECUTABLE_FIELDS = ['command', 'cmd', 'script', 'exec', 'shell', 'file', 'path', 'args', 'env'];

describe('attacks on a real daemon: each refused, nothing changed', () => {
  const { dir, cleanup } = tempDir('berth-security-');
  let d: Daemon;
  let target: ChildProcess;
  let targetPort = 0;
  const answers: Res[] = [];

  const send = async (req: Req): Promise<Res> => {
    const res = await request(d, req);
    answers.push(res);
    return res;
  };
  /** A concrete path for `route`, naming things that exist. */
  const pathOf = (route: Route): string => buildPath(route.path, Object.fromEntries(pathParams(route.path).map((p) => [p, { scope: 'sec', name: 'web', pool: 'agents', port: targetPort, id: 0 }[p]!])));
  const mutations = ROUTES.filter((r) => r.mutates);
  const reads = ROUTES.filter((r) => !r.mutates);
  /** Sends each request and asserts it is refused with `status` and `code`, and that nothing changed. */
  const refused = async (label: string, reqs: readonly Req[], status: number, code: string): Promise<void> => {
    const before = exportState(d);
    const lastBefore = await lastEventId(d);
    for (const req of reqs) {
      const res = await send(req);
      assert.equal(res.status, status, `${label}: ${req.method ?? 'GET'} ${req.path}: ${res.status} ${res.text.slice(0, 300)}`);
      assert.equal(problemOf(res).code, code, `${label}: ${req.method ?? 'GET'} ${req.path}`);
    }
    assert.equal(exportState(d), before, `${label}: the store is unchanged`);
    assert.equal(await lastEventId(d), lastBefore, `${label}: no event recorded`);
    assert.equal(target.exitCode, null, `${label}: the process a kill aimed at still runs`);
    assert.equal(target.signalCode, null, `${label}: the process a kill aimed at still runs`);
  };
  /** The mutations an attacker wants most: allocate, kill a process, wipe the registry. */
  const dangerous = (): Req[] => [
    { method: 'PUT', path: '/v1/leases/sec/evil', body: {} },
    { method: 'POST', path: `/v1/ports/${targetPort}/kill`, body: {} },
    { method: 'POST', path: '/v1/leases/sec/web/kill', body: {} },
    { method: 'POST', path: `/api/ports/ports/${targetPort}/kill`, body: {} },
    { method: 'POST', path: '/api/ports/services/web/kill', body: {} },
    { method: 'POST', path: '/v1/reset', body: { yes: true } },
  ];

  before(async () => {
    // The port the kill routes aim at comes from the OS, so that it is this test's process
    // that listens there (a fresh store's first free port, 4000, is every parallel test's).
    fs.writeFileSync(path.join(dir, 'berth.yaml'), `project: sec\nservices:\n  web:\n    port: ${await freePort()}\npools:\n  agents:\n    ports: { a: 27701 }\n    slots: 2\n`);
    d = await startDaemon({ dir });
    const web = await request(d, { method: 'PUT', path: '/v1/leases/sec/web', body: {} });
    assert.equal(web.status, 200, web.text);
    targetPort = web.json.port;
    target = await listener(targetPort);
    assert.equal((await request(d, { method: 'POST', path: '/v1/pools/agents/reserve', body: { scope: 'sec-pool' } })).status, 200);
  });
  after(async () => {
    killQuietly(target);
    await d?.stop();
    cleanup();
  });

  it('a DNS-rebinding Host is refused (403) on reads and mutations, even with the token', async () => {
    const hosts = [`evil.example:${d.port}`, 'evil.example', `127.0.0.1.evil.example:${d.port}`, `localhost.evil.example:${d.port}`, `127.0.0.1:${d.port + 1}`, `0.0.0.0:${d.port}`, `[::ffff:127.0.0.1]:${d.port}`];
    for (const host of hosts) {
      await refused(`Host ${host}`, [{ path: '/v1/leases' }, { path: '/v1/events' }, { path: '/metrics' }, ...dangerous()].map((r) => ({ ...r, headers: { Host: host } })), 403, 'forbidden-host');
    }
    // The health check too: a rebinding page learns nothing, not even that berth runs.
    await refused('Host on health', [{ path: '/v1/health', token: null, headers: { Host: `evil.example:${d.port}` } }], 403, 'forbidden-host');
    for (const host of [`localhost:${d.port}`, `LOCALHOST:${d.port}`, `[::1]:${d.port}`, '127.0.0.1']) assert.equal((await send({ path: '/v1/leases', headers: { Host: host } })).status, 200, host);
  });

  it('a cross-site Origin or Sec-Fetch-Site on a mutation is refused (403), even with the token', async () => {
    const cross: Record<string, string>[] = [{ Origin: EVIL }, { Origin: 'null' }, { Origin: `http://localhost:${d.port + 1}` }, { Origin: `https://127.0.0.1:${d.port}` }, { 'Sec-Fetch-Site': 'cross-site' }, { 'Sec-Fetch-Site': 'same-site' }, { Origin: `http://127.0.0.1:${d.port}`, 'Sec-Fetch-Site': 'cross-site' }];
    for (const headers of cross) {
      await refused(`cross-site ${JSON.stringify(headers)}`, [...dangerous(), ...mutations.map((r) => ({ method: r.method, path: pathOf(r), body: {} }))].map((r) => ({ ...r, headers })), 403, 'forbidden-origin');
    }
    // The daemon's own origin, and a request the user typed, pass.
    const own: Record<string, string>[] = [{ Origin: `http://127.0.0.1:${d.port}` }, { Origin: `http://localhost:${d.port}` }, { 'Sec-Fetch-Site': 'same-origin' }, { 'Sec-Fetch-Site': 'none' }];
    for (const headers of own) {
      const res = await send({ method: 'PUT', path: '/v1/leases/sec/web', body: {}, headers });
      assert.equal(res.status, 200, `${JSON.stringify(headers)}: ${res.text}`);
    }
  });

  it('a form post (text/plain, urlencoded, multipart: no preflight) is refused (415)', async () => {
    const forms: [string, string][] = [
      ['text/plain', '{"yes": true}'],
      ['text/plain;charset=UTF-8', '{"yes": true}'],
      ['application/x-www-form-urlencoded', 'yes=true'],
      ['multipart/form-data; boundary=x', '--x\r\nContent-Disposition: form-data; name="yes"\r\n\r\ntrue\r\n--x--\r\n'],
      ['application/json-patch+json', '{"yes": true}'],
      ['', '{"yes": true}'],
    ];
    await refused(
      'form posts',
      forms.flatMap(([type, raw]) => [
        { method: 'POST', path: '/v1/reset', raw, headers: { 'Content-Type': type } },
        { method: 'PUT', path: '/v1/leases/sec/evil', raw: '{}', headers: { 'Content-Type': type } },
        { method: 'POST', path: `/v1/ports/${targetPort}/kill`, raw: '{}', headers: { 'Content-Type': type } },
      ]),
      415,
      'unsupported-media-type',
    );
    // Without the token (as a real form would be), the token check refuses it first.
    await refused('form post without token', [{ method: 'POST', path: '/v1/reset', raw: 'yes=true', token: null, headers: { 'Content-Type': 'application/x-www-form-urlencoded' } }], 401, 'unauthenticated');
  });

  it('no token, a wrong token, or a token in the query string: 401 on every route but health', async () => {
    const wrong = [null, 'f'.repeat(64), d.token.slice(0, -1), `${d.token}0`, d.token.toUpperCase(), ''];
    for (const token of wrong) {
      const reqs = ROUTES.filter((r) => !r.public).map((r) => ({ method: r.method, path: pathOf(r), body: r.mutates ? {} : undefined, token }));
      await refused(`token ${JSON.stringify(token?.slice(0, 8) ?? null)}`, reqs, 401, 'unauthenticated');
    }
    const schemes = [`Basic ${Buffer.from(`x:${d.token}`).toString('base64')}`, `bearer ${d.token}`, `Bearer  ${d.token}`, `Bearer ${d.token} extra`, `Token ${d.token}`, d.token];
    await refused(
      'other schemes',
      schemes.map((auth) => ({ path: '/v1/leases', token: null, headers: { Authorization: auth } })),
      401,
      'unauthenticated',
    );
    const inQuery = ['token', 'access_token'].flatMap((name) => [
      { path: `/v1/leases?${name}=${d.token}`, token: null },
      { path: `/v1/events?${name}=${d.token}`, token: null },
      { method: 'POST', path: `/v1/reset?${name}=${d.token}`, body: { yes: true }, token: null },
      // Even with the header: a URL holding the token is refused, so it never gets used.
      { path: `/v1/leases?${name}=${d.token}` },
    ]);
    await refused('token in the query', inQuery, 401, 'unauthenticated');
    const noneNeeded = await send({ path: '/v1/health', token: null });
    assert.equal(noneNeeded.status, 200);
  });

  it('a foreign Origin on the event stream is refused (403); the daemon’s own origin gets the stream', async () => {
    const foreign: Record<string, string>[] = [{ Origin: EVIL }, { 'Sec-Fetch-Site': 'cross-site' }, { Origin: 'null' }];
    for (const headers of foreign) {
      await refused(`event stream ${JSON.stringify(headers)}`, [{ path: '/v1/events', headers }], 403, 'forbidden-origin');
    }
    const own = await openStream(d, { Origin: `http://127.0.0.1:${d.port}` });
    try {
      assert.equal(own.status, 200);
      for (const h of Object.keys(own.headers)) assert.ok(!h.startsWith('access-control-'), h);
      assert.equal((await own.next(() => true, 10_000)).event, 'snapshot');
    } finally {
      own.close();
    }
  });

  it('the read-only token: every mutating route 403, every read passes', async () => {
    await refused(
      'read-only token',
      // The dashboard's login is public: its secret, not a token, is the proof (dashboard.test.ts).
      mutations.filter((r) => !r.public).map((r) => ({ method: r.method, path: pathOf(r), body: r.id === 'registry.reset' ? { yes: true } : {}, token: d.readToken })),
      403,
      'forbidden',
    );
    const before = exportState(d);
    for (const r of reads.filter((x) => x.response !== 'event-stream')) {
      const res = await send({ path: pathOf(r), token: d.readToken });
      assert.equal(res.status, 200, `${r.id} with the read-only token: ${res.status} ${res.text.slice(0, 200)}`);
    }
    const stream = await openStream({ ...d, token: d.readToken });
    try {
      assert.equal(stream.status, 200);
    } finally {
      stream.close();
    }
    assert.equal(exportState(d), before, 'reads change nothing');
  });

  it('no route is a GET that changes state: every GET route, called with the write token, leaves the store as it was', async () => {
    for (const r of ROUTES) if (r.method === 'GET') assert.equal(r.mutates, false, r.id);
    const before = exportState(d);
    const lastBefore = await lastEventId(d);
    for (const r of reads.filter((x) => x.response !== 'event-stream')) assert.equal((await send({ path: pathOf(r) })).status, 200, r.id);
    assert.equal(exportState(d), before);
    assert.equal(await lastEventId(d), lastBefore);
  });

  it('a preflight is refused, and no answer ever carries an Access-Control-* header', async () => {
    await refused(
      'preflight',
      ['/v1/leases', '/v1/reset', '/v1/events', '/v1/health', `/v1/ports/${targetPort}/kill`].map((p) => ({
        method: 'OPTIONS',
        path: p,
        token: null,
        headers: { Origin: EVIL, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'authorization, content-type' },
      })),
      405,
      'method-not-allowed',
    );
    assert.ok(answers.length > 100, `${answers.length} answers looked at`);
    for (const res of answers) {
      const cors = Object.keys(res.headers).filter((h) => h.startsWith('access-control-'));
      assert.deepEqual(cors, [], `${res.status} ${res.text.slice(0, 100)}`);
      assert.equal(res.headers['x-content-type-options'], 'nosniff');
    }
  });

  it('a body over 1 MiB is refused (413), declared or streamed without a length', async () => {
    const big = JSON.stringify({ purpose: 'x'.repeat((1 << 20) + 10) });
    await refused('declared', [{ method: 'PUT', path: '/v1/leases/sec/big', raw: big, headers: { 'Content-Type': 'application/json' } }], 413, 'too-large');
    // Chunked: no Content-Length; the server counts what arrives.
    const before = exportState(d);
    const res = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const r = http.request(
        { host: '127.0.0.1', port: d.port, method: 'PUT', path: '/v1/leases/sec/big', agent: false, headers: { Host: `127.0.0.1:${d.port}`, Authorization: `Bearer ${d.token}`, 'Content-Type': 'application/json' } },
        (answer) => {
          let text = '';
          answer.setEncoding('utf8');
          answer.on('data', (c: string) => (text += c));
          answer.on('end', () => resolve({ status: answer.statusCode ?? 0, text }));
        },
      );
      r.on('error', reject);
      const chunk = 'x'.repeat(64 * 1024);
      r.write('{"purpose":"');
      // 24 chunks of 64 KiB: 1.5 MiB, more than the limit, bounded.
      for (let i = 0; i < 24; i++) r.write(chunk);
      r.end('"}');
    });
    assert.equal(res.status, 413, res.text);
    assert.equal(JSON.parse(res.text).code, 'too-large');
    assert.equal(exportState(d), before);
    assert.equal((await send({ path: '/v1/health', token: null })).status, 200, 'the daemon still answers');
  });

  it('the API takes no command line, script or file to run or write: config must be a berth.yaml, unknown body fields are 400', async () => {
    await refused(
      'config that is not berth.yaml',
      ['/etc/passwd', '/bin/sh', 'berth.yaml.sh', '/tmp/x.yaml;rm', 'a.json', '/home/u/.config/gh/hosts.yml'].map((config) => ({ path: `/v1/project?config=${encodeURIComponent(config)}` })),
      400,
      'config',
    );
    const withBodies = mutations.filter((r) => r.body !== undefined);
    await refused(
      'executable body fields',
      mutations.flatMap((r) => EXECUTABLE_FIELDS.map((field) => ({ method: r.method, path: pathOf(r), body: { [field]: field === 'args' ? ['-c', 'touch /tmp/pwned'] : 'touch /tmp/pwned' } }))),
      400,
      'usage',
    );
    // The document says the same: no body schema names such a field, and none takes extra fields.
    for (const r of mutations) assert.ok(r.body !== undefined || r.method === 'DELETE', `${r.id} documents its body`);
    const doc = (await send({ path: '/v1/openapi.json' })).json;
    for (const r of withBodies) {
      const schema = doc.paths[r.path][r.method.toLowerCase()].requestBody.content['application/json'].schema;
      assert.equal(schema.additionalProperties, false, `${r.id}: unknown fields refused`);
      for (const field of EXECUTABLE_FIELDS) assert.ok(!Object.hasOwn(schema.properties ?? {}, field), `${r.id} takes no ${field}`);
    }
  });
});

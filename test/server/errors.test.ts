/**
 * Errors on the wire, against a real daemon: every refusal is `application/problem+json`
 * with `code` = the error kind and DESIGN.md's status (usage 400, not-found 404,
 * conflict/exhausted/refused 409, no token 401, forbidden 403, method 405, too large 413,
 * not JSON 415), and an engine error carries the same fields as the CLI's `--json` error.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { tempDir } from '../helpers/cli.js';
import { exportState, freePort, killQuietly, listener, problemOf, request, startDaemon, type Daemon, type Req } from './harness.js';

describe('problem+json errors from a real daemon', () => {
  const { dir, cleanup } = tempDir('berth-errors-');
  let d: Daemon;
  let held: ChildProcess | undefined;
  let webPort = 0;
  let heldPort = 0;

  before(async () => {
    fs.writeFileSync(path.join(dir, 'berth.yaml'), 'project: shop\nservices:\n  web: {}\npools:\n  solo:\n    ports: { only: 27601 }\n    slots: 1\n');
    d = await startDaemon({ dir });
    const web = await request(d, { method: 'PUT', path: '/v1/leases/shop/web', body: {} });
    assert.equal(web.status, 200, web.text);
    webPort = web.json.port;
    assert.equal((await request(d, { method: 'POST', path: '/v1/pools/solo/reserve', body: { scope: 'first' } })).status, 200);
    heldPort = await freePort();
    held = await listener(heldPort);
  });
  after(async () => {
    killQuietly(held);
    await d?.stop();
    cleanup();
  });

  /** [what, request, status, code] */
  const cases: [string, () => Req, number, string][] = [
    ['an unknown query parameter', () => ({ path: '/v1/leases?bogus=1' }), 400, 'usage'],
    ['a repeated query parameter', () => ({ path: '/v1/leases?scope=a&scope=b' }), 400, 'usage'],
    ['a query number that is not one', () => ({ path: '/v1/free?count=1e3' }), 400, 'usage'],
    ['a query boolean that is not one', () => ({ path: '/v1/status?all=maybe' }), 400, 'usage'],
    ['a port path segment that is not a port', () => ({ path: '/v1/ports/abc' }), 400, 'usage'],
    ['a port out of range', () => ({ method: 'PUT', path: '/v1/leases/shop/x', body: { port: 65536 } }), 400, 'usage'],
    ['a range written wrongly', () => ({ method: 'PUT', path: '/v1/leases/shop/x', body: { range: '5000..5999' } }), 400, 'usage'],
    ['an unknown strategy', () => ({ method: 'PUT', path: '/v1/leases/shop/x', body: { strategy: 'random' } }), 400, 'usage'],
    // Wrong JSON types are bad input, never read as "absent" or "false": {"dryRun": "true"} was a real gc.
    ['a string where a boolean goes', () => ({ method: 'POST', path: '/v1/gc', body: { dryRun: 'true' } }), 400, 'usage'],
    ['a list where a boolean goes', () => ({ method: 'POST', path: '/v1/gc', body: { dryRun: [true] } }), 400, 'usage'],
    ['a number where a boolean goes', () => ({ method: 'PUT', path: '/v1/leases/shop/x', body: { ephemeral: 1, pid: process.pid } }), 400, 'usage'],
    ['null where a pid goes', () => ({ method: 'PUT', path: '/v1/leases/shop/x', body: { pid: null } }), 400, 'usage'],
    ['a string where force goes', () => ({ method: 'POST', path: '/v1/leases/shop/web/reassign', body: { port: 24999, force: 'yes' } }), 400, 'usage'],
    ['a body field of a body-less route', () => ({ method: 'DELETE', path: '/v1/leases/shop/web', body: { force: true } }), 400, 'usage'],
    ['a uDOS kill with a field', () => ({ method: 'POST', path: '/api/ports/services/web/kill', body: { signal: 'SIGKILL' } }), 400, 'usage'],
    ['an unknown body field', () => ({ method: 'PUT', path: '/v1/leases/shop/x', body: { command: 'rm -rf /' } }), 400, 'usage'],
    ['a body that is not JSON', () => ({ method: 'PUT', path: '/v1/leases/shop/x', raw: '{"port":', headers: { 'Content-Type': 'application/json' } }), 400, 'usage'],
    ['a body that is an array', () => ({ method: 'PUT', path: '/v1/leases/shop/x', body: [] }), 400, 'usage'],
    ['reset without {"yes": true}', () => ({ method: 'POST', path: '/v1/reset', body: { yes: false } }), 400, 'usage'],
    ['a config that is not a berth.yaml', () => ({ path: '/v1/project?config=/etc/passwd' }), 400, 'config'],
    ['a path that is not valid percent-encoding', () => ({ path: '/v1/leases/%E0%A4%A/x' }), 400, 'usage'],
    ['an unknown env format', () => ({ path: '/v1/env?format=xml' }), 400, 'usage'],
    ['an unknown route', () => ({ path: '/v1/nope' }), 404, 'not-found'],
    ['a path outside the API', () => ({ path: '/index.php' }), 404, 'not-found'],
    ['an unknown lease', () => ({ path: '/v1/leases/shop/nope' }), 404, 'not-found'],
    ['releasing an unknown lease', () => ({ method: 'DELETE', path: '/v1/leases/shop/nope', headers: { 'Content-Type': 'application/json' } }), 404, 'not-found'],
    ['an unknown uDOS service', () => ({ path: '/api/ports/services/nope' }), 404, 'not-found'],
    ['a port leased to another scope', () => ({ method: 'PUT', path: '/v1/leases/other/x', body: { port: webPort } }), 409, 'conflict'],
    ['a range whose only port is leased', () => ({ method: 'PUT', path: '/v1/leases/other/y', body: { range: `${webPort}-${webPort}` } }), 409, 'exhausted'],
    ['a pool with no free slot', () => ({ method: 'POST', path: '/v1/pools/solo/reserve', body: { scope: 'second' } }), 409, 'exhausted'],
    ['a port another process listens on', () => ({ method: 'PUT', path: '/v1/leases/other/z', body: { port: heldPort } }), 409, 'refused'],
    ['moving a lease onto a leased port', () => ({ method: 'POST', path: '/v1/leases/first/only/reassign', body: { port: webPort } }), 409, 'refused'],
    ['no token', () => ({ path: '/v1/leases', token: null }), 401, 'unauthenticated'],
    ['a wrong token', () => ({ path: '/v1/leases', token: 'f'.repeat(64) }), 401, 'unauthenticated'],
    ['a foreign Host', () => ({ path: '/v1/leases', headers: { Host: 'evil.example' } }), 403, 'forbidden-host'],
    ['the read-only token on a mutation', () => ({ method: 'PUT', path: '/v1/leases/shop/x', body: {}, token: d.readToken }), 403, 'forbidden'],
    ['a method the route does not take', () => ({ method: 'DELETE', path: '/v1/health' }), 405, 'method-not-allowed'],
    ['a preflight', () => ({ method: 'OPTIONS', path: '/v1/leases', headers: { Origin: 'https://evil.example', 'Access-Control-Request-Method': 'PUT' } }), 405, 'method-not-allowed'],
    ['a body over 1 MiB', () => ({ method: 'PUT', path: '/v1/leases/shop/x', body: { purpose: 'x'.repeat((1 << 20) + 1) } }), 413, 'too-large'],
    ['an actor header that is not JSON', () => ({ method: 'PUT', path: '/v1/leases/shop/x', body: {}, headers: { 'X-Berth-Actor': 'me' } }), 400, 'usage'],
    ['an actor with no pid', () => ({ method: 'PUT', path: '/v1/leases/shop/x', body: {}, headers: { 'X-Berth-Actor': '{"user": "u", "command": "c"}' } }), 400, 'usage'],
    ['a text/plain mutation', () => ({ method: 'PUT', path: '/v1/leases/shop/x', raw: '{}', headers: { 'Content-Type': 'text/plain' } }), 415, 'unsupported-media-type'],
  ];

  it('each refusal is problem+json with its status and code, and changes nothing', async () => {
    const before = exportState(d);
    for (const [what, req, status, code] of cases) {
      const res = await request(d, req());
      assert.equal(res.status, status, `${what}: ${res.status} ${res.text.slice(0, 300)}`);
      const problem = problemOf(res);
      assert.equal(problem.code, code, `${what}: ${res.text.slice(0, 300)}`);
      assert.ok(problem.detail.length > 10, `${what}: a message a person can act on`);
      if (status === 401) assert.equal(res.headers['www-authenticate'], 'Bearer', what);
      if (status === 405) assert.ok(res.headers.allow, `${what}: says what is allowed`);
    }
    assert.equal(exportState(d), before);
  });

  it("an engine error carries the CLI's --json error fields: error, message, exitCode and details", async () => {
    const pairs: [Req, string[]][] = [
      [{ path: '/v1/leases/shop/nope' }, ['get', 'nope', '--scope', 'shop']],
      [{ method: 'PUT', path: '/v1/leases/other/x', body: { port: webPort } }, ['allocate', 'x', '--scope', 'other', '--port', String(webPort)]],
      [{ method: 'POST', path: '/v1/pools/solo/reserve', body: { scope: 'second' } }, ['reserve', '--pool', 'solo', '--scope', 'second']],
    ];
    for (const [req, args] of pairs) {
      const res = await request(d, req);
      const cli = d.cli([...args, '--json']);
      assert.notEqual(cli.code, 0);
      const cliError = JSON.parse(cli.stderr.trim().split('\n').pop()!) as Record<string, unknown>;
      const problem = problemOf(res) as unknown as Record<string, unknown>;
      for (const [key, value] of Object.entries(cliError)) assert.deepEqual(problem[key], value, `${args.join(' ')}: ${key}`);
      assert.equal(problem.code, cliError.error);
    }
  });

  it('an unknown route is 404 on the unix socket too, and refusals leave a keep-alive connection usable', async () => {
    const res = await request(d, { path: '/v1/nope', socket: true });
    assert.equal(res.status, 404);
    assert.equal(problemOf(res).code, 'not-found');
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const sockets = new Set<unknown>();
      for (let i = 0; i < 3; i++) {
        const refused = await request(d, { method: 'PUT', path: '/v1/leases/shop/x', raw: '{"a": 1}', headers: { 'Content-Type': 'text/plain' }, agent });
        assert.equal(refused.status, 415);
        const ok = await request(d, { path: '/v1/health', agent });
        assert.equal(ok.status, 200);
      }
      for (const list of Object.values(agent.freeSockets)) for (const s of list ?? []) sockets.add(s);
      assert.equal(sockets.size, 1, 'one connection served all six');
    } finally {
      agent.destroy();
    }
  });
});

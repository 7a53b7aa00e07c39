/**
 * A Conductor workspace runs on its slot (shared/seeds/000; issue 10 item 8): `berth run
 * --scope S -- CMD` in a scope that holds a pool slot gives the command the slot's ports
 * (PORT = the slot's HTTP role), and leases no new sticky `app` port beside them.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Lease } from '../../src/types.js';
import { berth, json, tempDir } from '../helpers/cli.js';

let dir: string;
let cleanup: () => void;
let db: string;

const ok = (args: string[]) => {
  const res = berth(args, { cwd: dir, db });
  assert.equal(res.code, 0, `berth ${args.join(' ')}: exit ${res.code}\n${res.stderr}`);
  return res;
};

/** A command that prints the port variables it was given, as JSON. */
const PRINT_ENV = [process.execPath, '-e', 'const e = {}; for (const [k, v] of Object.entries(process.env)) if (/PORT|URI/.test(k)) e[k] = v; console.log(JSON.stringify(e))'];

describe('berth run in a scope that holds a pool slot', () => {
  before(() => {
    ({ dir, cleanup } = tempDir());
    db = path.join(dir, 'berth.db');
    fs.writeFileSync(
      path.join(dir, 'berth.yaml'),
      ['project: conductor', 'pools:', '  conductor:', '    ports: { postgres: 25533, mcp: 28181, admin: 28102 }', '    slots: 3', '    urls: { OAUTH_REDIRECT_URI: "http://localhost:${admin}/callback" }', ''].join('\n'),
    );
    ok(['reserve', '--scope', 'ws-1']);
    ok(['reserve', '--scope', 'ws-2']);
  });
  after(() => cleanup());

  it("uses the slot's ports: PORT is the admin UI's, every role's variable is set", () => {
    const res = ok(['run', '--scope', 'ws-2', '--', ...PRINT_ENV]);
    const env = JSON.parse(res.stdout.trim().split('\n').pop()!) as Record<string, string>;
    assert.equal(env.PORT, '28103');
    assert.equal(env.POSTGRES_PORT, '25534');
    assert.equal(env.MCP_PORT, '28182');
    assert.equal(env.ADMIN_PORT, '28103');
    assert.equal(env.OAUTH_REDIRECT_URI, 'http://localhost:28103/callback');
    assert.equal(env.APP_PORT, undefined);
  });

  it('leases nothing new: the scope still holds just its slot', () => {
    const leases = json<Lease[]>(ok(['list', '--scope', 'ws-2', '--json']));
    assert.deepEqual(leases.map((l) => l.name).sort(), ['admin', 'mcp', 'postgres']);
    assert.ok(leases.every((l) => l.pool === 'conductor' && l.slot === 1));
  });

  it('a scope without a slot still gets the sticky app lease as before', () => {
    ok(['run', '--scope', 'plain', '--', ...PRINT_ENV]);
    assert.deepEqual(json<Lease[]>(ok(['list', '--scope', 'plain', '--json'])).map((l) => l.name), ['app']);
  });
});

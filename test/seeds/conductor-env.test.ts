/**
 * The Conductor seed's .env (shared/seeds/000; issue 10 item 4): pool roles take their own
 * variable names (`env:` of the pool per role, or `env:` of a service named like the
 * role, which berth used to ignore silently), and URL templates can be variables too: the
 * slot's OAuth redirect URI lands in .env next to the ports.
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

const CONDUCTOR_YAML = [
  'project: conductor',
  'services:',
  '  admin: { env: ADMIN_UI_PORT }', // the seed's setup script wrote ADMIN_UI_PORT
  'pools:',
  '  conductor:',
  '    ports: { postgres: 25433, mcp: 28081, admin: 28002 }',
  '    slots: 3',
  '    env: { postgres: POSTGRES_PORT, mcp: MCP_SERVER_PORT }',
  '    urls:',
  '      GOOGLE_OAUTH_REDIRECT_URI: "http://localhost:${admin}/callback"',
  '',
].join('\n');

const run = (args: string[]) => berth(args, { cwd: dir, db });
const ok = (args: string[]) => {
  const res = run(args);
  assert.equal(res.code, 0, `berth ${args.join(' ')}: exit ${res.code}\n${res.stderr}`);
  return res;
};

describe('Conductor .env: role variable names and URL variables', () => {
  before(() => {
    ({ dir, cleanup } = tempDir());
    db = path.join(dir, 'berth.db');
    fs.writeFileSync(path.join(dir, 'berth.yaml'), CONDUCTOR_YAML);
    ok(['reserve', '--scope', 'ws-1']);
  });
  after(() => cleanup());

  it("each role's variable is the one berth.yaml names; the slot's redirect URI is a variable", () => {
    const slot = json<Lease[]>(ok(['reserve', '--scope', 'ws-2', '--json']));
    assert.deepEqual(slot.map((l) => l.port), [25434, 28082, 28003]);
    assert.deepEqual(json(ok(['env', '--scope', 'ws-2', '--json'])), {
      POSTGRES_PORT: '25434',
      MCP_SERVER_PORT: '28082',
      ADMIN_UI_PORT: '28003',
      GOOGLE_OAUTH_REDIRECT_URI: 'http://localhost:28003/callback',
    });
  });

  it('env --write merges them into the workspace .env, keeping the user\'s lines', () => {
    const file = path.join(dir, '.env');
    fs.writeFileSync(file, "GEMINI_API_KEY='secret'\n");
    ok(['env', '--scope', 'ws-2', '--write', file]);
    const text = fs.readFileSync(file, 'utf8');
    assert.match(text, /^GEMINI_API_KEY='secret'$/m);
    assert.match(text, /^ADMIN_UI_PORT=28003$/m);
    assert.match(text, /^GOOGLE_OAUTH_REDIRECT_URI=http:\/\/localhost:28003\/callback$/m);
  });

  it('the URL variables are still the pool\'s URL list for the OAuth console', () => {
    assert.deepEqual(ok(['urls', '--pool', 'conductor']).stdout.trimEnd().split('\n'), [28002, 28003, 28004].map((p) => `http://localhost:${p}/callback`));
  });

  it('a snapshot carries the role names and URL variables: a fresh store gives the same .env', () => {
    const file = path.join(dir, 'snapshot.json');
    ok(['export', '-o', file]);
    const fresh = path.join(dir, 'fresh.db');
    const elsewhere = path.join(dir, 'elsewhere');
    fs.mkdirSync(elsewhere);
    const imported = berth(['import', file], { cwd: elsewhere, db: fresh });
    assert.equal(imported.code, 0, imported.stderr);
    const env = berth(['env', '--scope', 'ws-2', '--json'], { cwd: elsewhere, db: fresh });
    assert.equal(env.code, 0, env.stderr);
    assert.equal(json<Record<string, string>>(env).GOOGLE_OAUTH_REDIRECT_URI, 'http://localhost:28003/callback');
    assert.equal(json<Record<string, string>>(env).MCP_SERVER_PORT, '28082');
  });

  it('a role variable that is no variable name, or env: for a role the pool lacks, is a config error naming the key', () => {
    const bad = path.join(dir, 'bad');
    fs.mkdirSync(bad);
    fs.writeFileSync(path.join(bad, 'berth.yaml'), CONDUCTOR_YAML.replace('mcp: MCP_SERVER_PORT', 'mcp: MCP-PORT'));
    const res = berth(['pools'], { cwd: bad, db });
    assert.equal(res.code, 2, res.stderr);
    assert.match(res.stderr, /pools\.conductor\.env\.mcp/);
    fs.writeFileSync(path.join(bad, 'berth.yaml'), CONDUCTOR_YAML.replace('mcp: MCP_SERVER_PORT', 'web: WEB_PORT'));
    const role = berth(['pools'], { cwd: bad, db });
    assert.equal(role.code, 2, role.stderr);
    assert.match(role.stderr, /pools\.conductor\.env\.web.*names no role/);
  });
});

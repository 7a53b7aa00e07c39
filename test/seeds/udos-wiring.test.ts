/**
 * The uDOS and Orchestra seeds' wiring (shared/seeds/003, 001; issue 10 item 22): an env
 * prefix on port and URL variables in berth.yaml order (uDOS's `UDOS_WIZARD_PORT`,
 * `UDOS_WIZARD_URL`), `berth url NAME`, `berth urls` saying whose each URL is, `https://`
 * for https services, and SERVICE_HOST honoured for discovery as the Orchestra plan's
 * `os.getenv('SERVICE_HOST', 'localhost')`.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { berth, json, tempDir } from '../helpers/cli.js';

let dir: string;
let cleanup: () => void;
let db: string;

// Fixed ports nobody else uses in this test's store; nothing listens on them (leases only).
const UDOS_YAML = [
  'project: udos',
  'env_prefix: UDOS_',
  'services:',
  '  wizard: { port: 28765, http: true }',
  '  goblin: { port: 28767, http: true }',
  '  api: { port: 25001 }',
  '  vite: { port: 25173 }',
  '  nginx_https: { port: 28443 }',
  '  admin: { port: 28444, https: true }',
  '  db: { port: 25432, env: DATABASE_PORT }',
  '',
].join('\n');

const run = (args: string[], env: NodeJS.ProcessEnv = {}) => berth(args, { cwd: dir, db, env });
const ok = (args: string[], env: NodeJS.ProcessEnv = {}) => {
  const res = run(args, env);
  assert.equal(res.code, 0, `berth ${args.join(' ')}: exit ${res.code}\n${res.stderr}`);
  return res;
};

describe('uDOS / Orchestra wiring: prefix, url, urls, https, SERVICE_HOST', () => {
  before(() => {
    ({ dir, cleanup } = tempDir());
    db = path.join(dir, 'berth.db');
    fs.writeFileSync(path.join(dir, 'berth.yaml'), UDOS_YAML);
    // Allocated out of berth.yaml order, so the order of the output is berth.yaml's, not the store's.
    ok(['allocate', 'db', 'vite', 'admin', 'api', 'nginx_https', 'goblin', 'wizard']);
  });
  after(() => cleanup());

  it('env_prefix: prefixes port and URL variables, in berth.yaml order; env: names stay as written', () => {
    const lines = ok(['env', '--urls']).stdout.trimEnd().split('\n');
    assert.deepEqual(lines, [
      'UDOS_WIZARD_PORT=28765',
      'UDOS_WIZARD_URL=http://localhost:28765',
      'UDOS_GOBLIN_PORT=28767',
      'UDOS_GOBLIN_URL=http://localhost:28767',
      'UDOS_API_PORT=25001',
      'UDOS_API_URL=http://localhost:25001',
      'UDOS_VITE_PORT=25173',
      'UDOS_VITE_URL=http://localhost:25173',
      'UDOS_NGINX_HTTPS_PORT=28443',
      'UDOS_NGINX_HTTPS_URL=https://localhost:28443',
      'UDOS_ADMIN_PORT=28444',
      'UDOS_ADMIN_URL=https://localhost:28444',
      'DATABASE_PORT=25432',
    ]);
  });

  it('--prefix on the command line wins, in every format; a prefix no variable can start with is refused', () => {
    const shell = ok(['env', '--format', 'shell', '--prefix', 'X_']).stdout;
    assert.match(shell, /^export X_WIZARD_PORT='28765'$/m);
    assert.doesNotMatch(shell, /UDOS_/);
    const bad = run(['env', '--prefix', '9X']);
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /invalid prefix '9X'/);
  });

  it('berth url NAME prints one URL (https for https services); an unknown name exits 1', () => {
    assert.equal(ok(['url', 'api']).stdout, 'http://localhost:25001\n');
    assert.equal(ok(['url', 'nginx_https']).stdout, 'https://localhost:28443\n');
    assert.deepEqual(json(ok(['url', 'wizard', '--json'])), { name: 'wizard', url: 'http://localhost:28765' });
    const missing = run(['url', 'wizzard']);
    assert.equal(missing.code, 1, missing.stderr);
    assert.match(missing.stderr, /no lease 'wizzard'/);
  });

  it('SERVICE_HOST is honoured for discovery, after <NAME>_HOST and BERTH_HOST', () => {
    assert.equal(ok(['url', 'api'], { SERVICE_HOST: 'svc.internal' }).stdout, 'http://svc.internal:25001\n');
    assert.equal(ok(['url', 'api'], { SERVICE_HOST: 'svc.internal', API_HOST: 'api.internal' }).stdout, 'http://api.internal:25001\n');
    assert.equal(ok(['url', 'api'], { SERVICE_HOST: 'svc.internal', BERTH_HOST: 'shared' }).stdout, 'http://shared:25001\n');
  });

  it('berth urls says whose each URL is, in berth.yaml order', () => {
    const rows = ok(['urls']).stdout.trimEnd().split('\n').map((l) => l.split(/\s{2,}/));
    assert.deepEqual(rows, [
      ['NAME', 'URL'],
      ['wizard', 'http://localhost:28765'],
      ['goblin', 'http://localhost:28767'],
      ['api', 'http://localhost:25001'],
      ['vite', 'http://localhost:25173'],
      ['nginx_https', 'https://localhost:28443'],
      ['admin', 'https://localhost:28444'],
    ]);
  });
});

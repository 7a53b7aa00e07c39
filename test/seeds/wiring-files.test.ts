/**
 * Wiring files as the sequential, uDOS and Orchestra seeds used them (issue 10 items 20
 * and 21): `berth render` fills templates and ships built-ins; berth remembers every file
 * it wrote for a scope and re-renders all of them when a port moves (reassign), saying
 * which, never clobbering a file someone edited; `env --write` drops the variables it
 * wrote for leases since released and never touches the person's own lines.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { berth, json, tempDir, type CliOptions } from '../helpers/cli.js';

const BASE = 24310;

describe('wiring files: render, remembered files, re-render on a port change, stale variables', () => {
  let dir: string;
  let cleanup: () => void;
  let opts: CliOptions;
  const run = (...args: string[]) => berth(args, opts);
  const read = (name: string) => fs.readFileSync(path.join(dir, name), 'utf8');

  before(() => {
    ({ dir, cleanup } = tempDir());
    opts = { cwd: dir, db: path.join(dir, 'berth.db'), env: { BERTH_STATE_DIR: path.join(dir, 'state') } };
    fs.writeFileSync(
      path.join(dir, 'berth.yaml'),
      `project: seq\ndefaults:\n  strategy: sequential\nbase: ${BASE}\nservices:\n  web:\n    http: true\n  postgres: {}\n`,
    );
    fs.writeFileSync(path.join(dir, 'compose.yaml'), 'services:\n  web:\n    image: nginx\n    ports:\n      - "8080:80"\n');
    assert.equal(run('allocate').code, 0);
  });
  after(() => cleanup());

  it('render fills ${WEB_PORT}, ${WEB_URL} and every variable; an unknown one is exit 2 and writes nothing', () => {
    fs.writeFileSync(path.join(dir, 'upstream.tpl'), 'upstream web { server 127.0.0.1:${WEB_PORT}; } # ${WEB_URL} ${POSTGRES_PORT} $host $${LITERAL}\n');
    const res = run('render', 'upstream.tpl');
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.stdout, `upstream web { server 127.0.0.1:${BASE}; } # http://localhost:${BASE} ${BASE + 1} $host \${LITERAL}\n`);
    fs.writeFileSync(path.join(dir, 'typo.tpl'), 'port ${WEB_PROT}\n');
    const typo = run('render', 'typo.tpl', '--write', 'typo.out');
    assert.equal(typo.code, 2);
    assert.match(typo.stderr, /no variable for \$\{WEB_PROT\}.*WEB_PORT/);
    assert.equal(fs.existsSync(path.join(dir, 'typo.out')), false);
  });

  it('ships built-ins: nginx upstreams, Prometheus targets, a Caddyfile, connection strings', () => {
    assert.match(run('render', '--list').stdout, /nginx[\s\S]*prometheus[\s\S]*caddy[\s\S]*connections/);
    assert.match(run('render', 'nginx').stdout, new RegExp(`upstream web \\{\\n    server localhost:${BASE};`));
    assert.match(run('render', 'prometheus').stdout, new RegExp(`job_name: web\\n    static_configs:\\n      - targets: \\['localhost:${BASE}'\\]`));
    assert.match(run('render', 'caddy').stdout, new RegExp(`http://web.localhost \\{\\n\\treverse_proxy localhost:${BASE}`));
    assert.match(run('render', 'connections').stdout, new RegExp(`POSTGRES_URL=postgresql://localhost:${BASE + 1}`));
  });

  it("never replaces a person's file with a rendering", () => {
    fs.writeFileSync(path.join(dir, 'mine.conf'), 'my own config\n');
    const res = run('render', 'nginx', '--write', 'mine.conf');
    assert.equal(res.code, 2);
    assert.match(res.stderr, /mine\.conf: it exists and berth did not write it.*--force/);
    assert.equal(read('mine.conf'), 'my own config\n');
  });

  it('reassign re-renders every file berth wrote for the scope, says which, and skips one edited by hand', () => {
    fs.writeFileSync(path.join(dir, '.env'), '# mine\nAPI_KEY=secret\n');
    assert.equal(run('env', '--write', '.env', '--urls').code, 0);
    assert.equal(run('env', '--format', 'shell', '--write', 'ports.sh').code, 0);
    assert.equal(run('compose-override', '--write', 'compose.override.yaml').code, 0);
    assert.equal(run('render', 'upstream.tpl', '--write', 'upstream.conf').code, 0);
    assert.equal(run('render', 'prometheus', '--write', 'prometheus.yml').code, 0);
    assert.equal(run('render', 'connections', '--write', 'edited.env').code, 0);
    fs.appendFileSync(path.join(dir, 'edited.env'), '# my note\n');

    const moved = BASE + 50;
    const res = run('reassign', 'web', String(moved));
    assert.equal(res.code, 0, res.stderr);
    for (const f of ['.env', 'ports.sh', 'compose.override.yaml', 'upstream.conf', 'prometheus.yml']) {
      assert.match(res.stderr, new RegExp(`re-rendered ${path.join(dir, f).replace(/[.]/g, '\\.')} `), f);
      assert.ok(read(f).includes(String(moved)), `${f} has the new port`);
      assert.ok(!read(f).includes(`:${BASE}`) && !read(f).includes(`=${BASE}\n`), `${f} has no stale port`);
    }
    assert.match(read('.env'), /^# mine\nAPI_KEY=secret\n/);
    assert.match(read('compose.override.yaml'), new RegExp(`"${moved}:80"`));
    assert.match(res.stderr, /did not re-render .*edited\.env \(template\): edited by hand since berth wrote it/);
    assert.match(read('edited.env'), /# my note/);
  });

  it('a file deleted since is forgotten, not recreated', () => {
    fs.rmSync(path.join(dir, 'ports.sh'));
    const res = run('reassign', 'web', String(BASE + 51));
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stderr, /forgot .*ports\.sh: the file is gone/);
    assert.equal(fs.existsSync(path.join(dir, 'ports.sh')), false);
    assert.doesNotMatch(run('reassign', 'web', String(BASE + 52)).stderr, /ports\.sh/);
  });

  it("release re-renders: the released lease's variable leaves .env at once, the person's lines stay", () => {
    fs.writeFileSync(path.join(dir, 'seq.env'), '# my settings\nDEBUG=1\nOTHER_PORT=7777\n');
    assert.equal(run('env', '--write', 'seq.env').code, 0);
    assert.match(read('seq.env'), new RegExp(`POSTGRES_PORT=${BASE + 1}`));
    const released = run('release', 'postgres');
    assert.equal(released.code, 0, released.stderr);
    assert.match(released.stderr, /re-rendered .*seq\.env \(env\)/);
    assert.doesNotMatch(read('seq.env'), /POSTGRES_PORT/);
    const fresh = json<{ port: number }[]>(run('allocate', 'new_one', '--json'));
    assert.equal(run('env', '--write', 'seq.env').code, 0);
    const text = read('seq.env');
    assert.match(text, new RegExp(`NEW_ONE_PORT=${fresh[0]!.port}`));
    assert.doesNotMatch(text, /POSTGRES_PORT/);
    assert.match(text, /^# my settings\nDEBUG=1\nOTHER_PORT=7777\n/);
  });

  it('gc re-renders too: a dead owner\'s lease leaves the file, the person\'s lines stay', async () => {
    const owner = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    try {
      assert.equal(run('allocate', 'scratch', '--ephemeral', '--pid', String(owner.pid)).code, 0);
      assert.equal(run('env', '--write', 'seq.env').code, 0);
      assert.match(read('seq.env'), /SCRATCH_PORT=/);
    } finally {
      owner.kill();
      await once(owner, 'exit');
    }
    const gc = run('gc');
    assert.equal(gc.code, 0, gc.stderr);
    assert.match(gc.stderr, /re-rendered .*seq\.env \(env\)/);
    assert.doesNotMatch(read('seq.env'), /SCRATCH_PORT/);
    assert.match(read('seq.env'), /^# my settings\nDEBUG=1\nOTHER_PORT=7777\n/);
  });

  it('env --write drops what it wrote for a lease released where berth could not re-render (another state directory)', () => {
    assert.equal(run('allocate', 'side').code, 0);
    assert.equal(run('env', '--write', 'seq.env').code, 0);
    assert.match(read('seq.env'), /SIDE_PORT=/);
    // Another shell with its own state directory: the same registry, none of this one's records.
    const elsewhere = berth(['release', 'side'], { ...opts, env: { BERTH_STATE_DIR: path.join(dir, 'other-state') } });
    assert.equal(elsewhere.code, 0, elsewhere.stderr);
    assert.match(read('seq.env'), /SIDE_PORT=/);
    const res = run('env', '--write', 'seq.env', '--json');
    assert.equal(res.code, 0, res.stderr);
    assert.deepEqual(json<{ dropped: string[] }>(res).dropped, ['SIDE_PORT']);
    assert.doesNotMatch(read('seq.env'), /SIDE_PORT/);
    assert.match(read('seq.env'), /^# my settings\nDEBUG=1\nOTHER_PORT=7777\n/);
  });
});

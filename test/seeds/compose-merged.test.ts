/**
 * The sequential seed's compose file with docker-compose v1 (issue 10 item 23): Debian's
 * docker-compose 1.29 rejects the `!override` tag, so `compose-override --merged` writes a
 * standalone file (the base file with leased host ports, no tag) that v1's own `config`
 * accepts; port entries written `"${POSTGRES_PORT}:${POSTGRES_PORT}"` are resolved from
 * the scope's variables, not refused; the merged file follows a reassign.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { berth, json, tempDir, type CliOptions } from '../helpers/cli.js';

const BASE = 24960;
const WEB = 24980;

/** docker-compose v1's `config` on `files`: its exit code and output (it only reads files). */
function composeV1Config(cwd: string, files: readonly string[]): { code: number | null; out: string } {
  const res = spawnSync('docker-compose', [...files.flatMap((f) => ['-f', f]), 'config'], { cwd, encoding: 'utf8', timeout: 60_000, env: { ...process.env, COMPOSE_PROJECT_NAME: 'berthtest' } });
  return { code: res.status, out: `${res.stdout}${res.stderr}` };
}

const v1Missing = spawnSync('docker-compose', ['version'], { encoding: 'utf8' }).status === 0 ? null : 'docker-compose (v1) is not installed: apt-get install docker-compose';

describe('compose-override --merged for docker-compose v1, and ${VAR}:${VAR} ports', () => {
  let dir: string;
  let cleanup: () => void;
  let opts: CliOptions;
  const run = (...args: string[]) => berth(args, opts);
  const merged = () => fs.readFileSync(path.join(dir, 'docker-compose.berth.yml'), 'utf8');

  before(() => {
    ({ dir, cleanup } = tempDir());
    opts = { cwd: dir, db: path.join(dir, 'berth.db'), env: { BERTH_STATE_DIR: path.join(dir, 'state') } };
    fs.writeFileSync(path.join(dir, 'berth.yaml'), `project: seq\nbase: ${BASE}\ndefaults:\n  strategy: sequential\n`);
    fs.writeFileSync(
      path.join(dir, 'docker-compose.yml'),
      [
        'version: "3.8"',
        '# the stack of the sequential seed',
        'services:',
        '  postgres:',
        '    image: postgres:15',
        '    ports:',
        '      - "${POSTGRES_PORT}:${POSTGRES_PORT}"',
        '  web:',
        '    image: nginx',
        '    ports:',
        `      - "${WEB}:80"`,
        '',
      ].join('\n'),
    );
  });
  after(() => cleanup());

  it('writes a standalone file without !override, ${VAR}:${VAR} resolved from the lease', () => {
    const res = run('compose-override', '--allocate', '--merged', '--write', 'docker-compose.berth.yml');
    assert.equal(res.code, 0, res.stderr);
    const pg = json<{ port: number }>(run('get', 'postgres', '--json')).port;
    assert.equal(pg, BASE);
    const text = merged();
    assert.doesNotMatch(text, /!override/);
    assert.match(text, new RegExp(`postgres:\\n    image: postgres:15\\n    ports:\\n      - "${pg}:${pg}"`));
    assert.match(text, new RegExp(`web:\\n    image: nginx\\n    ports:\\n      - "${WEB}:80"`));
    assert.match(text, /# the stack of the sequential seed/);
    assert.match(res.stderr, /use it with docker-compose -f .*docker-compose\.berth\.yml up/);
  });

  it("docker-compose v1's config accepts the merged file (and rejects the !override one)", (t) => {
    if (v1Missing !== null) return t.skip(v1Missing);
    const ok = composeV1Config(dir, ['docker-compose.berth.yml']);
    assert.equal(ok.code, 0, ok.out);
    assert.match(ok.out, new RegExp(`published: ${BASE}\\n\\s+target: ${BASE}`));
    assert.equal(run('compose-override', '--write', 'override.yml').code, 0);
    const tagged = composeV1Config(dir, ['docker-compose.yml', 'override.yml']);
    assert.notEqual(tagged.code, 0);
    assert.match(tagged.out, /!override/);
  });

  it('the merged file follows a reassign', () => {
    const res = run('reassign', 'postgres', String(BASE + 30));
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stderr, /re-rendered .*docker-compose\.berth\.yml \(compose\)/);
    assert.match(merged(), new RegExp(`- "${BASE + 30}:${BASE + 30}"`));
  });

  it("never replaces a file berth did not write (say, the base file itself, or the user's own override) without --force", () => {
    const base = fs.readFileSync(path.join(dir, 'docker-compose.yml'), 'utf8');
    const clobber = run('compose-override', '--merged', '--write', 'docker-compose.yml');
    assert.equal(clobber.code, 2, clobber.stderr);
    assert.match(clobber.stderr, /not writing .*docker-compose\.yml: it exists and berth did not write it.*--force/);
    assert.equal(fs.readFileSync(path.join(dir, 'docker-compose.yml'), 'utf8'), base, 'the base file is untouched');
    const own = 'services:\n  web:\n    volumes: ["./src:/app"]  # mine\n';
    fs.writeFileSync(path.join(dir, 'docker-compose.override.yml'), own);
    assert.equal(run('compose-override', '--write', 'docker-compose.override.yml').code, 2);
    assert.equal(fs.readFileSync(path.join(dir, 'docker-compose.override.yml'), 'utf8'), own);
    const forced = run('compose-override', '--write', 'docker-compose.override.yml', '--force');
    assert.equal(forced.code, 0, forced.stderr);
    assert.match(fs.readFileSync(path.join(dir, 'docker-compose.override.yml'), 'utf8'), /!override/);
    assert.equal(run('compose-override', '--write', 'docker-compose.override.yml').code, 0, "berth's own file, unedited: written again");
  });
});

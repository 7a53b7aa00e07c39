/**
 * berth run and the dev servers people run with it (issue 10, item 24): a framework that
 * ignores PORT gets its port flag; a lease port someone already holds is reported before
 * the spawn, naming the holder; a command that exits while a process it started still
 * listens leaves its ephemeral lease with that process, and berth says so.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { berth, tempDir } from '../helpers/cli.js';
import { freePort, waitFor } from '../launch/harness.js';

const cleanups: (() => void)[] = [];
after(() => cleanups.forEach((c) => c()));

function project(yaml: string): { dir: string; env: NodeJS.ProcessEnv } {
  const t = tempDir('berth-run-fw-');
  cleanups.push(t.cleanup);
  fs.writeFileSync(path.join(t.dir, 'berth.yaml'), yaml);
  return { dir: t.dir, env: { BERTH_STATE_DIR: path.join(t.dir, 'state'), BERTH_DB: path.join(t.dir, 'berth.db') } };
}

test('berth run -- vite: vite ignores PORT, so berth adds --port LEASE --strictPort', async () => {
  const port = await freePort();
  const p = project(`project: fw\nservices:\n  web:\n    port: ${port}\n`);
  const bin = path.join(p.dir, 'bin');
  fs.mkdirSync(bin);
  fs.writeFileSync(path.join(bin, 'vite'), `#!${process.execPath}\nconsole.log(JSON.stringify(process.argv.slice(2)));\n`, { mode: 0o755 });
  const res = berth(['run', 'web', '--', 'vite'], { cwd: p.dir, env: { ...p.env, PATH: `${bin}:${process.env.PATH}` } });
  assert.equal(res.code, 0, res.stderr);
  assert.deepEqual(JSON.parse(res.stdout), ['--port', String(port), '--strictPort']);
  assert.match(res.stderr, new RegExp(`vite ignores PORT; running it with --port ${port} --strictPort`));
});

test('a lease port someone took since it was leased is reported before the spawn, naming the holder', async () => {
  const port = await freePort();
  const p = project(`project: fw2\nservices:\n  web:\n    port: ${port}\n`);
  assert.equal(berth(['allocate', 'web'], { cwd: p.dir, env: p.env }).code, 0);
  const holder = spawn(process.execPath, ['-e', `require('net').createServer().listen(${port}, '127.0.0.1', () => console.log('ready'))`], { stdio: ['ignore', 'pipe', 'ignore'] });
  cleanups.push(() => holder.kill('SIGKILL'));
  await new Promise((r) => holder.stdout!.once('data', r));
  const res = berth(['run', 'web', '--', process.execPath, '-e', '0'], { cwd: p.dir, env: p.env });
  assert.match(res.stderr, new RegExp(`port ${port} \\(web\\) is already held by pid ${holder.pid} \\(node\\)`));
});

test('a command that exits while the server it started still listens leaves its ephemeral lease with that server', async () => {
  const p = project('project: fw3\nservices:\n  web: {}\n');
  const server = `require('http').createServer().listen(process.env.PORT, '127.0.0.1', () => { console.log(process.pid); })`;
  const starter = `const c = require('child_process').spawn(process.execPath, ['-e', ${JSON.stringify(server)}], { detached: true, stdio: ['ignore', 'pipe', 'ignore'] }); c.stdout.once('data', (d) => { console.log(String(d).trim()); process.exit(0); });`;
  const res = berth(['run', '--ephemeral', 'web', '--', process.execPath, '-e', starter], { cwd: p.dir, env: p.env });
  const daemon = Number(res.stdout.trim());
  cleanups.push(() => {
    try {
      process.kill(daemon, 'SIGKILL');
    } catch {
      // Already gone.
    }
  });
  assert.equal(res.code, 0, res.stderr);
  assert.ok(daemon > 0, res.stdout);
  assert.match(res.stderr, new RegExp(`lease web \\(port \\d+\\) stays: the command exited but pid ${daemon} \\(node\\).* still listens on it and now owns it`));
  const [lease] = JSON.parse(berth(['list', '--json', '--scope', 'fw3'], { cwd: p.dir, env: p.env }).stdout) as { pid: number; ephemeral: boolean }[];
  assert.equal(lease!.pid, daemon);
  process.kill(daemon, 'SIGKILL');
  await waitFor('the server to be gone', () => {
    try {
      process.kill(daemon, 0);
      return false;
    } catch {
      return true;
    }
  });
  const gc = berth(['gc'], { cwd: p.dir, env: p.env });
  assert.equal(gc.code, 0, gc.stderr);
  assert.equal(berth(['list', '--json', '--scope', 'fw3'], { cwd: p.dir, env: p.env }).stdout.trim(), '[]', 'gc reclaims it once the server is gone');
});

/**
 * Files berth reads, through the built CLI as a user types it (`--config`, `import FILE`,
 * `import -`, the `.env` that `env --write` merges into, `compose-override --file`): a
 * FIFO, `/dev/zero`, `/proc/self/fd/0` of a pipe nobody writes to, and files past the size
 * limit are refused with exit 2 before (or instead of) reading without end. Every run has a
 * time limit and is killed past it, so a missing fix fails instead of hanging the suite.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BERTH_BIN, berth, cliEnv, tempDir, storeState, type CliResult } from '../helpers/cli.js';

const RUN_LIMIT_MS = 15_000;
const MIB = 1024 * 1024;
const HAS_PROC = fs.existsSync('/proc/self/fd');

let dir: string;
let cleanup: () => void;
let db: string;
let stateBefore: string;

function cli(args: readonly string[]): CliResult {
  return berth(args, { cwd: dir, db, timeoutMs: RUN_LIMIT_MS });
}

function assertRefused(res: CliResult, message: RegExp, what: string): void {
  assert.equal(res.code, 2, `${what} -> exit ${res.code} (null: killed after ${RUN_LIMIT_MS} ms)\n${res.stderr}`);
  assert.match(res.stderr, message, what);
  assert.doesNotMatch(res.stderr, /unexpected error|\n\s+at /, `${what}: no stack trace`);
}

function refused(args: readonly string[], message: RegExp): void {
  assertRefused(cli(args), message, `berth ${args.join(' ')}`);
}

/** A file of `bytes` zero bytes that takes no disk space. */
function sparse(name: string, bytes: number): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, '');
  fs.truncateSync(file, bytes);
  return file;
}

/**
 * Runs `berth ARGS` with its stdin a real pipe whose writer (`sleep`) never writes nor
 * closes, so that /proc/self/fd/0 is that pipe; the whole process group is killed once
 * berth has exited, or after RUN_LIMIT_MS.
 */
function withSilentPipe(args: readonly string[]): Promise<CliResult> {
  const quoted = [process.execPath, BERTH_BIN, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  // The echo is inside the pipeline's last element: after it, sh waits for sleep.
  const script = `sleep 60 | { ${quoted}; echo "berth exit $?" >&2; }`;
  const child = spawn('sh', ['-c', script], { cwd: dir, env: cliEnv({ db }), detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  return new Promise((resolve) => {
    const finish = (code: number | null): void => {
      clearTimeout(timer);
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // The group is gone already.
      }
      resolve({ code, stdout, stderr: stderr.replace(/berth exit \d+\n$/, '') });
    };
    const timer = setTimeout(() => finish(null), RUN_LIMIT_MS);
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => {
      stderr += d;
      const m = /berth exit (\d+)\n$/.exec(stderr);
      if (m !== null) finish(Number(m[1]));
    });
  });
}

describe('files berth reads', () => {
  before(() => {
    ({ dir, cleanup } = tempDir('berth-files-read-'));
    db = path.join(dir, 'berth.db');
    fs.writeFileSync(path.join(dir, 'berth.yaml'), `base: ${29_800 + Math.floor(Math.random() * 40) * 20}\nservices:\n  web: {}\n`);
    fs.writeFileSync(path.join(dir, 'compose.yaml'), 'services:\n  web:\n    image: nginx\n    ports:\n      - "8080:80"\n');
    assert.equal(cli(['allocate', 'web']).code, 0);
    stateBefore = storeState(db, dir);
  });
  after(() => cleanup());

  describe('--config', () => {
    it('a FIFO, given or found as berth.yaml, is refused at once', () => {
      execFileSync('mkfifo', [path.join(dir, 'fifo.yaml')]);
      refused(['--config', 'fifo.yaml', 'env'], /fifo\.yaml: cannot read the config file \(it is a FIFO \(named pipe\), not a regular file\)/);
      const sub = path.join(dir, 'fifo-project');
      fs.mkdirSync(sub);
      execFileSync('mkfifo', [path.join(sub, 'berth.yaml')]);
      assertRefused(berth(['env'], { cwd: sub, db, timeoutMs: RUN_LIMIT_MS }), /berth\.yaml: cannot read the config file \(it is a FIFO/, 'found upward');
    });

    it('/dev/zero is refused, not read without end', () => {
      refused(['--config', '/dev/zero', 'env'], /\/dev\/zero: cannot read the config file \(it is a character device, not a regular file\)/);
    });

    it('/proc/self/fd/0 of a pipe nobody writes to is refused, not waited on', { skip: !HAS_PROC && 'no /proc' }, async () => {
      assertRefused(await withSilentPipe(['--config', '/proc/self/fd/0', 'env']), /cannot read the config file \(it is a FIFO/, '--config /proc/self/fd/0');
    });

    it('a file over 8 MiB is refused with the limit', () => {
      sparse('huge.yaml', 8 * MIB + 1);
      refused(['--config', 'huge.yaml', 'env'], /huge\.yaml: cannot read the config file \(it holds more than 8 MiB, the most berth reads from it\)/);
    });
  });

  describe('import', () => {
    it('a FIFO, /dev/zero and a directory are refused; nothing is imported', () => {
      execFileSync('mkfifo', [path.join(dir, 'snapshot.fifo')]);
      refused(['import', 'snapshot.fifo'], /cannot read snapshot\.fifo: it is a FIFO \(named pipe\), not a regular file/);
      refused(['import', '/dev/zero'], /cannot read \/dev\/zero: it is a character device/);
      refused(['import', dir], /it is a directory/);
      assert.equal(storeState(db, dir), stateBefore);
    });

    it('/proc/self/fd/0 of a pipe nobody writes to is refused', { skip: !HAS_PROC && 'no /proc' }, async () => {
      assertRefused(await withSilentPipe(['import', '/proc/self/fd/0']), /cannot read \/proc\/self\/fd\/0: it is a FIFO/, 'import /proc/self/fd/0');
    });

    it('a snapshot over 64 MiB is refused with the limit, from a file or from stdin', () => {
      sparse('huge.json', 64 * MIB + 1);
      refused(['import', 'huge.json'], /cannot read huge\.json: it holds more than 64 MiB/);
      const zero = fs.openSync('/dev/zero', 'r');
      try {
        const res = spawnSync(process.execPath, [BERTH_BIN, 'import', '-'], { cwd: dir, env: cliEnv({ db }), stdio: [zero, 'pipe', 'pipe'], encoding: 'utf8', timeout: RUN_LIMIT_MS });
        assertRefused({ code: res.status, stdout: res.stdout, stderr: res.stderr }, /cannot read stdin: it holds more than 64 MiB/, 'import - < /dev/zero');
      } finally {
        fs.closeSync(zero);
      }
      assert.equal(storeState(db, dir), stateBefore);
    });

    it('stdin still works: import - of an export', () => {
      const snapshot = cli(['export']).stdout;
      const res = berth(['import', '-'], { cwd: dir, db, input: snapshot, timeoutMs: RUN_LIMIT_MS });
      assert.equal(res.code, 0, res.stderr);
    });
  });

  it('env --write refuses to merge into a .env over 8 MiB, and leaves it', () => {
    const env = sparse('big.env', 8 * MIB + 1);
    refused(['env', '--write', 'big.env'], /cannot read big\.env: it holds more than 8 MiB/);
    assert.equal(fs.statSync(env).size, 8 * MIB + 1);
  });

  it('compose-override refuses a compose file over 8 MiB', () => {
    sparse('huge-compose.yaml', 8 * MIB + 1);
    refused(['compose-override', '--file', 'huge-compose.yaml'], /cannot read .*huge-compose\.yaml: it holds more than 8 MiB/);
  });
});

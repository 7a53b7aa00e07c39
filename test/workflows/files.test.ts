import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findComposeFile, writeEnvFile, writeFileAtomic } from '../../src/workflows/files.js';

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'berth-files-'));
}

const ENV_LINES = [
  '# Local settings for the app',
  '',
  'APP_NAME="My App"',
  "SECRET='s3 # cr3t'",
  'export NODE_ENV=development',
  'WEB_PORT=3000',
  'EMPTY=',
  '',
  '# end',
];

for (const eol of ['\n', '\r\n']) {
  const label = eol === '\n' ? 'LF' : 'CRLF';
  test(`writeEnvFile (${label}) changes only berth's key, appends a missing one, keeps mode, leaves no temp file`, async () => {
    const dir = tempDir();
    try {
      const path = join(dir, '.env');
      const before = ENV_LINES.join(eol) + eol;
      writeFileSync(path, before);
      chmodSync(path, 0o640);

      assert.equal(await writeEnvFile(path, [{ name: 'WEB_PORT', value: '3117' }]), true);
      assert.equal(readFileSync(path, 'utf8'), before.replace('WEB_PORT=3000', 'WEB_PORT=3117'));
      assert.equal(statSync(path).mode & 0o777, 0o640);

      assert.equal(await writeEnvFile(path, [{ name: 'WEB_PORT', value: '3117' }, { name: 'API_PORT', value: '4001' }]), true);
      assert.equal(readFileSync(path, 'utf8'), `${before.replace('WEB_PORT=3000', 'WEB_PORT=3117')}API_PORT=4001${eol}`);
      assert.deepEqual(readdirSync(dir), ['.env']);
      assert.equal(statSync(path).mode & 0o777, 0o640);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('writeEnvFile does not rewrite a file that already holds the values', async () => {
  const dir = tempDir();
  try {
    const path = join(dir, '.env');
    writeFileSync(path, 'WEB_PORT=3000\n');
    const inode = statSync(path).ino;
    assert.equal(await writeEnvFile(path, [{ name: 'WEB_PORT', value: '3000' }]), false);
    assert.equal(statSync(path).ino, inode);
    assert.equal(await writeEnvFile(path, [{ name: 'WEB_PORT', value: '3001' }]), true);
    assert.notEqual(statSync(path).ino, inode, 'a real write replaces the file by rename');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('writeEnvFile creates a missing file and keeps bytes that are not UTF-8', async () => {
  const dir = tempDir();
  try {
    const fresh = join(dir, 'new.env');
    assert.equal(await writeEnvFile(fresh, [{ name: 'A_PORT', value: '1' }]), true);
    assert.equal(readFileSync(fresh, 'utf8'), 'A_PORT=1\n');

    const latin1 = join(dir, 'latin1.env');
    const before = Buffer.concat([Buffer.from('NAME=caf'), Buffer.from([0xe9]), Buffer.from('\nWEB_PORT=1\n')]);
    writeFileSync(latin1, before);
    await writeEnvFile(latin1, [{ name: 'WEB_PORT', value: '2' }, { name: 'GREETING', value: 'héllo wörld' }]);
    const after = readFileSync(latin1);
    assert.deepEqual(after.subarray(0, 9), before.subarray(0, 9));
    assert.equal(after.subarray(9).toString('utf8'), "\nWEB_PORT=2\nGREETING='héllo wörld'\n");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('writeFileAtomic follows a symlink and replaces its target', async () => {
  const dir = tempDir();
  try {
    writeFileSync(join(dir, 'shared.env'), 'A=1\n');
    symlinkSync('shared.env', join(dir, '.env'));
    await writeFileAtomic(join(dir, '.env'), 'A=2\n');
    assert.ok(statSync(join(dir, '.env')).isFile());
    assert.equal(readFileSync(join(dir, 'shared.env'), 'utf8'), 'A=2\n');
    assert.deepEqual(readdirSync(dir).sort(), ['.env', 'shared.env']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('writeFileAtomic leaves neither temp file nor damage when it fails', async () => {
  const dir = tempDir();
  try {
    mkdirSync(join(dir, 'target'));
    writeFileSync(join(dir, 'target', 'keep'), 'x');
    // Renaming a file over a non-empty directory fails after the temp file was written.
    await assert.rejects(writeFileAtomic(join(dir, 'target'), 'data'));
    assert.deepEqual(readdirSync(dir), ['target']);
    assert.deepEqual(readdirSync(join(dir, 'target')), ['keep']);
    await assert.rejects(writeFileAtomic(join(dir, 'missing-dir', 'f'), 'data'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('readers racing writeFileAtomic only ever see a whole old or whole new file', async () => {
  const dir = tempDir();
  try {
    const path = join(dir, 'big.env');
    const versions = ['a', 'b', 'c', 'd'].map((c) => `${c.repeat(512 * 1024)}\n`);
    writeFileSync(path, versions[0]!);
    const reads: Promise<string>[] = [];
    const writes: Promise<void>[] = [];
    for (let round = 0; round < 8; round += 1) {
      writes.push(writeFileAtomic(path, versions[round % versions.length]!));
      reads.push(readFile(path, 'utf8'));
    }
    await Promise.all(writes);
    for (const text of await Promise.all(reads)) assert.ok(versions.includes(text), 'a read saw a partial file');
    assert.deepEqual(readdirSync(dir), ['big.env']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('findComposeFile looks for compose.yaml, compose.yml, docker-compose.yml, docker-compose.yaml in order', async () => {
  const dir = tempDir();
  try {
    assert.equal(await findComposeFile(dir), null);
    mkdirSync(join(dir, 'compose.yaml')); // a directory is not a compose file
    writeFileSync(join(dir, 'docker-compose.yaml'), 'services: {}\n');
    assert.equal(await findComposeFile(dir), join(dir, 'docker-compose.yaml'));
    writeFileSync(join(dir, 'docker-compose.yml'), 'services: {}\n');
    assert.equal(await findComposeFile(dir), join(dir, 'docker-compose.yml'));
    writeFileSync(join(dir, 'compose.yml'), 'services: {}\n');
    assert.equal(await findComposeFile(dir), join(dir, 'compose.yml'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/**
 * safe-read.ts and safe-write.ts, the one home for the caller's files: reads take regular files only and
 * stop at a byte limit; writes refuse special files and other users' links, and land
 * atomically. Real FIFOs, sockets, device nodes (root), /proc links and links owned by
 * `nobody` (root); nothing here can hang, since nothing opens a FIFO blocking.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { UsageError } from '../../src/errors.js';
import { MAX_TEXT_FILE_BYTES, readBoundedStream, readRegularFile } from '../../src/fs/safe-read.js';
import { NEW_FILE_MODE, resolveWriteTarget, updateFile, writeFileAtomic, writeFileIfChanged } from '../../src/workflows/safe-write.js';

const IS_ROOT = process.getuid?.() === 0;
const NOBODY = 65534;
const NEEDS_ROOT = !IS_ROOT && 'needs root (device nodes, links owned by nobody)';

let dir: string;
before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-safe-file-'));
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A fresh path in the test directory. */
let names = 0;
function fresh(label: string): string {
  names += 1;
  return path.join(dir, `${label}-${names}`);
}

function fifo(): string {
  const file = fresh('fifo');
  execFileSync('mkfifo', [file]);
  return file;
}

/** A UsageError whose message matches `re`. */
function usage(re: RegExp): (e: unknown) => boolean {
  return (e: unknown) => e instanceof UsageError && e.exitCode === 2 && re.test(e.message);
}

describe('readRegularFile', () => {
  it('reads a regular file, and gives null for a missing one', async () => {
    const file = fresh('plain');
    fs.writeFileSync(file, 'A=1\n');
    assert.equal((await readRegularFile(file))?.toString(), 'A=1\n');
    assert.equal(await readRegularFile(fresh('missing')), null);
  });

  it('refuses a FIFO, /dev/zero, a directory and a socket before reading', async () => {
    await assert.rejects(readRegularFile(fifo()), usage(/it is a FIFO \(named pipe\), not a regular file/));
    await assert.rejects(readRegularFile('/dev/zero'), usage(/\/dev\/zero: it is a character device/));
    await assert.rejects(readRegularFile(dir), usage(/it is a directory/));
    const sock = fresh('sock');
    const server = net.createServer().listen(sock);
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      await assert.rejects(readRegularFile(sock), usage(/socket/));
    } finally {
      server.close();
    }
  });

  it('refuses /proc/PID/fd/0 of a pipe held open by a writer that never writes, and of a socket', { skip: !fs.existsSync('/proc/self/fd') && 'no /proc' }, async () => {
    // `sleep | sleep`: the second one's stdin is a real pipe whose writer never writes.
    const shell = spawn('sh', ['-c', 'sleep 30 | sh -c \'echo $$; exec sleep 30\''], { stdio: ['ignore', 'pipe', 'ignore'], detached: true });
    try {
      const pid = await new Promise<string>((resolve) => shell.stdout.once('data', (d: Buffer) => resolve(d.toString().trim())));
      await assert.rejects(readRegularFile(`/proc/${pid}/fd/0`), usage(/it is a FIFO/));
    } finally {
      process.kill(-shell.pid!, 'SIGKILL');
    }
    // Node's own stdio pipes are socket pairs: opening one through /proc fails at once.
    const child = spawn('sleep', ['30'], { stdio: ['pipe', 'ignore', 'ignore'] });
    try {
      await assert.rejects(readRegularFile(`/proc/${child.pid}/fd/0`), usage(/socket/));
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('stops at maxBytes: by size before reading, and while reading a file that says 0 bytes', async () => {
    const file = fresh('big');
    fs.writeFileSync(file, 'x'.repeat(1001));
    await assert.rejects(readRegularFile(file, { maxBytes: 1000 }), usage(/holds more than 1000 bytes/));
    assert.equal((await readRegularFile(file, { maxBytes: 1001 }))?.length, 1001);
    const sparse = fresh('sparse');
    fs.writeFileSync(sparse, "");
    fs.truncateSync(sparse, MAX_TEXT_FILE_BYTES + 1);
    await assert.rejects(readRegularFile(sparse), usage(/holds more than 8 MiB/));
    if (fs.existsSync('/proc/self/status')) {
      await assert.rejects(readRegularFile('/proc/self/status', { maxBytes: 10 }), usage(/more than 10 bytes/));
      assert.match((await readRegularFile('/proc/self/status'))!.toString(), /^Name:/);
    }
  });

  it('readBoundedStream gives everything up to the limit and refuses more', async () => {
    assert.equal((await readBoundedStream(Readable.from([Buffer.from('ab'), Buffer.from('cd')]), 'stdin', 4)).toString(), 'abcd');
    await assert.rejects(readBoundedStream(Readable.from([Buffer.from('ab'), Buffer.from('cde')]), 'stdin', 4), usage(/cannot read stdin: it holds more than 4 bytes/));
  });
});

describe('writes: special files', () => {
  it('an empty path is named as such', async () => {
    await assert.rejects(writeFileAtomic('', 'x'), usage(/empty path/));
  });

  it('a FIFO, a socket and a directory are refused, naming what they are, and stay', async () => {
    const pipe = fifo();
    for (const write of [writeFileAtomic, writeFileIfChanged]) {
      await assert.rejects(write(pipe, 'x'), usage(/cannot write .*fifo-\d+: it is a FIFO \(named pipe\), not a regular file/));
    }
    await assert.rejects(updateFile(pipe, () => 'x'), usage(/FIFO/));
    assert.ok(fs.lstatSync(pipe).isFIFO());
    const sock = fresh('sock');
    const server = net.createServer().listen(sock);
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      await assert.rejects(writeFileAtomic(sock, 'x'), usage(/it is a socket/));
      assert.ok(fs.lstatSync(sock).isSocket());
    } finally {
      server.close();
    }
    await assert.rejects(writeFileAtomic(dir, 'x'), usage(/it is a directory/));
    assert.deepEqual(fs.readdirSync(dir).filter((f) => f.endsWith('.berth-tmp')), [], 'no temp file left');
  });

  it('a device node (a copy of /dev/null) is refused, even as root, and stays a device', { skip: NEEDS_ROOT }, async () => {
    const node = fresh('null');
    execFileSync('mknod', [node, 'c', '1', '3']);
    await assert.rejects(writeFileAtomic(node, 'x'), usage(/it is a character device/));
    assert.ok(fs.lstatSync(node).isCharacterDevice());
    // Through the user's own link, the message names where the link leads.
    const link = fresh('link-to-null');
    fs.symlinkSync(node, link);
    await assert.rejects(writeFileAtomic(link, 'x'), usage(/it leads to .*null-\d+, which is a character device/));
  });
});

describe('writes: links', () => {
  it("the user's own link is followed: the target is replaced, keeps its mode, the link stays", async () => {
    const target = fresh('shared.env');
    fs.writeFileSync(target, 'A=1\n', { mode: 0o600 });
    fs.chmodSync(target, 0o600);
    const link = fresh('.env');
    fs.symlinkSync(path.basename(target), link);
    await writeFileAtomic(link, 'A=2\n');
    assert.ok(fs.lstatSync(link).isSymbolicLink());
    assert.equal(fs.readFileSync(target, 'utf8'), 'A=2\n');
    assert.equal(fs.statSync(target).mode & 0o777, 0o600);
  });

  it("the user's own link to a missing file creates that file, as editors do", async () => {
    const target = fresh('made');
    const link = fresh('own-dangling');
    fs.symlinkSync(target, link);
    await writeFileAtomic(link, 'new\n');
    assert.equal(fs.readFileSync(target, 'utf8'), 'new\n');
    assert.ok(fs.lstatSync(link).isSymbolicLink());
  });

  describe("another user's link in a sticky shared directory", { skip: NEEDS_ROOT }, () => {
    let shared: string;
    let victim: string;
    before(() => {
      shared = fresh('sticky');
      fs.mkdirSync(shared);
      fs.chmodSync(shared, 0o1777);
      victim = fresh('roots-file');
      fs.writeFileSync(victim, 'root only\n', { mode: 0o600 });
    });

    function plant(name: string, to: string): string {
      const link = path.join(shared, name);
      fs.symlinkSync(to, link);
      fs.lchownSync(link, NOBODY, NOBODY);
      return link;
    }

    it('is not followed: the target is untouched, the link stays, nothing is written', async () => {
      const link = plant('out.env', victim);
      for (const write of [(p: string) => writeFileAtomic(p, 'PWNED\n'), (p: string) => writeFileIfChanged(p, 'PWNED\n'), (p: string) => updateFile(p, () => 'PWNED\n')]) {
        await assert.rejects(write(link), usage(/out\.env is a symbolic link owned by another user \(uid 65534\); berth follows only links owned by you or root/));
      }
      assert.equal(fs.readFileSync(victim, 'utf8'), 'root only\n');
      assert.equal(fs.readlinkSync(link), victim);
      assert.deepEqual(fs.readdirSync(shared), ['out.env']);
    });

    it('dangling, it is neither followed nor replaced', async () => {
      const wanted = fresh('would-be-created');
      const link = plant('dangling.env', wanted);
      await assert.rejects(writeFileAtomic(link, 'PWNED\n'), usage(/symbolic link owned by another user/));
      assert.equal(fs.existsSync(wanted), false);
      assert.ok(fs.lstatSync(link).isSymbolicLink());
    });

    it('as a directory on the way, it is not followed either', async () => {
      const elsewhere = fresh('elsewhere');
      fs.mkdirSync(elsewhere);
      plant('subdir', elsewhere);
      await assert.rejects(writeFileAtomic(path.join(shared, 'subdir', '.env'), 'PWNED\n'), usage(/subdir is a symbolic link owned by another user/));
      assert.deepEqual(fs.readdirSync(elsewhere), []);
    });

    it("root's own link there is followed", async () => {
      const target = fresh('root-target');
      fs.writeFileSync(target, 'old\n');
      const link = path.join(shared, 'roots-link');
      fs.symlinkSync(target, link);
      await writeFileAtomic(link, 'new\n');
      assert.equal(fs.readFileSync(target, 'utf8'), 'new\n');
    });
  });

  it('resolveWriteTarget names the file the data lands in', async () => {
    const target = fresh('t');
    const link = fresh('l');
    fs.symlinkSync(target, link);
    const resolved = await resolveWriteTarget(link);
    assert.equal(resolved.file, fs.realpathSync(path.dirname(target)) + path.sep + path.basename(target));
    assert.equal(resolved.existing, null);
  });
});

describe('writes: atomic, modes, unchanged files', () => {
  it('a new file gets NEW_FILE_MODE less the umask; an existing one keeps its mode', async () => {
    const file = fresh('new');
    await writeFileAtomic(file, 'x');
    const umask = process.umask();
    assert.equal(fs.statSync(file).mode & 0o777, NEW_FILE_MODE & ~umask);
    fs.chmodSync(file, 0o640);
    await writeFileAtomic(file, 'y');
    assert.equal(fs.statSync(file).mode & 0o777, 0o640);
  });

  it('the file is replaced by rename (a new inode), never written in place', async () => {
    const file = fresh('inode');
    fs.writeFileSync(file, 'old');
    const hardLink = fresh('hard');
    fs.linkSync(file, hardLink);
    await writeFileAtomic(file, 'new');
    assert.equal(fs.readFileSync(file, 'utf8'), 'new');
    assert.equal(fs.readFileSync(hardLink, 'utf8'), 'old', 'the old inode was not written');
  });

  it('writeFileIfChanged and updateFile leave a file that already holds the data untouched', async () => {
    const file = fresh('same');
    fs.writeFileSync(file, 'same\n');
    const inode = fs.statSync(file).ino;
    assert.equal(await writeFileIfChanged(file, 'same\n'), false);
    assert.equal(await updateFile(file, (old) => (old?.toString() === 'same\n' ? null : 'other')), false);
    assert.equal(fs.statSync(file).ino, inode);
    assert.equal(await writeFileIfChanged(file, 'changed\n'), true);
    assert.equal(fs.readFileSync(file, 'utf8'), 'changed\n');
  });

  it('updateFile refuses to merge into a file larger than its limit, and leaves it', async () => {
    const file = fresh('too-big.env');
    fs.writeFileSync(file, 'A=1\n'.repeat(300));
    await assert.rejects(updateFile(file, () => 'x', 1000), usage(/too-big\.env-\d+: it holds more than 1000 bytes/));
    assert.equal(fs.statSync(file).size, 1200);
  });
});

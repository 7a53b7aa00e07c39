/**
 * The full executable name of a process, which Linux's comm cuts to 15 characters: parsed
 * from captured /proc/PID/{comm,exe,cmdline}, and read from a real process whose name is
 * longer than comm can hold.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { executableName } from '../../src/os/parse-proc.js';
import { processInfo } from '../../src/os/index.js';
import { tempDir } from '../helpers/cli.js';
import { linkOrCopy, startNode, stopNode, type Helper } from './helpers.js';

// Captured from a podman rootless port forwarder: comm is cut to 15 characters, the exe
// link and argv[0] are not.
const FORWARDER = {
  comm: 'rootlessport-ch\n',
  exe: '/usr/libexec/podman/rootlessport-child',
  cmdline: 'rootlessport-child\0',
};

test('exe target: the full name, where comm is cut to 15 characters', () => {
  assert.equal(FORWARDER.comm.trim().length, 15);
  assert.equal(executableName(FORWARDER.exe, FORWARDER.cmdline), 'rootlessport-child');
  assert.equal(executableName('/usr/bin/pasta.avx2', '/usr/bin/pasta\0--config-net\0-t\x008080\0'), 'pasta.avx2', 'the exe wins over argv[0]');
  assert.equal(executableName('/usr/bin/slirp4netns (deleted)', null), 'slirp4netns', 'a binary replaced by an upgrade keeps its name');
});

test('exe unreadable (another user): argv[0] from the raw cmdline, basename only', () => {
  assert.equal(executableName(null, FORWARDER.cmdline), 'rootlessport-child');
  assert.equal(executableName(null, '/usr/bin/passt\0--foreground\0'), 'passt');
  assert.equal(executableName(null, 'slirp4netns'), 'slirp4netns', 'no trailing NUL');
  assert.equal(executableName('', 'conmon\0'), 'conmon', 'an empty link target counts as unreadable');
});

test('nothing names a file: null (kernel threads have neither exe nor cmdline)', () => {
  assert.equal(executableName(null, null), null);
  assert.equal(executableName(null, ''), null);
  assert.equal(executableName(null, '\0'), null);
  assert.equal(executableName('/usr/bin/', null), null);
});

test('a real process named rootlessport-child: comm says rootlessport-ch, executable the full name', { skip: process.platform !== 'linux' && 'comm is Linux' }, async () => {
  const { dir, cleanup } = tempDir('berth-exe-');
  let helper: Helper | undefined;
  try {
    const binary = path.join(dir, 'rootlessport-child');
    linkOrCopy(process.execPath, binary);
    helper = await startNode(`console.log('ready'); setInterval(() => {}, 1 << 30)`, [], { execPath: binary });
    const info = processInfo(helper.pid);
    assert.equal(info?.name, 'rootlessport-ch');
    assert.equal(info?.executable, 'rootlessport-child');
    assert.equal(processInfo(process.pid)?.executable, path.basename(fs.realpathSync(process.execPath)));
  } finally {
    await stopNode(helper);
    cleanup();
  }
});


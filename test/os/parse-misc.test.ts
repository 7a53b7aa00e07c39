import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parsePasswd } from '../../src/os/parse-passwd.js';
import { parseCmdline, parsePortRange, parseProcStat, parseProcStatus } from '../../src/os/parse-proc.js';
import { parsePsCommands, parsePsParents, parsePsRows } from '../../src/os/parse-ps.js';
import { descendantsOf } from '../../src/os/process-tree.js';

test('passwd: uid to name, first entry wins, comments and junk skipped', () => {
  const names = parsePasswd('root:x:0:0:root:/root:/bin/bash\n# comment\nalice:x:1000:1000::/home/alice:/bin/sh\nalias:x:1000:1000::/:/bin/sh\nbroken\nnobody:x:65534:65534::/:/usr/sbin/nologin\n');
  assert.deepEqual([...names], [
    [0, 'root'],
    [1000, 'alice'],
    [65534, 'nobody'],
  ]);
});

test('/proc/PID/status: name, parent, effective uid', () => {
  const text = 'Name:\tnode\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t4242\nPid:\t4242\nPPid:\t17\nUid:\t1000\t1001\t1001\t1001\nGid:\t1000\t1000\t1000\t1000\n';
  assert.deepEqual(parseProcStatus(text), { name: 'node', ppid: 17, uid: 1001 });
  assert.equal(parseProcStatus('Name:\tx\n'), null);
});

test('/proc/PID/stat: a name with spaces and parentheses does not shift the fields', () => {
  const text = '4242 (my (weird) name) S 17 4242 17 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 987654 1000 10 18446744073709551615\n';
  assert.deepEqual(parseProcStat(text), { state: 'S', ppid: 17, pgid: 4242, startTime: 987654 });
  assert.equal(parseProcStat('4242 (z) Z 1 4242 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 55 0 0')?.state, 'Z');
  assert.equal(parseProcStat('garbage'), null);
});

test('/proc/PID/cmdline: NUL-separated arguments become one line', () => {
  assert.equal(parseCmdline('node\0server.js\0--port\x003000\0'), 'node server.js --port 3000');
  assert.equal(parseCmdline(''), null, 'kernel threads have none');
});

test('ephemeral port range', () => {
  assert.deepEqual(parsePortRange('32768\t60999\n'), { start: 32768, end: 60999 });
  assert.equal(parsePortRange('60999 32768'), null);
  assert.equal(parsePortRange(''), null);
});

test('ps output (macOS): rows, command lines with spaces, parents', () => {
  assert.deepEqual(parsePsRows('  612   1  501 alice  ControlCenter\n48213 48100 501 alice node\n'), [
    { pid: 612, ppid: 1, uid: 501, user: 'alice', name: 'ControlCenter' },
    { pid: 48213, ppid: 48100, uid: 501, user: 'alice', name: 'node' },
  ]);
  assert.deepEqual([...parsePsCommands('48213 /usr/local/bin/node server.js --port 3000\n  911 /opt/homebrew/opt/postgresql@16/bin/postgres -D /opt/homebrew/var/postgresql@16\n')], [
    [48213, '/usr/local/bin/node server.js --port 3000'],
    [911, '/opt/homebrew/opt/postgresql@16/bin/postgres -D /opt/homebrew/var/postgresql@16'],
  ]);
  assert.deepEqual([...parsePsParents('    0     0\n    1     0\n  100     1\n')], [
    [0, 0],
    [1, 0],
    [100, 1],
  ]);
});

test('descendants: whole subtree, parents first, cycles and self-parents ignored', () => {
  const parents = new Map([
    [0, 0],
    [1, 0],
    [10, 1],
    [11, 10],
    [12, 10],
    [13, 11],
    [20, 1],
  ]);
  assert.deepEqual(descendantsOf(10, parents), [11, 12, 13]);
  assert.deepEqual(descendantsOf(13, parents), []);
  assert.deepEqual(descendantsOf(99, parents), []);
});

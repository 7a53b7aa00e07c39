import assert from 'node:assert/strict';
import { test } from 'node:test';
import { lsofArgs } from '../../src/os/listeners-darwin.js';
import { parseLsof, splitEndpoint } from '../../src/os/parse-lsof.js';
import { LSOF_LINUX_NO_FD, LSOF_MACOS_TCP, LSOF_MACOS_UDP } from './fixtures.js';

test('macOS lsof TCP listeners: pid, name, login, family-resolved wildcards', () => {
  const rows = parseLsof(LSOF_MACOS_TCP).map((l) => [l.protocol, l.address, l.port, l.pid, l.process, l.user]);
  assert.deepEqual(rows, [
    ['tcp', '0.0.0.0', 7000, 612, 'ControlCenter', 'alice'],
    ['tcp', '::', 7000, 612, 'ControlCenter', 'alice'],
    ['tcp', '0.0.0.0', 5000, 612, 'ControlCenter', 'alice'],
    ['tcp', '::1', 3000, 48213, 'node', 'alice'],
    ['tcp', '127.0.0.1', 30000, 48213, 'node', 'alice'],
    ['tcp', '::', 8080, 1733, 'com.docker.backend', 'alice'],
    ['tcp', 'fe80:1::1', 5432, 911, 'postgres', '_postgres'],
    ['tcp', '::', 8443, 3301, 'java', '503'],
  ]);
  for (const l of parseLsof(LSOF_MACOS_TCP)) {
    assert.equal(l.command, null, 'lsof knows no command lines');
    assert.equal(l.container, null);
  }
});

test('macOS lsof UDP: bound sockets kept, sockets with a peer or no port dropped', () => {
  assert.deepEqual(
    parseLsof(LSOF_MACOS_UDP).map((l) => [l.protocol, l.address, l.port, l.pid, l.process, l.user]),
    [
      ['udp', '0.0.0.0', 5353, 401, 'mDNSResponder', '_mdnsresponder'],
      ['udp', '::', 5353, 401, 'mDNSResponder', '_mdnsresponder'],
    ],
  );
});

test('lsof 4.95 output without f fields still splits into one listener per file', () => {
  assert.deepEqual(
    parseLsof(LSOF_LINUX_NO_FD).map((l) => [l.address, l.port, l.pid]),
    [
      ['::', 37749, 10593],
      ['127.0.0.1', 35647, 10593],
      ['::1', 35215, 10593],
    ],
  );
});

test('a TCP socket lsof reports in another state is not a listener', () => {
  const text = 'p7\ncnc\nu0\nf3\ntIPv4\nPTCP\nn127.0.0.1:4000\nTST=CLOSE_WAIT\n';
  assert.deepEqual(parseLsof(text), []);
  assert.deepEqual(parseLsof(''), []);
});

test('endpoint splitting', () => {
  assert.deepEqual(splitEndpoint('*:3000', null), { address: '*', port: 3000 });
  assert.deepEqual(splitEndpoint('[fe80::1%lo0]:80', 'IPv6'), { address: 'fe80::1%lo0', port: 80 });
  assert.equal(splitEndpoint('*:*', 'IPv4'), null);
  assert.equal(splitEndpoint('nonsense', 'IPv4'), null);
  assert.equal(splitEndpoint('*:70000', 'IPv4'), null);
});

test('lsof arguments: exact port, LISTEN only for TCP, family and fd fields requested', () => {
  assert.deepEqual(lsofArgs('tcp', 3000), ['-nP', '-iTCP:3000', '-sTCP:LISTEN', '-FpcfnuLPTt']);
  assert.deepEqual(lsofArgs('udp'), ['-nP', '-iUDP', '-FpcfnuLPTt']);
});

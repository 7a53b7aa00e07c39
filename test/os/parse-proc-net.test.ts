import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeProcAddress, formatIpv6, isListening, parseProcNet, passedTcpListeners } from '../../src/os/parse-proc-net.js';
import { PROC_NET_TCP, PROC_NET_TCP6, PROC_NET_UDP, PROC_NET_UDP6 } from './fixtures.js';

const LE = true;

test('IPv4 listeners in /proc/net/tcp: address, port, uid, inode; connections and TIME_WAIT left out', () => {
  const listening = parseProcNet(PROC_NET_TCP, 'tcp', LE).filter(isListening);
  assert.deepEqual(
    listening.map((s) => [s.address, s.port, s.uid, s.inode]),
    [
      ['0.0.0.0', 5432, 0, 36455],
      ['0.0.0.0', 2024, 0, 1060],
      ['127.0.0.1', 3000, 1000, 36451],
      ['127.0.0.1', 35647, 0, 35447],
    ],
  );
  const all = parseProcNet(PROC_NET_TCP, 'tcp', LE);
  assert.equal(all.length, 7, 'every row parses, header skipped');
  assert.deepEqual(
    all.filter((s) => !isListening(s)).map((s) => [s.state, s.port]),
    [
      [0x01, 3000],
      [0x01, 38134],
      [0x06, 50000],
    ],
  );
});

test('IPv6 listeners in /proc/net/tcp6: wildcard, loopback and IPv4-mapped', () => {
  const listening = parseProcNet(PROC_NET_TCP6, 'tcp', LE).filter(isListening);
  assert.deepEqual(
    listening.map((s) => [s.address, s.port, s.uid]),
    [
      ['::', 37749, 0],
      ['::', 8080, 0],
      ['::1', 30000, 1000],
      ['::1', 35215, 0],
      ['::ffff:127.0.0.1', 300, 0],
    ],
  );
});

test('UDP: bound unconnected sockets are listeners, connected ones are not', () => {
  const v4 = parseProcNet(PROC_NET_UDP, 'udp', LE);
  assert.deepEqual(
    v4.filter(isListening).map((s) => [s.protocol, s.address, s.port, s.inode]),
    [
      ['udp', '0.0.0.0', 5353, 36458],
      ['udp', '127.0.0.1', 48021, 35449],
    ],
  );
  assert.equal(v4.length, 3);
  const v6 = parseProcNet(PROC_NET_UDP6, 'udp', LE).filter(isListening);
  assert.deepEqual(v6.map((s) => [s.address, s.port]), [['::1', 5354]]);
});

test('a state that TCP would call LISTEN does not make a UDP socket a listener, and port 0 never is one', () => {
  const base = { address: '0.0.0.0', uid: 0, inode: 1 };
  assert.equal(isListening({ ...base, protocol: 'udp', port: 53, state: 0x0a }), false);
  assert.equal(isListening({ ...base, protocol: 'tcp', port: 53, state: 0x07 }), false);
  assert.equal(isListening({ ...base, protocol: 'tcp', port: 0, state: 0x0a }), false);
});

test('address decoding: byte order, link-local, mapped, malformed', () => {
  assert.equal(decodeProcAddress('0100007F', true), '127.0.0.1');
  assert.equal(decodeProcAddress('7F000001', false), '127.0.0.1', 'big-endian producer');
  assert.equal(decodeProcAddress('0101A8C0', true), '192.168.1.1');
  assert.equal(decodeProcAddress('000080FE000000000000000001000000', true), 'fe80::1');
  assert.equal(decodeProcAddress('B80D0120000000000000000001000000', true), '2001:db8::1');
  assert.equal(decodeProcAddress('0000000000000000FFFF00000A01A8C0', true), '::ffff:192.168.1.10');
  assert.equal(decodeProcAddress('XYZ', true), null);
  assert.equal(decodeProcAddress('0100007F00', true), null);
});

test('IPv6 text follows RFC 5952: longest zero run compressed, a single zero group kept', () => {
  const bytes = (groups: number[]): number[] => groups.flatMap((g) => [g >> 8, g & 0xff]);
  assert.equal(formatIpv6(bytes([0, 0, 0, 0, 0, 0, 0, 0])), '::');
  assert.equal(formatIpv6(bytes([0x2001, 0xdb8, 0, 1, 0, 0, 0, 1])), '2001:db8:0:1::1');
  assert.equal(formatIpv6(bytes([0x2001, 0xdb8, 0, 0, 1, 0, 0, 1])), '2001:db8::1:0:0:1', 'first of equal runs');
  assert.equal(formatIpv6(bytes([1, 2, 3, 4, 5, 6, 7, 0])), '1:2:3:4:5:6:7:0');
  assert.equal(formatIpv6(bytes([0xfe80, 0, 0, 0, 0, 0, 0, 0])), 'fe80::');
});

test('rows that do not parse are skipped, not fatal', () => {
  assert.deepEqual(parseProcNet('garbage\n  0: nothing here\n', 'tcp', LE), []);
  assert.deepEqual(parseProcNet('', 'udp', LE), []);
});

test('the listening phase of /proc/net/tcp ends at the first row in another state', () => {
  const lines = PROC_NET_TCP.split('\n');
  assert.equal(passedTcpListeners(lines.slice(0, 5).join('\n')), false, 'header and LISTEN rows only');
  assert.equal(passedTcpListeners(lines.slice(0, 6).join('\n')), true, 'an ESTABLISHED row follows');
  assert.equal(passedTcpListeners(PROC_NET_TCP6), false);
  const synRecv = '   7: 0100007F:0BB8 0100007F:94F7 03 00000000:00000000 00:00000000 00000000     0        0 0 3 0000000000000000';
  assert.equal(passedTcpListeners(synRecv), false, 'pre-4.4 kernels print SYN_RECV requests under their listener');
});

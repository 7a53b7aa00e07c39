/** The one table of dev servers that ignore PORT, used by berth run and berth up. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { injectPortFlag, injectPortFlagShell } from '../../src/wiring/framework-flags.js';

test('frameworks that ignore PORT get their port flag, also behind npx / pnpm exec', () => {
  assert.deepEqual(injectPortFlag(['vite'], 5173).argv, ['vite', '--port', '5173', '--strictPort']);
  assert.deepEqual(injectPortFlag(['npx', 'vite', 'dev'], 4000).argv, ['npx', 'vite', 'dev', '--port', '4000', '--strictPort']);
  assert.deepEqual(injectPortFlag(['pnpm', 'exec', 'astro', 'dev'], 4001).argv, ['pnpm', 'exec', 'astro', 'dev', '--port', '4001']);
  assert.deepEqual(injectPortFlag(['ng', 'serve'], 4200).argv, ['ng', 'serve', '--port', '4200']);
  assert.deepEqual(injectPortFlag(['./node_modules/.bin/webpack', 'serve'], 8080).argv, ['./node_modules/.bin/webpack', 'serve', '--port', '8080']);
  assert.equal(injectPortFlag(['vite', 'build'], 1).injected, false, 'a build is not a server');
});

test('a command that sets its own port keeps it (with a note when it is not the lease); others are left alone', () => {
  const own = injectPortFlag(['vite', '--port', '3000'], 4000);
  assert.equal(own.injected, false);
  assert.match(own.note ?? '', /lease is port 4000/);
  assert.equal(injectPortFlag(['vite', '--port=4000'], 4000).note, null);
  const plain = injectPortFlag(['node', 'server.js'], 4000);
  assert.deepEqual(plain, { argv: ['node', 'server.js'], framework: null, injected: false, note: null });
  assert.match(injectPortFlag(['npm', 'run', 'dev'], 4000).note ?? '', /cannot see into.*-- --port 4000/);
});

test('shell command lines get the flag only when they are one simple command', () => {
  assert.equal(injectPortFlagShell('npx vite', 4000).line, 'npx vite --port 4000 --strictPort');
  const complex = injectPortFlagShell('cd web && vite', 4000);
  assert.equal(complex.injected, false);
  assert.equal(complex.line, 'cd web && vite');
});

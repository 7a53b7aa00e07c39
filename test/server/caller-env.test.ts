/**
 * The caller's environment handed to the daemon through the state directory (berth up's
 * way to give a stack its shell's variables without sending them over HTTP): taken once,
 * private to the user, and one left by a berth up that died before asking does not stay.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { UsageError } from '../../src/errors.js';
import { CALLER_ENV_STALE_MS, leaveCallerEnv, takeCallerEnv } from '../../src/server/state.js';
import { tempDir } from '../helpers/cli.js';

test('an environment is left 0600, taken once with its variables, then gone', (t) => {
  const state = tempDir('berth-caller-env-');
  t.after(() => state.cleanup());
  const id = leaveCallerEnv(state.dir, { FOO: 'bar', EMPTY: '', GONE: undefined });
  const file = path.join(state.dir, 'caller-env', `${id}.json`);
  assert.equal(fs.statSync(file).mode & 0o777, 0o600);
  assert.deepEqual(takeCallerEnv(state.dir, id), { FOO: 'bar', EMPTY: '' });
  assert.equal(fs.existsSync(file), false);
  assert.throws(() => takeCallerEnv(state.dir, id), UsageError, 'a second take finds nothing');
  assert.throws(() => takeCallerEnv(state.dir, '../../etc/passwd'), UsageError, 'an id is 32 hex digits, never a path');
});

test('leaving one removes those nobody took for longer than CALLER_ENV_STALE_MS, and keeps recent ones', (t) => {
  const state = tempDir('berth-caller-env-');
  t.after(() => state.cleanup());
  const stale = leaveCallerEnv(state.dir, { SECRET: 'old' });
  const recent = leaveCallerEnv(state.dir, { SECRET: 'new' });
  const folder = path.join(state.dir, 'caller-env');
  const past = (Date.now() - CALLER_ENV_STALE_MS - 60_000) / 1000;
  fs.utimesSync(path.join(folder, `${stale}.json`), past, past);
  const next = leaveCallerEnv(state.dir, { SECRET: 'next' });
  assert.deepEqual(fs.readdirSync(folder).sort(), [`${recent}.json`, `${next}.json`].sort());
});

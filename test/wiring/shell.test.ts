import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../../src/errors.js';
import { renderShell, shellQuote } from '../../src/wiring/shell.js';
import { renderComposeEnvFile, COMPOSE_ENV_HEADER } from '../../src/wiring/compose-env.js';
import { envObject, renderJson } from '../../src/wiring/json.js';

const HOSTILE = [
  'plain',
  'with spaces  and\ttabs',
  "single ' quote and '' two",
  'double " quote',
  'dollar $HOME ${PATH} $(touch MARKER)',
  'backtick `touch MARKER`',
  'line one\nline two\n',
  "mix '\"$`\\ \\' end\\",
  '',
  '; touch MARKER #',
];

for (const shell of ['bash', 'sh']) {
  test(`${shell}: eval of renderShell output gives each value back exactly and runs nothing`, () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-shell-'));
    try {
      const file = join(dir, 'ports.sh');
      writeFileSync(file, renderShell(HOSTILE.map((value, i) => ({ name: `VAR_${i}`, value }))));
      for (const [i, value] of HOSTILE.entries()) {
        const out = execFileSync(shell, ['-c', `eval "$(cat ${file})"; printf %s "$VAR_${i}"`], {
          cwd: dir,
          encoding: 'utf8',
          timeout: 10_000,
        });
        assert.equal(out, value, `value ${i}`);
      }
      // source works the same, and the variables are exported to children.
      const sourced = execFileSync(shell, ['-c', `. ${file}; node -e 'process.stdout.write(process.env.VAR_4)'`], {
        cwd: dir,
        encoding: 'utf8',
        timeout: 10_000,
      });
      assert.equal(sourced, HOSTILE[4]);
      assert.equal(existsSync(join(dir, 'MARKER')), false, 'something was executed');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('renderShell rejects names that are not variable names, and NUL values', () => {
  assert.throws(() => renderShell([{ name: 'A;touch x', value: '1' }]), UsageError);
  assert.throws(() => renderShell([{ name: '1A', value: '1' }]), UsageError);
  assert.throws(() => shellQuote('a\0b'), UsageError);
  assert.equal(renderShell([{ name: 'WEB_PORT', value: '3000' }]), "export WEB_PORT='3000'\n");
});

test('renderComposeEnvFile writes a header and KEY=value lines without export', () => {
  const text = renderComposeEnvFile([
    { name: 'WEB_PORT', value: '3000' },
    { name: 'GREETING', value: 'cost $5' },
  ]);
  assert.equal(text, `${COMPOSE_ENV_HEADER}\nWEB_PORT=3000\nGREETING='cost $5'\n`);
  assert.throws(() => renderComposeEnvFile([{ name: 'a-b', value: '1' }]), UsageError);
});

test('renderJson gives a NAME: value object in order, strings as in the environment', () => {
  const vars = [
    { name: 'WEB_PORT', value: '3000' },
    { name: 'WEB_URL', value: 'http://localhost:3000' },
    { name: '__proto__', value: 'plain key' },
  ];
  const parsed = JSON.parse(renderJson(vars)) as Record<string, string>;
  assert.deepEqual(Object.keys(parsed), ['WEB_PORT', 'WEB_URL', '__proto__']);
  assert.equal(parsed['WEB_PORT'], '3000');
  assert.equal(Object.getPrototypeOf(envObject(vars)), Object.prototype);
  assert.equal(envObject(vars)['__proto__'], 'plain key');
  assert.ok(renderJson(vars).endsWith('}\n'));
  assert.throws(() => envObject([{ name: 'A', value: '1' }, { name: 'A', value: '2' }]), UsageError);
});

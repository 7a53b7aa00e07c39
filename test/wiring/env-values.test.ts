/**
 * Every renderer's output is inert: hostile values rendered as dotenv, merged into an
 * existing `.env` (each old quote style), rendered as a compose env-file, as shell exports
 * and as JSON, then sourced by real bash and dash. No marker file appears, and each
 * variable holds exactly its value; values no spelling makes safe are refused naming the
 * variable.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { UsageError } from '../../src/errors.js';
import { renderComposeEnvFile } from '../../src/wiring/compose-env.js';
import { mergeDotenv, renderDotenv, type NamedValue } from '../../src/wiring/dotenv.js';
import { renderJson } from '../../src/wiring/json.js';
import { renderShell } from '../../src/wiring/shell.js';

/** Values that would create a PWNED… file, expand, or end the quoting early if mishandled. */
const HOSTILE: readonly string[] = [
  "a'b`touch PWNED1`",
  '$(touch PWNED2)',
  '`touch PWNED3`',
  "x'; touch PWNED4; '",
  'x"; touch PWNED5; "x',
  "\\'; touch PWNED6 #",
  '\\"$(touch PWNED7)\\"x',
  '$HOME ${PATH} $0 $1 $@ $$',
  "it's $HOME",
  "'${PATH}'",
  'a;touch PWNED11',
  'a && touch PWNED12',
  '#x',
  "x' #'",
  "a\\b\\\\c'",
  "$'\\x41'",
  '>PWNED17',
  '\t tab  ',
  "é '日本'",
  "'\\`touch PWNED20\\`'",
  '',
  ' ',
  "'",
  '"',
  '`',
  '$',
];

/** Refused by the env-file formats (dotenv, compose): no spelling is inert and exact. */
const UNSAFE_IN_ENV_FILES: readonly string[] = ['line\nbreak', 'cr\rhere', 'nul\0here', 'ends in backslash\\', `it's "quoted"`];

const vars = (values: readonly string[]): NamedValue[] => values.map((value, i) => ({ name: `V${i}`, value }));

/** Sources each file in `shell` and returns V0..Vn as each file set them, NUL-separated. */
function source(shell: string, dir: string, fileNames: readonly string[], count: number): string[][] {
  const script = fileNames
    .map((f) => `( set -a; . ./${f} || exit 9; printf '%s\\0' ${Array.from({ length: count }, (_, i) => `"$V${i}"`).join(' ')} ); printf '\\1'`)
    .join('\n');
  const out = execFileSync(shell, ['-c', script], { cwd: dir, encoding: 'utf8', timeout: 20_000 });
  return out.split('\u0001').slice(0, -1).map((chunk) => chunk.split('\0').slice(0, -1));
}

for (const shell of ['bash', 'dash']) {
  test(`${shell}: dotenv, merged .env, compose env-file and shell exports give every hostile value back and run nothing`, () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-env-values-'));
    try {
      const list = vars(HOSTILE);
      const merges = {
        double: list.map((v) => `${v.name}="old $ \\" value" # note`).join('\n'),
        single: list.map((v) => `export ${v.name}='old'`).join('\n'),
        bare: list.map((v) => `${v.name}=old # note`).join('\n'),
      };
      const written: Record<string, string> = {
        'plain.env': renderDotenv(list),
        'compose.env': renderComposeEnvFile(list),
        'exports.sh': renderShell(list),
      };
      for (const [style, text] of Object.entries(merges)) written[`merged-${style}.env`] = mergeDotenv(text, list);
      for (const [name, text] of Object.entries(written)) writeFileSync(join(dir, name), text);
      writeFileSync(join(dir, 'vars.json'), renderJson(list));

      const results = source(shell, dir, Object.keys(written), list.length);
      // JSON sourced by mistake: errors, nothing run.
      execFileSync(shell, ['-c', '. ./vars.json >/dev/null 2>&1; true'], { cwd: dir, timeout: 20_000 });
      assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith('PWNED')), [], 'a value was run');
      for (const [k, name] of Object.keys(written).entries()) assert.deepEqual(results[k], HOSTILE, `${shell}: ${name}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('the env-file formats refuse values no spelling makes safe, naming the variable; shell and JSON take them', () => {
  for (const value of UNSAFE_IN_ENV_FILES) {
    const named = (e: unknown): boolean => e instanceof UsageError && e.exitCode === 2 && /^variable WEB_URL: .*cannot be written to an env file safely/.test(e.message);
    const one = [{ name: 'WEB_URL', value }];
    assert.throws(() => renderDotenv(one), named, JSON.stringify(value));
    assert.throws(() => renderComposeEnvFile(one), named, JSON.stringify(value));
    // Merging refuses before changing anything, also when the key is already in the file.
    assert.throws(() => mergeDotenv('WEB_URL="x"\n', [{ name: 'OK', value: '1' }, ...one]), named, JSON.stringify(value));
    assert.equal(JSON.parse(renderJson(one)).WEB_URL, value);
    if (!value.includes('\0')) assert.match(renderShell(one), /^export WEB_URL='/);
  }
  assert.throws(() => renderShell([{ name: 'WEB_URL', value: 'a\0b' }]), (e: unknown) => e instanceof UsageError && /^variable WEB_URL: .*NUL/.test(e.message));
});

test('renderJson spells $ and backquote as \\u escapes (the same JSON)', () => {
  const text = renderJson([{ name: 'A', value: '$(x) `y`' }]);
  assert.equal(text, '{\n  "A": "\\u0024(x) \\u0060y\\u0060"\n}\n');
  assert.deepEqual(JSON.parse(text), { A: '$(x) `y`' });
});

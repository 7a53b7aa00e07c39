/**
 * `reassign --update-config` (workflows/config-edit.ts) edits the user's berth.yaml: only
 * the port's characters may change. Re-printing the whole YAML document (what the yaml
 * package's toString does) folds long lines, respaces flow maps, drops blank lines and
 * turns CRLF into LF: the user's file would come back rewritten.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setServicePort } from '../../src/workflows/config-edit.js';

const LINES = [
  '# my project',
  'project: shop',
  'services:',
  '  web:',
  '    port: 3000   # the web',
  '    command: "node server.js --with a very long list of arguments that goes past eighty columns for sure"',
  '    purpose: a long plain description that goes well past the eighty column line width of the printer',
  '  db: {port: 5432, category: db}',
  '  cache:',
  '    port: "6379"',
  'other:',
  '  - a',
  '  -   b',
  '',
  '',
  '# end',
  '',
];

for (const eol of ['\n', '\r\n']) {
  test(`setServicePort (${eol === '\n' ? 'LF' : 'CRLF'}) changes the port's characters and nothing else`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-config-edit-'));
    try {
      const file = join(dir, 'berth.yaml');
      const original = LINES.join(eol);
      writeFileSync(file, original);
      assert.equal(await setServicePort(file, 'web', 3001), true);
      assert.equal(readFileSync(file, 'utf8'), original.replace('port: 3000', 'port: 3001'));
      assert.equal(await setServicePort(file, 'db', 5433), true);
      assert.equal(readFileSync(file, 'utf8'), original.replace('port: 3000', 'port: 3001').replace('{port: 5432', '{port: 5433'));
      assert.equal(await setServicePort(file, 'cache', 6380), true);
      assert.equal(readFileSync(file, 'utf8'), original.replace('port: 3000', 'port: 3001').replace('{port: 5432', '{port: 5433').replace('port: "6379"', 'port: 6380'));
      assert.equal(await setServicePort(file, 'web', 3001), false, 'the same port again: untouched');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

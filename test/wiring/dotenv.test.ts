import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { UsageError } from '../../src/errors.js';
import { mergeDotenv, quoteDotenvValue, renderDotenv } from '../../src/wiring/dotenv.js';

const BASE = [
  '# Local settings',
  '',
  'APP_NAME="My App"',
  "SECRET='s3cr3t # not a comment'",
  'export NODE_ENV=development',
  'WEB_PORT=3000 # berth owns this',
  '  DB_HOST = localhost',
  '',
  '# trailing comment',
  '',
].join('\n');

test('mergeDotenv changes only berth keys and keeps everything else byte for byte', () => {
  const out = mergeDotenv(BASE, [{ name: 'WEB_PORT', value: '3101' }]);
  assert.equal(out, BASE.replace('WEB_PORT=3000 # berth', 'WEB_PORT=3101 # berth'));
});

test('mergeDotenv appends missing keys, adding a line break only when needed', () => {
  assert.equal(mergeDotenv(BASE, [{ name: 'API_PORT', value: '4000' }]), `${BASE}API_PORT=4000\n`);
  assert.equal(mergeDotenv('A=1', [{ name: 'B', value: '2' }]), 'A=1\nB=2\n');
  assert.equal(mergeDotenv('', [{ name: 'B', value: '2' }]), 'B=2\n');
  assert.equal(mergeDotenv('A=1\r\nC=3', [{ name: 'B', value: '2' }]), 'A=1\r\nC=3\r\nB=2\r\n');
});

test('mergeDotenv keeps CRLF line endings and mixed endings line by line', () => {
  const crlf = BASE.replace(/\n/g, '\r\n');
  assert.equal(mergeDotenv(crlf, [{ name: 'WEB_PORT', value: '3101' }, { name: 'NEW', value: '1' }]),
    `${crlf.replace('WEB_PORT=3000', 'WEB_PORT=3101')}NEW=1\r\n`);
  assert.equal(mergeDotenv('A=1\r\nB=2\nC=3\r\n', [{ name: 'B', value: '9' }]), 'A=1\r\nB=9\nC=3\r\n');
});

test('mergeDotenv updates export lines and every copy of a key, keeping quote style', () => {
  const text = "export WEB_PORT='3000'\nX=1\nWEB_PORT=\"3000\"\n";
  assert.equal(mergeDotenv(text, [{ name: 'WEB_PORT', value: '3101' }]), "export WEB_PORT='3101'\nX=1\nWEB_PORT=\"3101\"\n");
  // Every assignment exported: appended keys are exported too.
  assert.equal(mergeDotenv('export A=1\n', [{ name: 'B', value: '2' }]), 'export A=1\nexport B=2\n');
});

test('mergeDotenv leaves lines alone when the value already reads the same', () => {
  const text = 'WEB_PORT="3000"   # keep me\nURL=\'http://x:1\'\n';
  assert.equal(mergeDotenv(text, [{ name: 'WEB_PORT', value: '3000' }, { name: 'URL', value: 'http://x:1' }]), text);
  const once = mergeDotenv(BASE, [{ name: 'WEB_PORT', value: '1' }, { name: 'NEW_PORT', value: '2' }]);
  assert.equal(mergeDotenv(once, [{ name: 'WEB_PORT', value: '1' }, { name: 'NEW_PORT', value: '2' }]), once);
});

test('mergeDotenv does not touch keys inside another multi-line quoted value, and keeps a BOM', () => {
  const text = '\uFEFFCERT="-----BEGIN\nWEB_PORT=1\n-----END"\nWEB_PORT=2\n';
  assert.equal(mergeDotenv(text, [{ name: 'WEB_PORT', value: '7' }]), '\uFEFFCERT="-----BEGIN\nWEB_PORT=1\n-----END"\nWEB_PORT=7\n');
  const bomFirst = '\uFEFFWEB_PORT=2\n';
  assert.equal(mergeDotenv(bomFirst, [{ name: 'WEB_PORT', value: '7' }]), '\uFEFFWEB_PORT=7\n');
});

test('mergeDotenv leaves commented-out keys alone and keeps comments after an empty value', () => {
  assert.equal(mergeDotenv('# WEB_PORT=1\n', [{ name: 'WEB_PORT', value: '2' }]), '# WEB_PORT=1\nWEB_PORT=2\n');
  assert.equal(mergeDotenv('WEB_PORT= # set by berth\n', [{ name: 'WEB_PORT', value: '2' }]), 'WEB_PORT= 2 # set by berth\n');
  assert.equal(mergeDotenv('WEB_PORT="1" # quoted\n', [{ name: 'WEB_PORT', value: '2' }]), 'WEB_PORT="2" # quoted\n');
});

test('mergeDotenv replaces a whole multi-line berth value', () => {
  assert.equal(mergeDotenv('A="x\ny"\nB=1\n', [{ name: 'A', value: 'z' }]), 'A="z"\nB=1\n');
});

test('mergeDotenv rejects bad or repeated names', () => {
  assert.throws(() => mergeDotenv('', [{ name: 'BAD-NAME', value: '1' }]), UsageError);
  assert.throws(() => mergeDotenv('', [{ name: 'A', value: '1' }, { name: 'A', value: '2' }]), UsageError);
});

test('quoteDotenvValue quotes only when needed', () => {
  assert.equal(quoteDotenvValue('3000'), '3000');
  assert.equal(quoteDotenvValue('http://localhost:3000/a?b=1'), "'http://localhost:3000/a?b=1'");
  assert.equal(quoteDotenvValue('http://localhost:3000/cb'), 'http://localhost:3000/cb');
  assert.equal(quoteDotenvValue(''), '');
  assert.equal(quoteDotenvValue('a b#c'), "'a b#c'");
  assert.equal(quoteDotenvValue(`it's $HOME "x" \`id\` \\ y`), '"it\'s \\$HOME \\"x\\" \\`id\\` \\\\ y"');
  assert.throws(() => quoteDotenvValue('a b\\'), UsageError);
  // No spelling is inert and exact in sh and compose alike: refused, naming the variable.
  for (const bad of ['line\nbreak', 'cr\rhere', 'nul\0here', `it's "quoted"`]) {
    assert.throws(() => quoteDotenvValue(bad, 'variable WEB_URL'), (e: unknown) => e instanceof UsageError && /^variable WEB_URL: /.test(e.message), JSON.stringify(bad));
  }
});

test('renderDotenv output read back by sh gives the same values', () => {
  const values = ['3000', 'http://localhost:3000/x?y=1&z=2', 'a b', 'dollar $HOME `id` "dq" \\ back', '#hash'];
  const text = renderDotenv(values.map((value, i) => ({ name: `V${i}`, value })));
  const dir = mkdtempSync(join(tmpdir(), 'berth-dotenv-'));
  try {
    writeFileSync(join(dir, '.env'), text);
    const script = `set -a; . ./.env; ${values.map((_, i) => `printf '%s\\0' "$V${i}"`).join('; ')}`;
    const out = execFileSync('sh', ['-c', script], { cwd: dir, encoding: 'utf8', timeout: 10_000 });
    assert.deepEqual(out.split('\0').slice(0, -1), values);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/**
 * The 40,000-line merges, run in a worker thread so that a quadratic merge (a synchronous
 * loop, 45 s to minutes) is stopped at WORKER_LIMIT_MS instead of holding the suite.
 * Posts one entry per case: whether the output was right, and how long the merge took.
 */
const LINEAR_MERGE_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
import(workerData.dotenv).then(({ mergeDotenv }) => {
  const LINES = workerData.lines;
  const results = [];
  const timed = (name, run) => {
    const start = performance.now();
    const ok = run();
    results.push({ name, ok, ms: performance.now() - start });
  };
  for (const quote of ['"', "'", '\\\`']) {
    const body = Array.from({ length: LINES }, (_, i) => 'KEY_' + i + '=value-' + i);
    const text = ['OPEN=' + quote + 'never closed', ...body, 'WEB_PORT=1', ''].join('\\n');
    const last = 'KEY_' + (LINES - 1);
    // Readers take an unclosed quote's line literally; every line after it is its own.
    const want = text.replace('\\nWEB_PORT=1\\n', '\\nWEB_PORT=2\\n').replace(last + '=value-' + (LINES - 1), last + '=x') + 'NEW=3\\n';
    timed('unclosed ' + quote, () => mergeDotenv(text, [{ name: 'WEB_PORT', value: '2' }, { name: last, value: 'x' }, { name: 'NEW', value: '3' }]) === want);
  }
  // A quoted value that closes only after LINES lines is one value.
  const long = ['CERT="begin', ...Array.from({ length: LINES }, (_, i) => 'line ' + i), 'end"', 'WEB_PORT=1', ''].join('\\n');
  timed('long value, other key', () => mergeDotenv(long, [{ name: 'WEB_PORT', value: '2' }]) === long.replace('\\nWEB_PORT=1\\n', '\\nWEB_PORT=2\\n'));
  timed('long value replaced', () => mergeDotenv(long, [{ name: 'CERT', value: 'short' }]) === 'CERT="short"\\nWEB_PORT=1\\n');
  parentPort.postMessage(results);
});
`;

test('mergeDotenv is linear: an unclosed quote before 40,000 lines merges correctly, well within 20 s', async () => {
  const BOUND_MS = 20_000;
  const WORKER_LIMIT_MS = 60_000;
  const worker = new Worker(LINEAR_MERGE_WORKER, {
    eval: true,
    workerData: { lines: 40_000, dotenv: new URL('../../src/wiring/dotenv.js', import.meta.url).href },
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    const results = await Promise.race([
      new Promise<{ name: string; ok: boolean; ms: number }[]>((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
      }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`the merges did not finish within ${WORKER_LIMIT_MS} ms`)), WORKER_LIMIT_MS);
      }),
    ]);
    assert.equal(results.length, 5);
    for (const r of results) {
      assert.ok(r.ok, `${r.name}: wrong output`);
      assert.ok(r.ms < BOUND_MS, `${r.name}: ${Math.round(r.ms)} ms`);
    }
  } finally {
    clearTimeout(timer);
    await worker.terminate();
  }
});

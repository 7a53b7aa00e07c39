/**
 * Values berth writes are inert: `berth env --urls --host HOSTILE --write FILE` in every
 * format (dotenv fresh and merged into an existing `.env`, compose env-file, shell, JSON),
 * then the files sourced by real bash and dash (`set -a; . ./FILE`): no marker file is
 * ever created, and WEB_URL holds exactly `http://HOSTILE:PORT`. The env files are also
 * read the way docker compose reads them (a model of compose-go's dotenv parser, since
 * docker compose is not installed everywhere; the real one runs when it is).
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Lease } from '../../src/types.js';
import { berth, berthAsync, json, tempDir, type CliResult } from '../helpers/cli.js';

const RUN_LIMIT_MS = 30_000;
const CONCURRENT_RUNS = 10;
/** How many of HOSTS also go through the shell and JSON formats. */
const OWN_QUOTING_HOSTS = 8;

/** Hosts that would run `touch PWNED…` (or write PWNED…) if a shell or compose expanded them. */
const HOSTS: readonly string[] = [
  "a'b`touch PWNED1`",
  "it's `touch PWNED2`",
  "x'$(touch PWNED3)",
  '$(touch PWNED4)',
  '`touch PWNED5`',
  "x'; touch PWNED6; '",
  'x"; touch PWNED7; "',
  `x'"; touch PWNED8 #`,
  "\\'; touch PWNED9 #",
  '\\"$(touch PWNED10)\\"',
  '$HOME',
  "'${PATH}'",
  "$((6*7))'",
  'a;touch PWNED14',
  'a && touch PWNED15 || touch PWNED15b',
  'a | tee PWNED16',
  '#not a comment',
  "x' #'",
  "a\\b\\\\c'",
  "'\\`touch PWNED20\\`'",
  "$'\\x41'",
  '~root/*',
  '!! !$',
  '{a,b} [ab] ?',
  "\t tab and  spaces '",
  `'' "" \`\``,
  '>PWNED27 <x',
  "${IFS}x'${IFS}",
  "\\$(touch PWNED29)'",
  `'$'"\`\\ `,
  "é ü 日本 '",
  "a\\nb'",
  "$0'",
];

/** The file names written for host number `i`, by how they are produced. */
function files(i: number): { dotenv: string; merged: string; compose: string; shell: string; json: string } {
  return { dotenv: `h${i}.env`, merged: `h${i}-merged.env`, compose: `h${i}.compose.env`, shell: `h${i}.sh`, json: `h${i}.json` };
}

/**
 * How docker compose (compose-go's dotenv parser) reads `KEY=value` lines: a quoted value
 * ends at the first quote not preceded by `\`, and the quote character is trimmed from both
 * ends; double-quoted values then turn `\n`/`\r` into line breaks, drop the `\` of every
 * other escape but `\$`, and interpolate: `\$` is a literal `$`, `$NAME`/`${NAME}` is a
 * variable. Unquoted values end at `#`. A variable reference reads as `<interpolated>`, so
 * a test comparing values sees it.
 */
function composeRead(text: string): Map<string, string> {
  const out = new Map<string, string>();
  const interpolate = (v: string): string =>
    v.replace(/(\\)?(\$)(\()?\{?([A-Z0-9_]+)?\}?/g, (m, slash?: string, _d?: string, paren?: string, name?: string) =>
      slash !== undefined || paren !== undefined ? m.slice(1) : name !== undefined ? '<interpolated>' : m,
    );
  for (const line of text.split('\n')) {
    const m = /^\s*(?:export\s+)?([A-Za-z0-9_.]+)\s*=\s*(.*)$/s.exec(line);
    if (m === null || line.trimStart().startsWith('#')) continue;
    const src = m[2]!;
    const quote = src[0];
    if (quote !== "'" && quote !== '"') {
      out.set(m[1]!, interpolate(src.split('#')[0]!.trimEnd()));
      continue;
    }
    let end = 1;
    while (end < src.length && !(src[end] === quote && src[end - 1] !== '\\')) end += 1;
    assert.ok(end < src.length, `compose: unterminated quoted value in ${JSON.stringify(line)}`);
    let value = src.slice(0, end);
    while (value.startsWith(quote)) value = value.slice(1);
    while (value.endsWith(quote)) value = value.slice(0, -1);
    if (quote === '"') {
      value = value.replace(/\\./g, (e) => (e === '\\n' ? '\n' : e === '\\r' ? '\r' : e)).replace(/\\([^$])/g, '$1');
      value = interpolate(value);
    }
    out.set(m[1]!, value);
  }
  return out;
}

/** Runs many CLI invocations, a few at a time (the machine may be shared). */
async function runAll(runs: readonly (readonly string[])[], cwd: string, db: string): Promise<CliResult[]> {
  const results: CliResult[] = [];
  for (let i = 0; i < runs.length; i += CONCURRENT_RUNS) {
    const batch = runs.slice(i, i + CONCURRENT_RUNS).map((args) => berthAsync(args, { cwd, db, timeoutMs: RUN_LIMIT_MS }));
    results.push(...(await Promise.all(batch)));
  }
  return results;
}

describe('values in every written format are inert in bash, sh and compose', () => {
  let dir: string;
  let cleanup: () => void;
  let db: string;
  let port: number;

  before(async () => {
    ({ dir, cleanup } = tempDir('berth-files-values-'));
    db = path.join(dir, 'berth.db');
    fs.writeFileSync(path.join(dir, 'berth.yaml'), `base: ${30_600 + Math.floor(Math.random() * 40) * 20}\nservices:\n  web: {}\n`);
    const res = berth(['--json', 'allocate', 'web'], { cwd: dir, db });
    assert.equal(res.code, 0, res.stderr);
    port = json<Lease[]>(res)[0]!.port;
    const runs: string[][] = [];
    for (const [i, host] of HOSTS.entries()) {
      const f = files(i);
      // An existing .env whose WEB_URL is double-quoted: the merge keeps that style.
      fs.writeFileSync(path.join(dir, f.merged), '# mine\nWEB_URL="http://old:1" # keep\nOTHER=1\n');
      const write = (format: string, file: string): string[] => ['env', '--urls', '--host', host, '--format', format, '--write', file];
      runs.push(write('dotenv', f.dotenv), write('dotenv', f.merged), write('compose', f.compose));
      // shell and JSON quote with no choice to make (test/wiring covers them value by value).
      if (i < OWN_QUOTING_HOSTS) runs.push(write('shell', f.shell), write('json', f.json));
    }
    for (const [k, r] of (await runAll(runs, dir, db)).entries()) {
      assert.equal(r.code, 0, `berth ${runs[k]!.join(' ')} -> ${r.code}\n${r.stderr}`);
    }
  });
  after(() => cleanup());

  const sourced = (i: number): string[] => {
    const f = files(i);
    return i < OWN_QUOTING_HOSTS ? [f.dotenv, f.merged, f.compose, f.shell] : [f.dotenv, f.merged, f.compose];
  };
  const marks = (): string[] => fs.readdirSync(dir).filter((f) => f.startsWith('PWNED'));

  for (const shell of ['bash', 'dash']) {
    it(`${shell}: set -a; . ./FILE gives WEB_URL exactly and runs nothing, for ${HOSTS.length} hostile hosts`, () => {
      const lines: string[] = [];
      for (const i of HOSTS.keys()) {
        const f = files(i);
        for (const file of sourced(i)) lines.push(`( set -a; . ./${file} && printf '%s\\0' "$WEB_URL" ) || printf 'FAILED %s\\0' ${file}`);
        // JSON is not meant to be sourced; doing so by mistake must still run nothing.
        if (i < OWN_QUOTING_HOSTS) lines.push(`( . ./${f.json} ) >/dev/null 2>&1 || true`);
      }
      const out = execFileSync(shell, ['-c', lines.join('\n')], { cwd: dir, encoding: 'utf8', timeout: RUN_LIMIT_MS });
      assert.deepEqual(marks(), [], 'a value was run as a command');
      const values = out.split('\0').slice(0, -1);
      const expected = HOSTS.flatMap((host, i) => sourced(i).map((file) => ({ file, host, value: `http://${host}:${port}` })));
      assert.equal(values.length, expected.length);
      for (const [k, value] of values.entries()) {
        assert.equal(value, expected[k]!.value, `${shell}: ${expected[k]!.file}, host ${JSON.stringify(expected[k]!.host)}`);
      }
    });
  }

  it('the merged .env keeps every other line; JSON reads back exactly', () => {
    for (const [i, host] of HOSTS.entries()) {
      const merged = fs.readFileSync(path.join(dir, files(i).merged), 'utf8').split('\n');
      assert.equal(merged[0], '# mine');
      assert.match(merged[1]!, /^WEB_URL=".*" # keep$/, `host ${i}: quote style and comment kept`);
      assert.equal(merged[2], 'OTHER=1');
      if (i >= OWN_QUOTING_HOSTS) continue;
      const parsed = JSON.parse(fs.readFileSync(path.join(dir, files(i).json), 'utf8')) as Record<string, string>;
      assert.equal(parsed['WEB_URL'], `http://${host}:${port}`);
    }
  });

  it('docker compose reads every env file back exactly, interpolating nothing', () => {
    for (const [i, host] of HOSTS.entries()) {
      const f = files(i);
      for (const file of [f.dotenv, f.merged, f.compose]) {
        const read = composeRead(fs.readFileSync(path.join(dir, file), 'utf8'));
        assert.equal(read.get('WEB_URL'), `http://${host}:${port}`, `host ${i} ${JSON.stringify(host)} in ${file}`);
        assert.equal(read.get('WEB_PORT'), String(port));
      }
    }
  });

  const compose = spawnSync('docker', ['compose', 'version'], { encoding: 'utf8', timeout: 10_000 });
  it('real docker compose reads the compose env-file back exactly', { skip: compose.status !== 0 && 'docker compose is not installed' }, () => {
    fs.writeFileSync(path.join(dir, 'compose.yaml'), 'services:\n  app:\n    image: busybox\n    environment:\n      URL: "${WEB_URL}"\n');
    for (const [i, host] of HOSTS.entries()) {
      const out = execFileSync('docker', ['compose', '--env-file', files(i).compose, 'config', '--format', 'json'], { cwd: dir, encoding: 'utf8', timeout: RUN_LIMIT_MS });
      const config = JSON.parse(out) as { services: { app: { environment: Record<string, string> } } };
      assert.equal(config.services.app.environment['URL'], `http://${host}:${port}`, `host ${i}`);
    }
    assert.deepEqual(marks(), []);
  });
});

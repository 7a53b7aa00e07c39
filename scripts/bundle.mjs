/**
 * Bundles the CLI (build/src/cli/main.js) into dist/berth.cjs, the one script bin/berth.js
 * runs, and writes its V8 code cache (dist/berth.cjs.cache). Run by `npm run build`, after tsc.
 *
 * Start-up is the cost every `berth` command pays, and most of what Node spends on a
 * bundle's first lines is loading built-in modules: node:child_process alone (which
 * commander requires at the top) pulls in net and the whole stream stack, ~4 ms here;
 * node:crypto ~2.5 ms. Most commands never touch them. So in the bundle, the built-ins
 * listed below are replaced by a stand-in whose exports are getters: the real module is
 * required on the first property read, by whichever command needs it. Source code keeps
 * plain imports; only the bundle defers them.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

/**
 * Built-ins that only some commands use, and that cost enough to matter when loaded. Only
 * modules whose export is a plain object belong here (not node:stream, itself a class): a
 * stand-in has the same enumerable names, read-only.
 */
const DEFERRED = ['child_process', 'crypto', 'dgram', 'fs/promises', 'http', 'net', 'os', 'timers/promises'];

/** The stand-in for one built-in: the same export names, each a getter that loads it. */
function standIn(name) {
  const real = require(name);
  if (typeof real !== 'object') throw new Error(`node:${name} exports a ${typeof real}, which a stand-in cannot imitate: take it off DEFERRED`);
  const names = Object.keys(real).filter((key) => key !== 'default');
  const getters = names.map((key) => `  ${JSON.stringify(key)}: { enumerable: true, get: () => load()[${JSON.stringify(key)}] },`);
  return [
    `let real;`,
    // Without the node: prefix, so that this require is not deferred again.
    `const load = () => (real ??= require(${JSON.stringify(name)}));`,
    `Object.defineProperties(module.exports, {`,
    ...getters,
    `});`,
  ].join('\n');
}

const deferBuiltins = {
  name: 'defer-builtins',
  setup(b) {
    const filter = new RegExp(`^node:(${DEFERRED.map((n) => n.replace('/', '\\/')).join('|')})$`);
    b.onResolve({ filter }, (args) => ({ path: args.path.slice('node:'.length), namespace: 'deferred-builtin' }));
    b.onLoad({ filter: /.*/, namespace: 'deferred-builtin' }, (args) => ({ contents: standIn(args.path), loader: 'js' }));
  },
};

await build({
  entryPoints: [path.join(root, 'build/src/cli/main.js')],
  outfile: path.join(root, 'dist/berth.cjs'),
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  // The sources are ESM and read import.meta.filename; a CommonJS bundle has __filename.
  // (import.meta.url would cost a URL round trip, so the sources do not use it.)
  define: { 'import.meta.filename': '__filename' },
  plugins: [deferBuiltins],
  // The PostgreSQL driver stays a require of its own, run only when a postgres:// URL is
  // given (src/open.ts imports the store dynamically): bundled, its ~100 KB would be read
  // and checked against the code cache on every start, for the few who share a registry.
  external: ['pg'],
  logLevel: 'warning',
  // Whitespace and syntax only: names stay, so stack traces stay readable. A smaller
  // source is quicker to load and check against the code cache (~1.5 ms measured).
  minifyWhitespace: true,
  minifySyntax: true,
});

// bin/berth.js reads the bundle as latin1, which is exact only for ASCII.
const bundled = readFileSync(path.join(root, 'dist/berth.cjs'), 'utf8');
const nonAscii = bundled.search(/[^\x00-\x7f]/);
if (nonAscii !== -1) throw new Error(`dist/berth.cjs is not ASCII at offset ${nonAscii}; bin/berth.js reads it as latin1`);

// The code cache holds the functions one run compiled. Made by a real `allocate` in a
// scratch project (a berth.yaml with the usual kinds of service, a scratch store), it
// covers what nearly every command runs: argument parsing, reading berth.yaml (the YAML
// parser compiled cold costs ~15 ms), opening the store, a transaction, printing.
// (bin/berth.js also writes it whenever it finds none, or V8 rejects it.)
const WARM_CONFIG = `project: warm
services:
  web: { prefer: 3000, env: WEB_PORT }
  api: { category: api, purpose: "REST API" }
  postgres: {}
  worker: { range: 7100-7199, strategy: hash }
`;
const cache = path.join(root, 'dist/berth.cjs.cache');
rmSync(cache, { force: true });
const scratch = mkdtempSync(path.join(tmpdir(), 'berth-build-'));
try {
  writeFileSync(path.join(scratch, 'berth.yaml'), WARM_CONFIG);
  execFileSync(process.execPath, [path.join(root, 'bin/berth.js'), 'allocate', '--db', path.join(scratch, 'warm.db')], {
    cwd: scratch,
    env: { PATH: process.env.PATH },
    stdio: ['ignore', 'ignore', 'inherit'], // a failure shows why
  });
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
if (!existsSync(cache)) throw new Error(`the code cache ${cache} was not written`);

/**
 * Builds the dashboard's page (src/dashboard/) into dist/dashboard/: one minified script
 * (app.js, bundled by esbuild for browsers), its stylesheet, icon and index.html. The
 * daemon reads them when it starts (src/server/dashboard.ts); the CLI never loads them.
 * Run by `npm run build`, after tsc has type-checked the page (src/dashboard/tsconfig.json).
 */
import { copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const src = path.join(root, 'src/dashboard');
const out = path.join(root, 'dist/dashboard');
mkdirSync(out, { recursive: true });

await build({
  entryPoints: [path.join(src, 'main.ts')],
  outfile: path.join(out, 'app.js'),
  bundle: true,
  platform: 'browser',
  format: 'iife',
  target: 'es2022',
  minify: true,
  sourcemap: false,
  legalComments: 'none',
  logLevel: 'warning',
});
for (const file of ['index.html', 'app.css', 'favicon.svg']) copyFileSync(path.join(src, file), path.join(out, file));

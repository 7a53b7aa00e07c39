/**
 * The dashboard's page: static files built from src/dashboard/ by `npm run build` into
 * dist/dashboard/, read once when the daemon starts and served at `/` with a strict
 * Content-Security-Policy (no inline script or style, nothing from elsewhere, never in a
 * frame). The page holds no secret: it shows how to get in until it has a session.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { SECURITY_HEADERS } from './problem.js';

/** The page's Content-Security-Policy. */
export const DASHBOARD_CSP = "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/** URL path → file in dist/dashboard, and its type. */
const ASSETS: Readonly<Record<string, readonly [string, string]>> = {
  '/': ['index.html', 'text/html; charset=utf-8'],
  '/dashboard/app.js': ['app.js', 'text/javascript; charset=utf-8'],
  '/dashboard/app.css': ['app.css', 'text/css; charset=utf-8'],
  '/favicon.ico': ['favicon.svg', 'image/svg+xml'],
  '/dashboard/favicon.svg': ['favicon.svg', 'image/svg+xml'],
};

/** The served files, by URL path. */
export type DashboardAssets = ReadonlyMap<string, { readonly type: string; readonly body: Buffer }>;

/**
 * dist/dashboard of this berth: found upwards from this file (build/src/server/ when run
 * from the build, dist/ when run from the CLI bundle), or null when it was not built.
 */
export function dashboardDir(from = import.meta.filename): string | null {
  let dir = path.dirname(from);
  for (let i = 0; i < 5; i++) {
    const candidate = path.join(dir, 'dist', 'dashboard');
    if (existsSync(path.join(candidate, 'index.html'))) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return null;
}

/** Reads the page's files once; a page that says how to build it when they are missing. */
export function loadDashboard(dir = dashboardDir()): DashboardAssets {
  const assets = new Map<string, { type: string; body: Buffer }>();
  if (dir === null) {
    const text = '<!doctype html><title>berth</title><p>The berth dashboard was not built: run <code>npm run build</code> in the berth checkout, then restart the daemon.</p>';
    assets.set('/', { type: 'text/html; charset=utf-8', body: Buffer.from(text) });
    return assets;
  }
  for (const [url, [file, type]] of Object.entries(ASSETS)) {
    const full = path.join(dir, file);
    if (existsSync(full)) assets.set(url, { type, body: readFileSync(full) });
  }
  return assets;
}

/** Serves `req` when it asks for one of the page's files (GET or HEAD); false otherwise. */
export function serveDashboard(assets: DashboardAssets, req: IncomingMessage, res: ServerResponse): boolean {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  const asset = assets.get((req.url ?? '/').split('?')[0]!);
  if (asset === undefined) return false;
  res.writeHead(200, {
    ...SECURITY_HEADERS,
    'Content-Security-Policy': DASHBOARD_CSP,
    'Content-Type': asset.type,
    'Content-Length': asset.body.length,
    'Cross-Origin-Opener-Policy': 'same-origin',
  });
  res.end(req.method === 'HEAD' ? undefined : asset.body);
  return true;
}

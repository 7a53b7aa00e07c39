/**
 * Who may ask what. The API can kill processes, and any web page the user opens is an
 * attacker: every request passes a Host allow-list (DNS rebinding), a bearer token
 * (never in the query), and for mutations and the event stream an Origin check; writes
 * need JSON bodies; a read-only token reads and never writes. No CORS, no preflights.
 *
 * The dashboard's page proves itself with a session cookie instead of a token (sessions.ts).
 * A cookie is sent by the browser on its own, so a request carrying only a cookie must also
 * show it came from the page itself: for changes, the page's own Origin (present, not just
 * not foreign) and the CSRF_HEADER, which no form can set and no other site may send
 * without a preflight this API never answers.
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { CSRF_HEADER, CSRF_VALUE } from '../http/dashboard.js';
import type { Route } from '../http/routes.js';
import { HttpProblem } from './problem.js';
import { sessionCookie, type Access, type Sessions } from './sessions.js';

/** What the guard checks against. */
export interface GuardOptions {
  /** The write token (256-bit, hex). */
  readonly token: string;
  /** The read-only token, or null when there is none. */
  readonly readToken: string | null;
  /** Host header values allowed besides loopback names with the daemon's port. */
  readonly allowedHosts: readonly string[];
  /** The daemon's TCP port (Host headers name it), or null on the unix socket alone. */
  readonly port: number | null;
}

export type { Access } from './sessions.js';

/** A request that passed: what it may do, and how it proved who it is. */
export interface Grant {
  readonly access: Access;
  readonly via: 'token' | 'session' | 'none';
}

const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]'];

/** Constant-time comparison of a presented token with an expected one. */
function sameToken(presented: string, expected: string): boolean {
  const a = Buffer.from(presented);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The Host values this daemon answers to. */
export function allowedHostValues(opts: GuardOptions): Set<string> {
  const names = [...LOOPBACK_NAMES, ...opts.allowedHosts];
  const values = new Set<string>();
  for (const name of names) {
    values.add(name);
    if (opts.port !== null) values.add(`${name}:${opts.port}`);
  }
  return values;
}

/** Refuses a Host header this daemon does not answer to (a DNS rebinding guard; the page too). */
export function checkHost(req: IncomingMessage, opts: GuardOptions, hosts: ReadonlySet<string>, viaSocket: boolean): void {
  const host = req.headers.host ?? '';
  if (!viaSocket && !hosts.has(host.toLowerCase())) {
    throw new HttpProblem(403, 'forbidden-host', `Host '${host}' is not one this daemon answers to (a DNS rebinding guard). Use http://127.0.0.1:${opts.port ?? 'PORT'}/, or add the name with --allow-host.`);
  }
}

/**
 * Checks one request for `route`; returns what it may do and how it proved it, or throws
 * an HttpProblem (401/403/405/415). `viaSocket`: it came over the unix socket (0600), where
 * the Host is whatever the client wrote but no browser can connect. `sessions`: the
 * dashboard's; a request with no Authorization header may then show a session cookie.
 */
export function guard(req: IncomingMessage, route: Route, opts: GuardOptions, hosts: ReadonlySet<string>, viaSocket: boolean, sessions?: Sessions): Grant {
  checkHost(req, opts, hosts, viaSocket);
  const fetchSite = String(req.headers['sec-fetch-site'] ?? '');
  const origin = req.headers.origin;
  const ownOrigins = new Set([...hosts].map((h) => `http://${h}`));
  const crossSite = fetchSite === 'cross-site' || fetchSite === 'same-site' || (origin !== undefined && !ownOrigins.has(origin.toLowerCase()));
  if ((route.mutates || route.response === 'event-stream') && crossSite) {
    throw new HttpProblem(403, 'forbidden-origin', `requests from ${origin ?? 'another site'} may not change berth or read its event stream.`);
  }
  if (route.public) {
    if (route.mutates) requireJson(req);
    return { access: 'read', via: 'none' };
  }
  const url = new URL(req.url ?? '/', 'http://x');
  if (url.searchParams.has('token') || url.searchParams.has('access_token')) {
    throw new HttpProblem(401, 'unauthenticated', 'tokens are never accepted in the URL (they end up in logs and history): send Authorization: Bearer TOKEN.', { 'WWW-Authenticate': 'Bearer' });
  }
  const cookie = sessions === undefined ? null : sessionCookie(req.headers.cookie, sessions.cookieName);
  if ((req.headers.authorization ?? '') === '' && cookie !== null) return sessionGrant(req, route, sessions!.access(cookie), ownOrigins);
  const header = req.headers.authorization ?? '';
  const match = /^Bearer ([A-Za-z0-9._~+/=-]+)$/.exec(header);
  if (!match) throw new HttpProblem(401, 'unauthenticated', 'a token is needed: send Authorization: Bearer TOKEN (the token is in the state directory, file api-token).', { 'WWW-Authenticate': 'Bearer' });
  const presented = match[1]!;
  let access: Access;
  if (sameToken(presented, opts.token)) access = 'write';
  else if (opts.readToken !== null && sameToken(presented, opts.readToken)) access = 'read';
  else throw new HttpProblem(401, 'unauthenticated', 'that token is not valid for this daemon.', { 'WWW-Authenticate': 'Bearer' });
  if (route.mutates && access !== 'write') throw new HttpProblem(403, 'forbidden', 'this token is read-only: it cannot change anything.');
  if (route.mutates) requireJson(req);
  return { access, via: 'token' };
}

function requireJson(req: IncomingMessage): void {
  const type = String(req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json') throw new HttpProblem(415, 'unsupported-media-type', 'changes need a JSON body: send Content-Type: application/json.');
}

/** A request authenticated by a dashboard session cookie (`access` null: no such session). */
function sessionGrant(req: IncomingMessage, route: Route, access: Access | null, ownOrigins: ReadonlySet<string>): Grant {
  if (access === null) throw new HttpProblem(401, 'unauthenticated', 'this dashboard session has ended (it expired, or the daemon restarted): run `berth dashboard` for a new login link.');
  if (route.mutates) {
    const origin = String(req.headers.origin ?? '').toLowerCase();
    if (!ownOrigins.has(origin) || req.headers[CSRF_HEADER] !== CSRF_VALUE) {
      throw new HttpProblem(403, 'forbidden-origin', `a change made with a dashboard session must come from the dashboard's own page (its Origin and the ${CSRF_HEADER} header).`);
    }
    if (access !== 'write') throw new HttpProblem(403, 'forbidden', 'this dashboard login is read-only: it cannot change anything. Run `berth dashboard` (without --read-only) for one that can.');
    requireJson(req);
  }
  return { access, via: 'session' };
}

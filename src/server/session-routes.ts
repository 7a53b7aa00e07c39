/**
 * The dashboard's login routes (routes.ts `session.*`), answered by the API itself since
 * they work on its sessions and cookies rather than on the engine.
 */
import type { ServerResponse } from 'node:http';
import { UsageError } from '../errors.js';
import { LOGIN_FRAGMENT } from '../http/dashboard.js';
import type { Grant } from './guard.js';
import { HttpProblem, SECURITY_HEADERS } from './problem.js';
import { clearSessionCookie, LINK_TTL_MS, setSessionCookie, type Sessions } from './sessions.js';

/** What a session route answers with: JSON, and maybe a cookie. */
export interface SessionReply {
  readonly json: unknown;
  readonly cookie?: string;
}

/**
 * Answers the session route `id`. `baseUrl` is where the page is (the daemon's TCP URL);
 * a link's secret goes in the URL's fragment, which browsers never send to a server or
 * in a Referer, and which the page removes from the address bar once it is used.
 */
/**
 * `cookie`: the request's session cookie value, if any (a logout ends that session only).
 */
export function sessionRoute(id: string, grant: Grant, body: Readonly<Record<string, unknown>>, sessions: Sessions, baseUrl: string, cookie: string | null): SessionReply {
  switch (id) {
    case 'session.link': {
      // A session may not mint more sessions: a link is asked for with a token (the CLI).
      if (grant.via !== 'token') throw new HttpProblem(403, 'forbidden', 'login links are made with the API token (`berth dashboard`), not from a dashboard session.');
      const access = body.readOnly === true ? 'read' : grant.access;
      const secret = sessions.issueLink(access);
      return { json: { url: `${baseUrl}/#${LOGIN_FRAGMENT}=${secret}`, access, expiresInMs: LINK_TTL_MS } };
    }
    case 'session.login': {
      if (typeof body.secret !== 'string' || body.secret === '') throw new UsageError('send {"secret": "..."}: the part after #login= of the link `berth dashboard` printed.');
      const found = sessions.exchange(body.secret);
      if (found === null) throw new HttpProblem(401, 'unauthenticated', 'this login link is used, expired or unknown (each works once, for a few minutes): run `berth dashboard` for a new one.');
      return { json: { access: found.access }, cookie: setSessionCookie(sessions.cookieName, found.session) };
    }
    case 'session.logout':
      // Cleared whether or not the daemon still knew the session: the browser forgets it either way.
      return { json: { ended: cookie !== null && sessions.end(cookie) }, cookie: clearSessionCookie(sessions.cookieName) };
    case 'session.get':
      return { json: { access: grant.access, via: grant.via } };
    default:
      throw new HttpProblem(501, 'not-implemented', `route ${id} has no handler yet.`);
  }
}

/** Sends a session route's reply. */
export function sendSessionReply(res: ServerResponse, reply: SessionReply): void {
  const text = JSON.stringify(reply.json);
  const headers: Record<string, string | number> = { ...SECURITY_HEADERS, 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) };
  if (reply.cookie !== undefined) headers['Set-Cookie'] = reply.cookie;
  res.writeHead(200, headers);
  res.end(text);
}

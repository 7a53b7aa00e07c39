/**
 * Dashboard logins. A token holder (`berth dashboard`) asks for a login link; its secret is
 * good once, for LINK_TTL_MS, and the page trades it for a session cookie (HttpOnly,
 * SameSite=Strict) that a script cannot read and no other site can send. Sessions live in
 * the daemon's memory: a restarted daemon forgets them, and `berth dashboard` gives a new
 * link. Each session keeps the access of its link: write, or read only.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';

/** What a request may do: change things, or only read (a read-only token or login). */
export type Access = 'write' | 'read';

/** How long a login link's secret may wait to be used. */
export const LINK_TTL_MS = 5 * 60_000;
/** How long a session lasts after its last request. */
export const SESSION_IDLE_MS = 12 * 60 * 60_000;
/**
 * The session cookie's name for a daemon on `port`. Browsers keep cookies per host, not per
 * port: daemons of two state directories on one machine need names of their own, or a login
 * to one would log out of the other.
 */
export const sessionCookieName = (port: number | null): string => `berth_session_${port ?? 'socket'}`;
/** At most this many unused links and live sessions are kept (oldest dropped first). */
const MAX_ENTRIES = 1_000;

interface Entry {
  readonly access: Access;
  expires: number;
}

const secret = (): string => randomBytes(32).toString('base64url');

/** Finds `presented` among `entries` by constant-time comparison, dropping expired ones. */
function take(entries: Map<string, Entry>, presented: string, now: number): [string, Entry] | null {
  let found: [string, Entry] | null = null;
  const a = Buffer.from(presented);
  for (const [key, entry] of entries) {
    if (entry.expires <= now) {
      entries.delete(key);
      continue;
    }
    const b = Buffer.from(key);
    if (a.length === b.length && timingSafeEqual(a, b)) found = [key, entry];
  }
  return found;
}

function bounded(entries: Map<string, Entry>): void {
  // Maps iterate in insertion order: the first keys are the oldest.
  for (const key of entries.keys()) {
    if (entries.size <= MAX_ENTRIES) break;
    entries.delete(key);
  }
}

/** The daemon's login links and sessions. */
export class Sessions {
  private readonly links = new Map<string, Entry>();
  private readonly sessions = new Map<string, Entry>();

  constructor(
    /** The cookie that carries this daemon's sessions (sessionCookieName). */
    readonly cookieName: string,
    private readonly now: () => number = Date.now,
  ) {}

  /** A new one-time login secret of `access`. */
  issueLink(access: Access): string {
    const key = secret();
    this.links.set(key, { access, expires: this.now() + LINK_TTL_MS });
    bounded(this.links);
    return key;
  }

  /** Trades a link's secret (once) for a session id; null when it is unknown, used or expired. */
  exchange(presented: string): { session: string; access: Access } | null {
    const found = take(this.links, presented, this.now());
    if (found === null) return null;
    this.links.delete(found[0]);
    const session = secret();
    this.sessions.set(session, { access: found[1].access, expires: this.now() + SESSION_IDLE_MS });
    bounded(this.sessions);
    return { session, access: found[1].access };
  }

  /** The access of a session cookie's value, extending its life; null when there is no such session. */
  access(presented: string): Access | null {
    const now = this.now();
    const found = take(this.sessions, presented, now);
    if (found === null) return null;
    found[1].expires = now + SESSION_IDLE_MS;
    return found[1].access;
  }

  /** Forgets the session a cookie's value names (a logout); whether there was one. */
  end(presented: string): boolean {
    const found = take(this.sessions, presented, this.now());
    if (found === null) return false;
    this.sessions.delete(found[0]);
    return true;
  }
}

/** The value of the cookie `name` in a Cookie header, or null. */
export function sessionCookie(header: string | undefined, name: string): string | null {
  for (const part of (header ?? '').split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) return rest.join('=');
  }
  return null;
}

/** The Set-Cookie header for a session: a browser-session cookie no script can read and no other site can send. */
export function setSessionCookie(name: string, session: string): string {
  return `${name}=${session}; Path=/; HttpOnly; SameSite=Strict`;
}

/** The Set-Cookie header that removes the session cookie (a logout). */
export function clearSessionCookie(name: string): string {
  return `${name}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`;
}

/**
 * uid -> login name, read once from /etc/passwd and cached for the life of the process.
 */
import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { parsePasswd } from './parse-passwd.js';

const PASSWD_PATH = '/etc/passwd';

let cache: Map<number, string> | null = null;

function loadNames(): Map<number, string> {
  if (cache !== null) return cache;
  try {
    cache = parsePasswd(readFileSync(PASSWD_PATH, 'utf8'));
  } catch {
    // No readable /etc/passwd (macOS keeps users in Directory Services): names fall back
    // to the current user's own name or the uid as text, which is still correct.
    cache = new Map();
  }
  const own = currentUid();
  if (own !== null && !cache.has(own)) {
    try {
      cache.set(own, userInfo().username);
    } catch {
      // userInfo throws when the uid has no passwd entry at all (containers): keep the uid.
    }
  }
  return cache;
}

/** The login name of a uid, or the uid as text when it has none. */
export function userName(uid: number): string {
  return loadNames().get(uid) ?? String(uid);
}

/** The effective uid of this process; null on platforms without uids. */
export function currentUid(): number | null {
  return typeof process.geteuid === 'function' ? process.geteuid() : null;
}

/**
 * The daemon's login links and sessions (server/sessions.ts) on a clock the test moves,
 * and the listener feed's reading rules (server/reality-feed.ts) on a counting stand-in for
 * the OS. Both run for real against a daemon in dashboard.test.ts and test/dashboard/.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Engine, PortEntry } from '../../src/engine/index.js';
import { RealityFeed } from '../../src/server/reality-feed.js';
import { LINK_TTL_MS, SESSION_IDLE_MS, sessionCookie, sessionCookieName, Sessions, setSessionCookie } from '../../src/server/sessions.js';

describe('dashboard sessions', () => {
  const clock = (): { now: () => number; advance: (ms: number) => void } => {
    let t = 1_000_000;
    return { now: () => t, advance: (ms) => void (t += ms) };
  };

  it('a link works once, within LINK_TTL_MS, and keeps its access', () => {
    const c = clock();
    const s = new Sessions('berth_session_1', c.now);
    const write = s.issueLink('write');
    const read = s.issueLink('read');
    assert.notEqual(write, read);
    const got = s.exchange(read);
    assert.equal(got?.access, 'read');
    assert.equal(s.exchange(read), null, 'used');
    assert.equal(s.access(got!.session), 'read');
    c.advance(LINK_TTL_MS + 1);
    assert.equal(s.exchange(write), null, 'expired');
    assert.equal(s.exchange(''), null);
    assert.equal(s.exchange(got!.session), null, 'a session id is not a link');
  });

  it('a session lasts SESSION_IDLE_MS after its last use', () => {
    const c = clock();
    const s = new Sessions('x', c.now);
    const { session } = s.exchange(s.issueLink('write'))!;
    c.advance(SESSION_IDLE_MS - 1);
    assert.equal(s.access(session), 'write', 'used just in time: extended');
    c.advance(SESSION_IDLE_MS - 1);
    assert.equal(s.access(session), 'write');
    c.advance(SESSION_IDLE_MS + 1);
    assert.equal(s.access(session), null);
    assert.equal(s.access('nope'), null);
  });

  it('the cookie is named per daemon port, HttpOnly and SameSite=Strict, and read back by name only', () => {
    assert.notEqual(sessionCookieName(4000), sessionCookieName(4001));
    assert.equal(setSessionCookie('berth_session_4000', 'abc'), 'berth_session_4000=abc; Path=/; HttpOnly; SameSite=Strict');
    assert.equal(sessionCookie('a=1; berth_session_4001=zzz; berth_session_4000=abc', 'berth_session_4000'), 'abc');
    assert.equal(sessionCookie('berth_session_40000=abc', 'berth_session_4000'), null);
    assert.equal(sessionCookie(undefined, 'berth_session_4000'), null);
  });
});

describe('the listener feed', () => {
  /** An engine whose only part is a reality.ports that counts its calls and returns `current`. */
  const counting = (): { engine: Engine; reads: () => number; set: (ports: PortEntry[]) => void } => {
    let reads = 0;
    let current: PortEntry[] = [];
    const engine = { reality: { ports: async () => (reads++, current) } } as unknown as Engine;
    return { engine, reads: () => reads, set: (p) => void (current = p) };
  };
  const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const entry = (port: number): PortEntry => ({ protocol: 'tcp', address: '127.0.0.1', port, pid: 1, process: 'x', command: null, user: null, container: null, lease: null });

  it('reads only while someone listens, and passes on only changes', async () => {
    const os = counting();
    const feed = new RealityFeed(os.engine, 10);
    await tick(50);
    assert.equal(os.reads(), 0, 'nobody listens: the OS is not asked');
    const seen: (readonly PortEntry[])[] = [];
    const stop = feed.subscribe((p) => {
      if (!(p instanceof Error)) seen.push(p);
    });
    await tick(100);
    assert.ok(os.reads() >= 3, `read every interval (${os.reads()})`);
    assert.equal(seen.length, 1, 'the first reading, then nothing while nothing changes');
    os.set([entry(5000)]);
    await tick(100);
    assert.equal(seen.length, 2);
    assert.equal(seen[1]![0]!.port, 5000);
    stop();
    const after = os.reads();
    await tick(100);
    assert.ok(os.reads() <= after + 1, 'stops reading once the last subscriber left');
  });
});

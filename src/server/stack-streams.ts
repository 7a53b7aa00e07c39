/**
 * The launch routes that answer with an event stream: a service's log lines followed as
 * they come (`GET .../logs?follow=true`), and a stack attached to its caller's connection
 * (`POST /v1/stacks/{scope}/attach`, a foreground `berth up`). Both write through sse.ts's
 * openStream, so framing, heartbeats and the unread-bytes bound are the event feed's.
 */
import type { ServerResponse } from 'node:http';
import { parseSince } from '../config/durations.js';
import { FROM_CONTEXT } from '../http/routes.js';
import type { LogLine } from '../launch/index.js';
import type { Call } from './call.js';
import { scoped, stacksOf, upOptions } from './stack-handlers.js';
import { liveFrame, openStream, type OpenStream } from './sse.js';
import { settle, type StackHost } from './stacks.js';

/** How long an attached stack may take to settle before `settled` says it did not. */
const ATTACH_SETTLE_MS = 2 ** 31 - 1;

/** Whether this request is answered by {@link streamStackRoute}. */
export function isStackStream(routeId: string, query: Call['query']): boolean {
  return routeId === 'stacks.attach' || (routeId === 'services.logs' && query.follow === true);
}

/** A log line as the stream sends it. */
function logFrame(l: LogLine): string {
  return liveFrame('log', { name: l.service, stream: l.stream, text: l.text, time: l.time });
}

/**
 * Serves a stream route. Errors before the stream opens (an unknown service, a held port)
 * are thrown, so the client gets the usual problem answer; after that, the stream ends.
 */
export async function streamStackRoute(c: Call, res: ServerResponse, onEnd: () => void, maxUnreadBytes?: number): Promise<OpenStream> {
  const stacks = stacksOf(c);
  return c.params.name === undefined ? attach(stacks, c, res, onEnd, maxUnreadBytes) : follow(stacks, c, res, onEnd, maxUnreadBytes);
}

/** The tail/since lines, then every new one until the stack is removed or the client leaves. */
async function follow(stacks: StackHost, c: Call, res: ServerResponse, onEnd: () => void, maxUnreadBytes?: number): Promise<OpenStream> {
  const scope = await stacks.scopeOf(scoped(c, c.params.scope));
  const name = c.params.name === FROM_CONTEXT ? undefined : c.params.name;
  const since = c.query.since === undefined ? undefined : parseSince(String(c.query.since));
  const tail = c.query.tail === undefined ? undefined : Number(c.query.tail);
  const running = stacks.running(scope);
  // Both synchronous, so no line falls between the tail and the subscription.
  const lines = stacks.logs(scope, name, tail, since);
  const unfollow = running?.followLogs((line) => stream.send(logFrame(line)), name);
  const stream = openStream(res, onEnd, maxUnreadBytes);
  if (unfollow !== undefined) stream.onEnd(unfollow);
  for (const l of lines) stream.send(logFrame(l));
  // A stack that does not run here has no new lines to wait for.
  if (running === undefined) stream.end();
  else stream.onEnd(stacks.onRemoved(scope, () => stream.end()));
  return stream;
}

/** Starts the stack and streams it to this client; stops it when the client leaves first. */
async function attach(stacks: StackHost, c: Call, res: ServerResponse, onEnd: () => void, maxUnreadBytes?: number): Promise<OpenStream> {
  const opts = upOptions(c);
  const { scope, supervisor } = await stacks.launch(scoped(c, c.params.scope), opts);
  let removed = false;
  const stream = openStream(res, onEnd, maxUnreadBytes);
  stream.onEnd(() => {
    // The client vanished (Ctrl-C'd without asking, SIGKILLed, its terminal closed): a stack
    // attached to nobody would run on unseen, so it is stopped as berth down would.
    if (!removed && stacks.running(scope) === supervisor) void stacks.down(scope).catch(() => undefined);
  });
  stream.send(liveFrame('started', { scope, services: supervisor.statuses() }));
  // The lines of the start so far, then the rest: both synchronous, so none is lost or sent twice.
  for (const l of supervisor.logs().sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0))) stream.send(logFrame(l));
  stream.onEnd(supervisor.followLogs((line) => stream.send(logFrame(line))));
  stream.onEnd(stacks.subscribe((event) => (event.scope === scope ? stream.send(liveFrame('service', event)) : undefined)));
  stream.onEnd(
    stacks.onRemoved(scope, (report) => {
      removed = true;
      stream.send(liveFrame('end', report));
      stream.end();
    }),
  );
  void settle(scope, supervisor, opts.timeoutMs ?? ATTACH_SETTLE_MS).then((result) => stream.send(liveFrame('settled', result)));
  return stream;
}

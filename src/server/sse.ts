/**
 * The event stream (`GET /v1/events`), snapshot then subscribe: a new client first gets
 * the current leases as one `snapshot` event (its id the last change's), then every change
 * after it as a `change` event with the change's id. A client that reconnects with
 * Last-Event-ID gets the changes after that id instead. Changes come from the store's
 * event list, so a CLI writing the store directly is seen too. A comment every
 * HEARTBEAT_MS keeps idle connections (and proxies) open.
 *
 * With a RealityFeed (`?reality=true`, the dashboard), the stream also carries `ports`
 * events: every listener of the machine, at the start and whenever they change. They have
 * no id, so they never move the Last-Event-ID a reconnecting client resumes from.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Engine } from '../engine/index.js';
import type { RegistryEvent } from '../types.js';
import { SECURITY_HEADERS } from './problem.js';
import type { RealityFeed } from './reality-feed.js';
import type { StackHost } from './stacks.js';

/** How often an idle stream gets a comment. */
export const HEARTBEAT_MS = 15_000;
/** How often the store is read for new changes. */
export const STREAM_POLL_MS = 100;
/**
 * Most bytes a stream may have waiting for its client. The feed waits for a client that
 * has not taken the last page (backpressure), so a reading client never comes near this;
 * it is the bound for what backpressure cannot hold back (a large snapshot, heartbeats to
 * a client that never reads). Past it the connection is closed; the client reconnects with
 * Last-Event-ID and gets every change it missed, from the store.
 */
export const MAX_UNREAD_BYTES = 8 * 1024 * 1024;

function frame(event: string, id: number, data: unknown): string {
  return `id: ${id}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** Options of one stream. */
export interface StreamOptions {
  /** The machine's listeners as `ports` events, for pages that show them (`?reality=true`). */
  readonly reality?: RealityFeed;
  /** Bytes the stream may keep for a client that does not read (default MAX_UNREAD_BYTES; tests lower it). */
  readonly maxUnreadBytes?: number;
  /** The daemon's launched stacks: their service state changes as `service` events. */
  readonly stacks?: StackHost;
}

/** One open `text/event-stream` answer: what every stream of the API writes through. */
export interface OpenStream {
  /** Writes `text` (whole frames), or cuts off a client whose backlog passed the limit (see MAX_UNREAD_BYTES). */
  send(text: string): void;
  /** Resolves once the client has taken what was written (backpressure), or at once. */
  ready(): Promise<void> | void;
  /** Ends the stream (once); runs the cleanups and `onEnd`. */
  end(): void;
  /** Runs `cleanup` when the stream ends. */
  onEnd(cleanup: () => void): void;
  readonly ended: boolean;
}

/**
 * Opens an event stream on `res`: security headers, a heartbeat comment every
 * HEARTBEAT_MS, the unread-bytes bound, and an end when the client leaves. The event feed
 * and the log follow share it, so they cannot differ in framing or backpressure.
 */
export function openStream(res: ServerResponse, onEnd: () => void, maxUnreadBytes = MAX_UNREAD_BYTES): OpenStream {
  const cleanups: (() => void)[] = [];
  const heartbeat = setInterval(() => stream.send(': heartbeat\n\n'), HEARTBEAT_MS);
  const stream: OpenStream & { ended: boolean } = {
    ended: false,
    send(text) {
      if (stream.ended) return;
      if (res.writableLength > maxUnreadBytes) {
        // Ending would wait for the unread bytes to drain, which they may never do.
        stream.end();
        res.destroy();
        return;
      }
      res.write(text);
    },
    ready() {
      if (stream.ended || !res.writableNeedDrain) return;
      return new Promise<void>((resolve) => {
        const done = (): void => {
          res.off('drain', done);
          res.off('close', done);
          resolve();
        };
        res.on('drain', done);
        res.on('close', done);
      });
    },
    end() {
      if (stream.ended) return;
      stream.ended = true;
      clearInterval(heartbeat);
      for (const c of cleanups) c();
      res.end();
      onEnd();
    },
    onEnd(cleanup) {
      if (stream.ended) cleanup();
      else cleanups.push(cleanup);
    },
  };
  // The response's close, not the request's: a request with a body has ended (and closed)
  // long before its client leaves; the response closes when the connection does.
  res.on('close', () => stream.end());
  res.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': 'text/event-stream; charset=utf-8', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
  return stream;
}

/** One event frame without an id (live-only events, which never move a client's Last-Event-ID). */
export function liveFrame(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** Serves one event stream; returns a function that ends it. `onEnd` runs once when it ends. */
export function streamEvents(engine: Engine, req: IncomingMessage, res: ServerResponse, onEnd: () => void, opts: StreamOptions = {}): () => void {
  const { reality, stacks, maxUnreadBytes = MAX_UNREAD_BYTES } = opts;
  const stream = openStream(res, onEnd, maxUnreadBytes);
  const send = (text: string): void => stream.send(text);
  // Service state changes and stacks added or forgotten are live only (not in the store):
  // `service` and `stack` events without an id, so they never move a client's Last-Event-ID.
  if (stacks !== undefined) {
    stream.onEnd(
      stacks.subscribe(
        (event) => send(liveFrame('service', event)),
        (event) => send(liveFrame('stack', event)),
      ),
    );
  }
  const resume = String(req.headers['last-event-id'] ?? '');
  void (async () => {
    try {
      let after: number;
      if (/^\d{1,15}$/.test(resume)) {
        after = Number(resume);
      } else {
        // Snapshot then subscribe: the id is read before the leases, so a change made in
        // between is sent again after the snapshot rather than lost.
        after = await engine.events.lastId();
        const leases = await engine.leases.list({});
        if (stream.ended) return;
        send(frame('snapshot', after, { leases, lastEventId: after, services: stacks?.list() ?? [] }));
      }
      if (stream.ended) return;
      if (reality !== undefined) {
        stream.onEnd(
          reality.subscribe((ports) => {
            if (ports instanceof Error) send(liveFrame('error', { message: ports.message }));
            else send(liveFrame('ports', ports));
          }),
        );
      }
      const onChange = (event: RegistryEvent): void => {
        send(frame('change', event.id, event));
        // A lease change may change which lease owns a listener.
        reality?.refresh();
      };
      stream.onEnd(
        engine.events.subscribe(after, onChange, {
          intervalMs: STREAM_POLL_MS,
          ready: () => stream.ready(),
          onError: (error) => send(liveFrame('error', { message: error.message })),
        }),
      );
    } catch (error) {
      send(liveFrame('error', { message: (error as Error).message }));
      stream.end();
    }
  })();
  return () => stream.end();
}

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

/** Serves one event stream; returns a function that ends it. `onEnd` runs once when it ends. */
export function streamEvents(engine: Engine, req: IncomingMessage, res: ServerResponse, onEnd: () => void, opts: StreamOptions = {}): () => void {
  const { reality, stacks, maxUnreadBytes = MAX_UNREAD_BYTES } = opts;
  let ended = false;
  let unsubscribe = (): void => undefined;
  let unsubscribeReality = (): void => undefined;
  // Service state changes and stacks added or forgotten are live only (not in the store):
  // `service` and `stack` events without an id, so they never move a client's Last-Event-ID.
  const unsubscribeServices =
    stacks?.subscribe(
      (event) => send(`event: service\ndata: ${JSON.stringify(event)}\n\n`),
      (event) => send(`event: stack\ndata: ${JSON.stringify(event)}\n\n`),
    ) ?? ((): void => undefined);
  const heartbeat = setInterval(() => send(': heartbeat\n\n'), HEARTBEAT_MS);
  const end = (): void => {
    if (ended) return;
    ended = true;
    clearInterval(heartbeat);
    unsubscribe();
    unsubscribeReality();
    unsubscribeServices();
    res.end();
    onEnd();
  };
  req.on('close', end);
  /** Writes `text`, or cuts off a client whose backlog passed the limit (see MAX_UNREAD_BYTES). */
  const send = (text: string): void => {
    if (ended) return;
    if (res.writableLength > maxUnreadBytes) {
      // Ending would wait for the unread bytes to drain, which they may never do.
      end();
      res.destroy();
      return;
    }
    res.write(text);
  };
  /** Before each page of changes: wait until the client has taken the last one (backpressure). */
  const ready = (): Promise<void> | void => {
    if (ended || !res.writableNeedDrain) return;
    return new Promise<void>((resolve) => {
      const done = (): void => {
        res.off('drain', done);
        res.off('close', done);
        resolve();
      };
      res.on('drain', done);
      res.on('close', done);
    });
  };
  res.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': 'text/event-stream; charset=utf-8', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
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
        if (ended) return;
        send(frame('snapshot', after, { leases, lastEventId: after, services: stacks?.list() ?? [] }));
      }
      if (ended) return;
      if (reality !== undefined) {
        unsubscribeReality = reality.subscribe((ports) => {
          if (ports instanceof Error) send(`event: error\ndata: ${JSON.stringify({ message: ports.message })}\n\n`);
          else send(`event: ports\ndata: ${JSON.stringify(ports)}\n\n`);
        });
      }
      const onChange = (event: RegistryEvent): void => {
        send(frame('change', event.id, event));
        // A lease change may change which lease owns a listener.
        reality?.refresh();
      };
      unsubscribe = engine.events.subscribe(after, onChange, {
        intervalMs: STREAM_POLL_MS,
        ready,
        onError: (error) => send(`event: error\ndata: ${JSON.stringify({ message: error.message })}\n\n`),
      });
    } catch (error) {
      send(`event: error\ndata: ${JSON.stringify({ message: (error as Error).message })}\n\n`);
      end();
    }
  })();
  return end;
}

/**
 * The event stream (`GET /v1/events`), snapshot then subscribe: a new client first gets
 * the current leases as one `snapshot` event (its id the last change's), then every change
 * after it as a `change` event with the change's id. A client that reconnects with
 * Last-Event-ID gets the changes after that id instead. Changes come from the store's
 * event list, so a CLI writing the store directly is seen too. A comment every
 * HEARTBEAT_MS keeps idle connections (and proxies) open.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Engine } from '../engine/index.js';
import type { RegistryEvent } from '../types.js';
import { SECURITY_HEADERS } from './problem.js';
import type { StackHost } from './stacks.js';

/** How often an idle stream gets a comment. */
export const HEARTBEAT_MS = 15_000;
/** How often the store is read for new changes. */
export const STREAM_POLL_MS = 100;

function frame(event: string, id: number, data: unknown): string {
  return `id: ${id}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** Serves one event stream; returns a function that ends it. `onEnd` runs once when it ends. */
export function streamEvents(engine: Engine, req: IncomingMessage, res: ServerResponse, onEnd: () => void, stacks?: StackHost): () => void {
  let ended = false;
  let unsubscribe = (): void => undefined;
  // Service state changes are live only (not in the store): `service` events without an id,
  // so they never move a client's Last-Event-ID.
  const unsubscribeServices = stacks?.subscribe((event) => res.write(`event: service\ndata: ${JSON.stringify(event)}\n\n`)) ?? ((): void => undefined);
  const heartbeat = setInterval(() => res.write(': heartbeat\n\n'), HEARTBEAT_MS);
  const end = (): void => {
    if (ended) return;
    ended = true;
    clearInterval(heartbeat);
    unsubscribe();
    unsubscribeServices();
    res.end();
    onEnd();
  };
  req.on('close', end);
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
        res.write(frame('snapshot', after, { leases, lastEventId: after, services: stacks?.list() ?? [] }));
      }
      if (ended) return;
      unsubscribe = engine.events.subscribe(after, (event: RegistryEvent) => res.write(frame('change', event.id, event)), {
        intervalMs: STREAM_POLL_MS,
        onError: (error) => res.write(`event: error\ndata: ${JSON.stringify({ message: error.message })}\n\n`),
      });
    } catch (error) {
      res.write(`event: error\ndata: ${JSON.stringify({ message: (error as Error).message })}\n\n`);
      end();
    }
  })();
  return end;
}

/**
 * The feed of changes, read from the store's event list: changes made by any process that
 * writes the store (another CLI, another machine on a shared registry) arrive here too.
 */
import { UsageError } from '../errors.js';
import type { EventsApi, SubscribeOptions, Unsubscribe } from '../engine/index.js';
import type { RegistryEvent } from '../types.js';
import type { EngineCore } from './shared.js';
import { EVENT_PAGE, pollEvents } from '../wiring/event-poll.js';


/** The event operations of the LocalEngine. */
export class EventService implements EventsApi {
  /** Open subscriptions, ended when the engine closes. */
  private readonly live = new Set<Unsubscribe>();

  constructor(private readonly core: EngineCore) {}

  /** Ends every subscription (the engine is closing). */
  stopAll(): void {
    for (const stop of [...this.live]) stop();
  }

  async after(afterId: number, limit = EVENT_PAGE): Promise<RegistryEvent[]> {
    if (!Number.isSafeInteger(afterId) || afterId < 0) throw new UsageError(`invalid event id ${JSON.stringify(afterId)}: expected a whole number, 0 or more.`);
    if (!Number.isSafeInteger(limit) || limit < 1) throw new UsageError(`invalid limit ${JSON.stringify(limit)}: expected a whole number above 0.`);
    return this.core.store.transaction('read', (tx) => tx.listEvents({ afterId, limit }));
  }

  lastId(): Promise<number> {
    return this.core.store.transaction('read', (tx) => tx.lastEventId());
  }

    /** Every event after `afterId`, in order, as they are recorded (see pollEvents). */
  subscribe(afterId: number, onEvent: (event: RegistryEvent) => void, opts: SubscribeOptions = {}): Unsubscribe {
    // A shared registry says when another writer committed events: read them then, not at the next poll.
    const { store } = this.core;
    const wake = store.watch === undefined ? undefined : (hint: () => void) => store.watch!(hint);
    const poll = pollEvents((id, limit) => this.after(id, limit), afterId, onEvent, { ...opts, wake });
    const stop: Unsubscribe = () => {
      poll();
      this.live.delete(stop);
    };
    this.live.add(stop);
    return stop;
  }

}

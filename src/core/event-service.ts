/**
 * The feed of changes, read from the store's event list: changes made by any process that
 * writes the store (another CLI, another machine on a shared registry) arrive here too.
 */
import { UsageError } from '../errors.js';
import type { EventsApi, SubscribeOptions, Unsubscribe } from '../engine/index.js';
import type { RegistryEvent } from '../types.js';
import type { EngineCore } from './shared.js';

/** How often a subscription reads the store unless told. */
export const DEFAULT_POLL_MS = 100;
/** Events read per call unless told. */
export const DEFAULT_PAGE = 1000;

/** The event operations of the LocalEngine. */
export class EventService implements EventsApi {
  /** Open subscriptions, ended when the engine closes. */
  private readonly live = new Set<Unsubscribe>();

  constructor(private readonly core: EngineCore) {}

  /** Ends every subscription (the engine is closing). */
  stopAll(): void {
    for (const stop of [...this.live]) stop();
  }

  async after(afterId: number, limit = DEFAULT_PAGE): Promise<RegistryEvent[]> {
    if (!Number.isSafeInteger(afterId) || afterId < 0) throw new UsageError(`invalid event id ${JSON.stringify(afterId)}: expected a whole number, 0 or more.`);
    if (!Number.isSafeInteger(limit) || limit < 1) throw new UsageError(`invalid limit ${JSON.stringify(limit)}: expected a whole number above 0.`);
    return this.core.store.transaction('read', (tx) => tx.listEvents({ afterId, limit }));
  }

  lastId(): Promise<number> {
    return this.core.store.transaction('read', (tx) => tx.lastEventId());
  }

  /**
   * Polls the store for events after `afterId` and delivers them in order. One read at a
   * time: the next starts only after the last one's events were delivered, so a slow
   * store never piles up readers.
   */
  subscribe(afterId: number, onEvent: (event: RegistryEvent) => void, opts: SubscribeOptions = {}): Unsubscribe {
    const intervalMs = opts.intervalMs ?? DEFAULT_POLL_MS;
    let last = afterId;
    let stopped = false;
    let timer: NodeJS.Timeout | undefined;
    const tick = async (): Promise<void> => {
      try {
        for (;;) {
          const page = await this.after(last);
          for (const event of page) {
            if (stopped) return;
            last = event.id;
            onEvent(event);
          }
          if (page.length < DEFAULT_PAGE) break;
        }
      } catch (error) {
        opts.onError?.(error as Error);
      }
      if (!stopped) timer = setTimeout(() => void tick(), intervalMs);
    };
    void tick();
    const stop: Unsubscribe = () => {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      this.live.delete(stop);
    };
    this.live.add(stop);
    return stop;
  }
}

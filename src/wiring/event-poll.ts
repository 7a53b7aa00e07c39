/**
 * The feed's semantics in one place, for every engine: events after an id, read a page at
 * a time and delivered in order; the next read starts only after the last page was
 * delivered (a slow store or daemon never piles up readers); stopping stops at once.
 * LocalEngine reads its store, RemoteEngine the daemon; both subscribe through here.
 */
import type { RegistryEvent } from '../types.js';

/** How often a subscription asks for new events unless told. */
export const DEFAULT_POLL_MS = 100;
/** Events read per request. */
export const EVENT_PAGE = 1000;

/** Options of pollEvents. */
export interface PollOptions {
  readonly intervalMs?: number;
  /** Called when a read fails; the subscription goes on. */
  readonly onError?: (error: Error) => void;
  /** Awaited before each page is read (SubscribeOptions.ready). */
  readonly ready?: () => Promise<void> | void;
  /**
   * Subscribes to a hint that new events were committed (a shared registry's NOTIFY): each
   * hint reads at once rather than at the next interval. Returns what ends the hints.
   */
  readonly wake?: (hint: () => void) => () => void;
}

/**
 * Calls `onEvent` for every event after `afterId`, reading with `after(id, limit)`;
 * returns the function that stops it.
 */
export function pollEvents(
  after: (afterId: number, limit: number) => Promise<RegistryEvent[]>,
  afterId: number,
  onEvent: (event: RegistryEvent) => void,
  opts: PollOptions = {},
): () => void {
  const intervalMs = opts.intervalMs ?? DEFAULT_POLL_MS;
  let last = afterId;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  /** A read is under way; a hint meanwhile asks for another right after it. */
  let reading = false;
  let again = false;
  const tick = async (): Promise<void> => {
    reading = true;
    again = false;
    try {
      for (;;) {
        await opts.ready?.();
        if (stopped) return;
        const page = await after(last, EVENT_PAGE);
        for (const event of page) {
          if (stopped) return;
          last = event.id;
          onEvent(event);
        }
        if (page.length < EVENT_PAGE) break;
      }
    } catch (error) {
      if (!stopped) opts.onError?.(error as Error);
    }
    reading = false;
    if (!stopped) timer = setTimeout(() => void tick(), again ? 0 : intervalMs);
  };
  const unwake = opts.wake?.(() => {
    if (stopped) return;
    if (reading) {
      again = true;
      return;
    }
    clearTimeout(timer);
    void tick();
  });
  void tick();
  return () => {
    stopped = true;
    if (timer !== undefined) clearTimeout(timer);
    unwake?.();
  };
}

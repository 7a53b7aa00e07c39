/**
 * The feed of changes: the same events the history lists, read after an id. Every change
 * is in the store, so changes made by other processes (a CLI writing the SQLite file
 * directly) arrive too.
 */
import type { RegistryEvent } from '../types.js';

/** Stops a subscription. */
export type Unsubscribe = () => void;

/** Options of subscribe. */
export interface SubscribeOptions {
  /** How often the store is read for new events, in milliseconds (default 100). */
  readonly intervalMs?: number;
  /** Called when reading the store fails; the subscription goes on. */
  readonly onError?: (error: Error) => void;
  /**
   * Awaited before each page of events is read: a consumer that cannot take more yet (an
   * event stream whose client has not read the last page) holds the feed back here
   * instead of buffering without bound.
   */
  readonly ready?: () => Promise<void> | void;
}

/** The event operations. */
export interface EventsApi {
  /** Events with an id above `afterId`, oldest first, at most `limit` (default 1,000). */
  after(afterId: number, limit?: number): Promise<RegistryEvent[]>;
  /** The highest event id so far (0 when none): where a live feed starts. */
  lastId(): Promise<number>;
  /** Calls `onEvent` for every event after `afterId`, in order, as they are recorded. */
  subscribe(afterId: number, onEvent: (event: RegistryEvent) => void, opts?: SubscribeOptions): Unsubscribe;
}

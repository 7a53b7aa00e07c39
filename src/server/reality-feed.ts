/**
 * The machine's listeners as a feed, for event streams that ask for them (the dashboard):
 * the OS has no change notification for sockets, so one reader per daemon asks it every
 * REALITY_POLL_MS while at least one stream listens, and passes the listeners on only
 * when they differ from the last reading. One reading serves every stream; none is made
 * when nobody listens. A registry change or a kill asks for a reading at once (refresh).
 */
import type { Engine, PortEntry } from '../engine/index.js';

/** How often the OS is asked while someone listens. */
export const REALITY_POLL_MS = 1_000;

type Subscriber = (ports: readonly PortEntry[] | Error) => void;

/** One daemon's listener feed. */
export class RealityFeed {
  private readonly subscribers = new Set<Subscriber>();
  private lastText: string | null = null;
  private last: readonly PortEntry[] | null = null;
  private timer: NodeJS.Timeout | null = null;
  private reading = false;
  /** A refresh asked for during a reading: read again right after it. */
  private again = false;

  constructor(
    private readonly engine: Engine,
    private readonly intervalMs = REALITY_POLL_MS,
  ) {}

  /** Calls `fn` with the current listeners (soon) and after every change; returns the unsubscribe. */
  subscribe(fn: Subscriber): () => void {
    this.subscribers.add(fn);
    if (this.last !== null) fn(this.last);
    this.refresh();
    return () => {
      this.subscribers.delete(fn);
      if (this.subscribers.size === 0) this.stop();
    };
  }

  /** Reads the listeners now (or right after the reading under way). */
  refresh(): void {
    if (this.subscribers.size === 0) return;
    if (this.reading) {
      this.again = true;
      return;
    }
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    void this.read();
  }

  /** Stops reading; subscribers are dropped. */
  stop(): void {
    this.subscribers.clear();
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    // The next subscriber gets a fresh reading, not one from before a pause.
    this.last = null;
    this.lastText = null;
  }

  private async read(): Promise<void> {
    this.reading = true;
    try {
      const ports = await this.engine.reality.ports({});
      const text = JSON.stringify(ports);
      if (text !== this.lastText && this.subscribers.size > 0) {
        this.lastText = text;
        this.last = ports;
        for (const fn of [...this.subscribers]) fn(ports);
      }
    } catch (error) {
      for (const fn of [...this.subscribers]) fn(error instanceof Error ? error : new Error(String(error)));
    } finally {
      this.reading = false;
      if (this.subscribers.size > 0) {
        if (this.again) {
          this.again = false;
          void this.read();
        } else {
          this.timer = setTimeout(() => {
            this.timer = null;
            void this.read();
          }, this.intervalMs);
        }
      }
    }
  }
}

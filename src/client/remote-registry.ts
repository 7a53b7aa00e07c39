/**
 * The registry as a whole and the feed of changes, over the daemon's API. `subscribe`
 * polls `events.after` as LocalEngine's feed polls the store: the same events, in order,
 * one read at a time.
 */
import type {
  EventsApi,
  ExportOptions,
  GcResult,
  HistoryQuery,
  ImportOptions,
  ImportResult,
  RegistryApi,
  ResetResult,
  ScopeContext,
  Snapshot,
  SubscribeOptions,
  Unsubscribe,
} from '../engine/index.js';
import type { RegistryEvent } from '../types.js';
import { integerText, type Wire } from './wire.js';

/** How often a subscription asks for new events unless told (as LocalEngine's feed). */
export const DEFAULT_POLL_MS = 100;
/** Events read per request unless told (as LocalEngine's feed). */
export const DEFAULT_PAGE = 1000;

/** The registry operations of the RemoteEngine. */
export class RemoteRegistry implements RegistryApi {
  constructor(private readonly wire: Wire) {}

  export(ctx: ScopeContext, opts: ExportOptions = {}): Promise<Snapshot> {
    return this.wire.call('registry.export', ctx, { query: { scope: opts.scope } });
  }

  import(ctx: ScopeContext, snapshot: unknown, opts: ImportOptions = {}): Promise<ImportResult> {
    return this.wire.call('registry.import', ctx, { body: { snapshot, replace: opts.replace, source: opts.source } });
  }

  gc(ctx: ScopeContext, opts: { readonly dryRun?: boolean } = {}): Promise<GcResult> {
    return this.wire.call('registry.gc', ctx, { body: { dryRun: opts.dryRun } });
  }

  reset(ctx: ScopeContext): Promise<ResetResult> {
    // The route asks for a confirmation a person gives; the engine call is that confirmation.
    return this.wire.call('registry.reset', ctx, { body: { yes: true } });
  }

  history(ctx: ScopeContext, query: HistoryQuery = {}): Promise<RegistryEvent[]> {
    return this.wire.call('registry.history', ctx, { query: { name: query.name, port: query.port, scope: query.scope, since: query.since, limit: query.limit } });
  }
}

/** The event operations of the RemoteEngine. */
export class RemoteEvents implements EventsApi {
  /** Stops of the live subscriptions, ended by `stopAll` when the engine closes. */
  private readonly live = new Set<Unsubscribe>();

  constructor(private readonly wire: Wire) {}

  after(afterId: number, limit?: number): Promise<RegistryEvent[]> {
    return this.wire.call('events.after', {}, { params: { id: integerText(afterId) }, query: { limit } });
  }

  async lastId(): Promise<number> {
    return (await this.wire.call<{ id: number }>('events.last', {})).id;
  }

  /** Polls for events after `afterId` and delivers them in order; the next read starts after the last one's events were delivered. */
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
        if (!stopped) opts.onError?.(error as Error);
      }
      if (!stopped) timer = setTimeout(() => void tick(), intervalMs);
    };
    const stop: Unsubscribe = () => {
      stopped = true;
      this.live.delete(stop);
      if (timer !== undefined) clearTimeout(timer);
    };
    this.live.add(stop);
    void tick();
    return stop;
  }

  /** Ends every subscription (the engine is closing). */
  stopAll(): void {
    for (const stop of [...this.live]) stop();
  }
}

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
import { pollEvents } from '../wiring/event-poll.js';


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

    /** Every event after `afterId`, in order, as they are recorded (see pollEvents). */
  subscribe(afterId: number, onEvent: (event: RegistryEvent) => void, opts: SubscribeOptions = {}): Unsubscribe {
    const poll = pollEvents((id, limit) => this.after(id, limit), afterId, onEvent, opts);
    const stop: Unsubscribe = () => {
      poll();
      this.live.delete(stop);
    };
    this.live.add(stop);
    return stop;
  }


  /** Ends every subscription (the engine is closing). */
  stopAll(): void {
    for (const stop of [...this.live]) stop();
  }
}

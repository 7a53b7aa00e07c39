/**
 * The log lines of the service chosen in the Services view: fetched from the logs route
 * when it is chosen and again when one of its `service` events arrives (started, crashed,
 * stopped), never on a timer.
 */
import { ApiError, call } from './api.js';

/** How many of a service's last lines the page asks for (the issue asks for 1,000 or more). */
export const LOG_TAIL = 1000;

/** One line as the logs route answers it (launch's LogLine: the page may not import launch). */
export interface LogLine {
  /** ISO-8601. */
  readonly time: string;
  readonly service: string;
  readonly stream: 'out' | 'err' | 'berth';
  readonly text: string;
}

/** The chosen service's lines and the filter typed over them. */
export class ServiceLogs {
  scope: string | null = null;
  name: string | null = null;
  lines: readonly LogLine[] = [];
  /** Why the last fetch failed; null when it did not. */
  error: string | null = null;
  loading = false;
  /** Lower case; '' shows every line. */
  filter = '';
  /** Following (the newest line kept in view) while the reader is at the bottom; else where they scrolled to. */
  follow = true;
  scrollTop = 0;
  /** Numbers fetches, so an answer overtaken by a later one is dropped. */
  private asked = 0;

  constructor(private readonly changed: () => void) {}

  /** Whether `scope`/`name` is the chosen service. */
  is(scope: string, name: string): boolean {
    return this.scope === scope && this.name === name;
  }

  /** Chooses a service and fetches its lines. */
  select(scope: string, name: string): void {
    if (this.is(scope, name)) return;
    this.scope = scope;
    this.name = name;
    this.lines = [];
    this.error = null;
    this.follow = true;
    this.scrollTop = 0;
    void this.load();
  }

  /** A service changed state: its new lines (a crash's last words, berth's notes) are worth a fetch. */
  onEvent(event: { readonly scope: string; readonly name: string }): void {
    if (this.is(event.scope, event.name)) void this.load();
  }

  /** The lines the filter lets through. */
  shown(): readonly LogLine[] {
    return this.filter === '' ? this.lines : this.lines.filter((l) => l.text.toLowerCase().includes(this.filter));
  }

  async load(): Promise<void> {
    if (this.scope === null || this.name === null) return;
    const ask = ++this.asked;
    this.loading = true;
    this.changed();
    try {
      const lines = await call<LogLine[]>('services.logs', { scope: this.scope, name: this.name }, { query: { tail: LOG_TAIL } });
      if (ask !== this.asked) return;
      this.lines = lines;
      this.error = null;
    } catch (error) {
      if (ask !== this.asked) return;
      this.error = error instanceof ApiError ? error.message : String(error);
    } finally {
      if (ask === this.asked) {
        this.loading = false;
        this.changed();
      }
    }
  }
}

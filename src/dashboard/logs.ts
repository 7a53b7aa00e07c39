/**
 * The log lines of the service chosen in the Services view, followed live: while a
 * service is chosen the page holds the logs route's stream (`follow=true`), which sends its
 * last LOG_TAIL lines, then each line as the service prints it. The stream ends when the
 * stack is stopped (or does not run in the daemon); the service's next event (started
 * again) opens it anew. Choosing another service closes it.
 */
import { routeUrl } from './api.js';

/** How many of a service's last lines the page keeps (the issue asks for 1,000 or more). */
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
  /** Why the stream could not be read; null when it could. */
  error: string | null = null;
  loading = false;
  /** As typed (a draw puts it back in the field unchanged); matched trimmed and in any case. '' shows every line. */
  filter = '';
  /** Following (the newest line kept in view) while the reader is at the bottom. */
  follow = true;
  private stream: EventSource | null = null;

  constructor(private readonly changed: () => void) {}

  /** Whether `scope`/`name` is the chosen service. */
  is(scope: string, name: string): boolean {
    return this.scope === scope && this.name === name;
  }

  /** Chooses a service and follows its lines. */
  select(scope: string, name: string): void {
    if (this.is(scope, name)) return;
    this.scope = scope;
    this.name = name;
    this.follow = true;
    this.load();
  }

  /** A service changed state: when its stream has ended (the stack was stopped), a start opens it again. */
  onEvent(event: { readonly scope: string; readonly name: string }): void {
    if (this.is(event.scope, event.name) && this.stream === null) this.load();
  }

  /** The lines the filter lets through. */
  shown(): readonly LogLine[] {
    const needle = this.filter.trim().toLowerCase();
    return needle === '' ? this.lines : this.lines.filter((l) => l.text.toLowerCase().includes(needle));
  }

  /** (Re)opens the chosen service's stream: its last lines, then every new one. */
  load(): void {
    this.close();
    if (this.scope === null || this.name === null) return;
    this.lines = [];
    this.error = null;
    this.loading = true;
    const stream = new EventSource(routeUrl('services.logs', { scope: this.scope, name: this.name }, { follow: true, tail: LOG_TAIL }));
    this.stream = stream;
    const lines: LogLine[] = [];
    this.lines = lines;
    stream.addEventListener('open', () => {
      this.loading = false;
      this.changed();
    });
    stream.addEventListener('log', (e) => {
      const d = JSON.parse((e as MessageEvent<string>).data) as { name: string; stream: LogLine['stream']; text: string; time: string };
      lines.push({ time: d.time, service: d.name, stream: d.stream, text: d.text });
      // One array per stream, kept in place: the last LOG_TAIL lines.
      if (lines.length > LOG_TAIL) lines.splice(0, lines.length - LOG_TAIL);
      this.changed();
    });
    stream.addEventListener('error', () => {
      if (this.stream !== stream) return;
      // The daemon ended the stream (the stack was stopped, or runs elsewhere) or refused it:
      // no reconnecting loop; the lines stay, and the service's next event opens it again.
      stream.close();
      this.stream = null;
      if (this.loading) this.error = 'the daemon did not send these logs (is it still running?)';
      this.loading = false;
      this.changed();
    });
  }

  /** Stops following. */
  close(): void {
    this.stream?.close();
    this.stream = null;
  }
}

/**
 * What a foreground `berth up` shows: each service's lines prefixed with its name (in its
 * colour on a terminal), and, when stdout is a terminal, one status line at the bottom,
 * redrawn in place, with the count of services per state and who is waiting for what.
 * Lines scroll above it: the status line is cleared, the line written, the status drawn
 * again. Off a terminal nothing but the lines is written.
 */
import type { ServiceEvent, ServiceState, ServiceStatus } from '../engine/index.js';
import { forTerminal, writeErr, writeOut } from './render.js';

const COLOURS = [36, 33, 35, 32, 34, 91, 96, 93];
/** Erases the cursor's line and returns to its start. */
const CLEAR_LINE = '\r\x1b[2K';

/** A log line as the stream carries it. */
export interface ConsoleLine {
  readonly time: string;
  readonly service: string;
  readonly stream: 'out' | 'err' | 'berth';
  readonly text: string;
}

/** The services' states as known from the stream, and the terminal they are shown on. */
export class StackConsole {
  private readonly states = new Map<string, { state: ServiceState; reason: string | null; waitsFor: readonly string[] }>();
  private order: string[] = [];
  private width = 0;
  /** The status line drawn last ('' when none is on screen). */
  private shown = '';

  constructor(
    private readonly scope: string,
    private readonly json: boolean,
    /** A terminal: colours and the status line. */
    private readonly tty = process.stdout.isTTY === true && !json,
  ) {}

  /** The stack's services as it started. */
  start(services: readonly ServiceStatus[]): void {
    this.order = services.map((s) => s.name);
    this.width = Math.max(0, ...this.order.map((n) => n.length));
    for (const s of services) this.states.set(s.name, { state: s.state, reason: s.reason, waitsFor: s.dependsOn });
    this.draw();
  }

  /** A state change. */
  change(event: ServiceEvent): void {
    const known = this.states.get(event.name);
    this.states.set(event.name, { state: event.state, reason: event.reason, waitsFor: known?.waitsFor ?? [] });
    this.draw();
  }

  /** Every service's state, in start order. */
  snapshot(): { name: string; state: ServiceState; reason: string | null }[] {
    return this.order.map((name) => ({ name, state: this.states.get(name)!.state, reason: this.states.get(name)!.reason }));
  }

  /** One line of a service. */
  line(l: ConsoleLine): void {
    if (this.json) return writeOut(`${JSON.stringify(l)}\n`);
    let prefix = `${l.service.padEnd(this.width)} |`;
    if (this.tty) prefix = `\x1b[${COLOURS[Math.max(0, this.order.indexOf(l.service)) % COLOURS.length]}m${prefix}\x1b[0m`;
    this.above(() => writeOut(`${prefix} ${l.stream === 'berth' ? '[berth] ' : ''}${forTerminal(l.text)}\n`));
  }

  /** A note of berth's own (stderr), above the status line. */
  note(message: string): void {
    this.above(() => writeErr(`${forTerminal(message)}\n`));
  }

  /** Takes the status line off the screen for good (the command is ending). */
  close(): void {
    if (this.shown !== '') writeOut(CLEAR_LINE);
    this.shown = '';
    this.states.clear();
  }

  /** The status line's text: counts per state, then who waits for what. */
  statusText(): string {
    const counts = new Map<string, number>();
    for (const name of this.order) {
      const s = this.states.get(name)!.state;
      counts.set(s, (counts.get(s) ?? 0) + 1);
    }
    const parts = [...counts].map(([state, n]) => `${n} ${state}`);
    const waiting: string[] = [];
    for (const name of this.order) {
      const me = this.states.get(name)!;
      if (me.state !== 'pending') continue;
      // A pending service waits for the dependencies that are not up yet (the condition itself is the supervisor's).
      const unmet = me.waitsFor.filter((d) => !['healthy', 'running', 'completed', undefined].includes(this.states.get(d)?.state));
      if (unmet.length > 0) waiting.push(`${name} waits for ${unmet.map((d) => `${d} (${this.states.get(d)!.state})`).join(', ')}`);
    }
    return `berth ${this.scope}: ${parts.join(', ')}${waiting.length === 0 ? '' : ` · ${waiting.join('; ')}`}`;
  }

  private above(write: () => void): void {
    if (this.shown !== '') writeOut(CLEAR_LINE);
    const was = this.shown;
    this.shown = '';
    write();
    if (was !== '' || this.tty) this.draw();
  }

  private draw(): void {
    if (!this.tty || this.order.length === 0) return;
    // A terminal that reports no size (0 columns, as a fresh pseudo-terminal may) gets 80.
    const columns = process.stdout.columns || 80;
    let text = forTerminal(this.statusText());
    // One screen line: a wrapped status line could not be redrawn in place.
    if (text.length > columns - 1) text = `${text.slice(0, Math.max(0, columns - 2))}…`;
    writeOut(`${CLEAR_LINE}\x1b[7m${text}\x1b[0m`);
    this.shown = text;
  }
}

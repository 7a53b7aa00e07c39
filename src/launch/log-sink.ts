/**
 * A service's output: each line stamped and written to its log file in the state
 * directory (at most MAX_LOG_BYTES, then rotated to one `.1` file) and kept in a ring of
 * the last RING_LINES lines for the API and the dashboard.
 */
import { appendFileSync, existsSync, readFileSync, renameSync, statSync } from 'node:fs';
import type { LogLine } from '../engine/services.js';

export type { LogLine };

/** Largest log file before it is rotated to `<file>.1` (which replaces the previous one). */
export const MAX_LOG_BYTES = 4 * 1024 * 1024;
/** Lines kept in memory per service. */
export const RING_LINES = 1000;
/** Longest line kept: a binary blob on stdout must not fill the ring. */
const MAX_LINE_CHARS = 16 * 1024;

/** Writes one service's lines to its file and ring. */
export class LogSink {
  readonly ring: LogLine[] = [];
  private size: number;

  constructor(
    readonly service: string,
    readonly file: string,
    private readonly onLine: (line: LogLine) => void = () => undefined,
  ) {
    this.size = existsSync(file) ? statSync(file).size : 0;
  }

  /** Records one line (without its newline). */
  write(stream: LogLine['stream'], text: string): void {
    const line: LogLine = { time: new Date().toISOString(), service: this.service, stream, text: text.slice(0, MAX_LINE_CHARS) };
    this.ring.push(line);
    if (this.ring.length > RING_LINES) this.ring.splice(0, this.ring.length - RING_LINES);
    const entry = `${JSON.stringify(line)}\n`;
    if (this.size + entry.length > MAX_LOG_BYTES) {
      renameSync(this.file, `${this.file}.1`);
      this.size = 0;
    }
    appendFileSync(this.file, entry, { mode: 0o600 });
    this.size += Buffer.byteLength(entry);
    this.onLine(line);
  }

  /** A line splitter for one stream of a child: whole lines go to write, a partial one waits. */
  splitter(stream: 'out' | 'err'): { push(chunk: Buffer): void; end(): void } {
    let pending = '';
    return {
      push: (chunk) => {
        pending += chunk.toString('utf8');
        const lines = pending.split('\n');
        pending = lines.pop() ?? '';
        for (const l of lines) this.write(stream, l.replace(/\r$/, ''));
        if (pending.length > MAX_LINE_CHARS) {
          this.write(stream, pending);
          pending = '';
        }
      },
      end: () => {
        if (pending !== '') this.write(stream, pending);
        pending = '';
      },
    };
  }
}

/** The lines of a log file (and its rotated `.1` before it), oldest first; unreadable lines are skipped. */
export function readLogFile(file: string): LogLine[] {
  const lines: LogLine[] = [];
  for (const f of [`${file}.1`, file]) {
    let text: string;
    try {
      text = readFileSync(f, 'utf8');
    } catch {
      // No such file yet (the service never wrote) or no rotated file: nothing to read.
      continue;
    }
    for (const raw of text.split('\n')) {
      if (raw === '') continue;
      try {
        lines.push(JSON.parse(raw) as LogLine);
      } catch {
        // A line cut by a crash mid-write: the rest of the file is still worth showing.
      }
    }
  }
  return lines;
}

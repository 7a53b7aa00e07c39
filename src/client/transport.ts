/**
 * One HTTP exchange with the daemon: over its unix socket or a loopback URL, through one
 * keep-alive agent, with the bearer token. A problem+json answer becomes the BerthError it
 * describes (errorFromJSON: same class, kind and exit code as locally); a daemon that
 * cannot be reached becomes a StoreError that says how to start it.
 */
import { Agent, request, type IncomingMessage } from 'node:http';
import { ERROR_KINDS, errorFromJSON, RefusedError, StoreError, UnexpectedError, UsageError } from '../errors.js';
import type { Actor } from '../types.js';

/** Where the daemon is and how to prove who we are. */
export interface TransportOptions {
  /** The daemon's unix socket (the default way in: `<state dir>/berth.sock`). */
  readonly socketPath?: string;
  /** `http://127.0.0.1:PORT` (or another http URL the daemon answers on); used when no socketPath is given. */
  readonly url?: string;
  /** The API token (`<state dir>/api-token`), sent as `Authorization: Bearer`. */
  readonly token: string;
  /** Who the daemon's history should record for this client's changes (the CLI: its own process). */
  readonly actor?: Actor;
}

/** The actor as a header value: JSON with everything outside ASCII escaped, which every HTTP stack carries intact. */
function actorHeader(actor: Actor): string {
  return JSON.stringify(actor).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** One request: method, path with its query, and a JSON body for mutations. */
export interface Exchange {
  readonly method: string;
  /** Path and query, already encoded. */
  readonly path: string;
  /** Sent as JSON (`Content-Type: application/json`) when present. */
  readonly body?: unknown;
  /** The call's own actor (ScopeContext.actor), over the transport's. */
  readonly actor?: Actor;
}

/** Socket errors that mean nobody answers there: the daemon is not running (or not there). */
const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOENT', 'ENOTDIR', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EADDRNOTAVAIL']);
/** Socket errors that mean the daemon is there but this process may not talk to it. */
const FORBIDDEN = new Set(['EACCES', 'EPERM']);
/** How long one request may take before the client gives up (a kill waits out its grace period). */
export const REQUEST_TIMEOUT_MS = 60_000;

/** The daemon's HTTP API as requests and answers. */
export class Transport {
  private actorText: string | undefined;
  private readonly agent = new Agent({ keepAlive: true });
  private readonly base: { readonly socketPath: string } | { readonly host: string; readonly port: number; readonly prefix: string };
  /** Where requests go, for messages. */
  readonly target: string;

  constructor(private readonly opts: TransportOptions) {
    if (typeof opts.token !== 'string' || opts.token === '') throw new UsageError('no API token for the berth daemon: pass the token in `<state dir>/api-token` (BERTH_TOKEN).');
    if (opts.socketPath !== undefined) {
      this.base = { socketPath: opts.socketPath };
      this.target = opts.socketPath;
    } else if (opts.url !== undefined) {
      const url = parseHttpUrl(opts.url);
      this.base = { host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port || 80), prefix: url.pathname.replace(/\/+$/, '') };
      this.target = url.origin;
    } else {
      throw new UsageError('no way to reach the berth daemon: give its socket path or its URL (--url, BERTH_URL).');
    }
  }

  /** Sends `ex`; resolves with the parsed JSON (or the text) of a 2xx answer, rejects with the error it describes. */
  /** The payload, headers and address of `ex`. */
  private prepare(ex: Exchange, accept: string): { payload: Buffer | undefined; headers: Record<string, string | number>; where: { socketPath: string; path: string } | { host: string; port: number; path: string } } {
    const payload = ex.body === undefined ? undefined : Buffer.from(JSON.stringify(ex.body), 'utf8');
    const headers: Record<string, string | number> = { Accept: accept, Authorization: `Bearer ${this.opts.token}` };
    if (ex.actor !== undefined) headers['X-Berth-Actor'] = actorHeader(ex.actor);
    else if (this.opts.actor !== undefined) headers['X-Berth-Actor'] = this.actorText ??= actorHeader(this.opts.actor);
    if (payload !== undefined) {
      headers['Content-Type'] = 'application/json';
      headers['Content-Length'] = payload.length;
    }
    const where = 'socketPath' in this.base ? { socketPath: this.base.socketPath, path: ex.path } : { host: this.base.host, port: this.base.port, path: `${this.base.prefix}${ex.path}` };
    return { payload, headers, where };
  }

  async send(ex: Exchange): Promise<unknown> {
    const { payload, headers, where } = this.prepare(ex, 'application/json');
    const res = await new Promise<{ status: number; type: string; text: string }>((resolve, reject) => {
      const req = request({ ...where, method: ex.method, headers, agent: this.agent }, (answer: IncomingMessage) => {
        const chunks: Buffer[] = [];
        answer.on('data', (chunk: Buffer) => chunks.push(chunk));
        answer.on('error', reject);
        answer.on('end', () => resolve({ status: answer.statusCode ?? 0, type: String(answer.headers['content-type'] ?? ''), text: Buffer.concat(chunks).toString('utf8') }));
      });
      req.on('error', (error: NodeJS.ErrnoException) => reject(this.unreachable(error)));
      req.setTimeout(REQUEST_TIMEOUT_MS, () => req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
      req.end(payload);
    });
    const isJson = /^application\/(problem\+)?json\b/i.test(res.type);
    let value: unknown = res.text;
    if (isJson) {
      try {
        value = JSON.parse(res.text);
      } catch {
        throw new UnexpectedError(`the berth daemon at ${this.target} sent JSON that does not parse (HTTP ${res.status}).`);
      }
    }
    if (res.status >= 200 && res.status < 300) return value;
    throw this.failure(res.status, res.type, res.text);
  }

  /** The error of a non-2xx answer. */
  private failure(status: number, type: string, text: string): Error {
    if (/^application\/(problem\+)?json\b/i.test(type)) {
      try {
        return this.refusal(status, JSON.parse(text));
      } catch {
        // Not JSON after all: reported as the text below.
      }
    }
    return new UnexpectedError(`the berth daemon at ${this.target} answered HTTP ${status}: ${text.slice(0, 200) || 'no detail'}.`);
  }

  /**
   * Opens an event stream (`text/event-stream`): resolves once the daemon answered 2xx, then
   * calls `onEvent` with each frame's event name and parsed data (comments skipped);
   * `done` resolves when the stream ends, from either side. A refusal rejects as send does.
   */
  stream(ex: Exchange, onEvent: (event: string, data: unknown) => void): Promise<{ done: Promise<void>; close(): void }> {
    const { payload, headers, where } = this.prepare(ex, 'text/event-stream');
    return new Promise((resolve, reject) => {
      // Its own connection: a stream holds it for as long as it runs.
      const req = request({ ...where, method: ex.method, headers, agent: false }, (answer: IncomingMessage) => {
        const status = answer.statusCode ?? 0;
        if (status < 200 || status >= 300) {
          const chunks: Buffer[] = [];
          answer.on('data', (chunk: Buffer) => chunks.push(chunk));
          answer.on('end', () => reject(this.failure(status, String(answer.headers['content-type'] ?? ''), Buffer.concat(chunks).toString('utf8'))));
          return;
        }
        let buffer = '';
        answer.setEncoding('utf8');
        answer.on('data', (chunk: string) => {
          buffer += chunk;
          let at: number;
          while ((at = buffer.indexOf('\n\n')) >= 0) {
            const frame = buffer.slice(0, at);
            buffer = buffer.slice(at + 2);
            let event = 'message';
            const data: string[] = [];
            for (const line of frame.split('\n')) {
              if (line.startsWith('event: ')) event = line.slice(7);
              else if (line.startsWith('data: ')) data.push(line.slice(6));
            }
            if (data.length > 0) onEvent(event, JSON.parse(data.join('\n')));
          }
        });
        const done = new Promise<void>((end) => {
          answer.on('close', end);
          answer.on('error', () => end());
        });
        resolve({ done, close: () => req.destroy() });
      });
      req.on('error', (error: NodeJS.ErrnoException) => reject(this.unreachable(error)));
      req.end(payload);
    });
  }

  /**
   * The error a problem document describes. berth's own kinds come back as themselves
   * (errorFromJSON); the HTTP layer's refusals, which have no class of their own, by what
   * they mean for the caller: a missing or wrong token, a foreign Host or Origin, or a
   * read-only token is refused (exit 4, with what to check); a body too large or of the
   * wrong type is bad input (exit 2).
   */
  private refusal(status: number, value: unknown): Error {
    const kind = typeof value === 'object' && value !== null ? (value as { code?: unknown }).code : undefined;
    if (typeof kind === 'string' && ERROR_KINDS.includes(kind)) return errorFromJSON(value);
    const said = typeof value === 'object' && value !== null && typeof (value as { detail?: unknown }).detail === 'string' ? String((value as { detail: string }).detail) : `HTTP ${status}`;
    if (status === 401) return new RefusedError(`the berth daemon at ${this.target} refused the token: ${said} Use the token in the daemon's state directory (api-token), or set BERTH_TOKEN to it.`, { status });
    if (status === 403) return new RefusedError(`the berth daemon at ${this.target} refused the request: ${said}`, { status });
    if (status === 405 || status === 413 || status === 415) return new UsageError(`the berth daemon at ${this.target} refused the request: ${said}`, { status });
    return errorFromJSON(value);
  }

  /** Closes idle connections; requests after this open new ones. */
  close(): void {
    this.agent.destroy();
  }

  private unreachable(error: NodeJS.ErrnoException): Error {
    const code = error.code ?? '';
    if (FORBIDDEN.has(code)) {
      return new StoreError(`cannot connect to the berth daemon at ${this.target} (${code}): its socket belongs to another user. Use your own daemon (BERTH_STATE_DIR), or its owner's account.`, { target: this.target, cause: code });
    }
    if (code === 'ECONNRESET' || code === 'EPIPE' || code === 'ETIMEDOUT') {
      // The daemon was reached: a change may or may not have been made. Never say "not running".
      return new StoreError(`the connection to the berth daemon at ${this.target} broke (${code}) before it answered; a change may have been made. Check with \`berth list\` or \`berth history\`, then try again.`, { target: this.target, cause: code });
    }
    if (!UNREACHABLE.has(code)) return error;
    return new StoreError(
      `cannot reach the berth daemon at ${this.target} (${error.code}): it is not running there. Start it with \`berth serve\` (it prints its URL and listens on <state dir>/berth.sock), or point --url / BERTH_URL at the one that runs.`,
      { target: this.target, cause: error.code },
    );
  }
}

/** An `http://` URL, or a UsageError naming what is wrong with it. */
function parseHttpUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`invalid daemon URL ${JSON.stringify(text)}: give http://127.0.0.1:PORT or unix:/path/to/berth.sock.`);
  }
  if (url.protocol !== 'http:') throw new UsageError(`unsupported daemon URL ${JSON.stringify(text)}: the daemon speaks http:// (loopback) or unix:/path/to/berth.sock.`);
  return url;
}

/**
 * The API as a request handler, made without listening (vite's createServer-then-listen):
 * route match, guard, query and body checks, then one engine call per route. The daemon
 * (daemon.ts) listens on a unix socket and loopback TCP; tests call it in-process. The
 * dashboard's page (dashboard.ts) is served beside the API, after the same Host check.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ConfigError, UsageError } from '../errors.js';
import type { Engine, ScopeContext } from '../engine/index.js';
import type { Actor } from '../types.js';
import { matchRoute } from '../http/match.js';
import { CONTEXT_QUERY, type ParamType, type Route } from '../http/routes.js';
import { checkBody } from './body-schema.js';
import { loadDashboard, serveDashboard, type DashboardAssets } from './dashboard.js';
import { allowedHostValues, checkHost, guard, type GuardOptions } from './guard.js';
import type { Call } from './call.js';
import { HANDLERS } from './handlers.js';
import { metricsText } from './metrics.js';
import { HttpProblem, SECURITY_HEADERS, sendProblem } from './problem.js';
import { RealityFeed } from './reality-feed.js';
import { sendSessionReply, sessionRoute } from './session-routes.js';
import { sessionCookie, sessionCookieName, Sessions } from './sessions.js';
import { streamEvents } from './sse.js';
import { isStackStream, streamStackRoute } from './stack-streams.js';
import type { StackHost } from './stacks.js';

/** Largest request body accepted. */
export const MAX_BODY_BYTES = 1 << 20;

/** What the API is made of. */
export interface ApiOptions {
  readonly engine: Engine;
  readonly guard: GuardOptions;
  readonly version: string;
  /** Bytes an event stream may keep for a client that does not read (sse.ts; default MAX_UNREAD_BYTES). */
  readonly maxUnreadBytes?: number;
  /** Where the dashboard is, for login links (default http://127.0.0.1:PORT). */
  readonly url?: string;
  /** The dashboard's files (default: read from dist/dashboard). */
  readonly dashboard?: DashboardAssets;
  /** The launched stacks, for the services and stacks routes and the event stream. */
  readonly stacks?: StackHost;
}

/** Routes after which the machine's listeners have likely changed. */
const KILLS = new Set(['reality.kill', 'leases.kill', 'udos.killPort', 'udos.killService']);

/** The API: a handler for node:http servers, and a close that ends open event streams. */
export interface Api {
  handle(req: IncomingMessage, res: ServerResponse, viaSocket: boolean): void;
  /** Ends every open event stream (the server's close waits for open connections). */
  close(): void;
}

function convert(name: string, type: ParamType, value: string): string | number | boolean {
  if (type === 'integer') {
    if (!/^-?\d{1,15}$/.test(value)) throw new UsageError(`query parameter ${name}=${JSON.stringify(value)} must be a whole number.`);
    return Number(value);
  }
  if (type === 'boolean') {
    if (['', 'true', '1'].includes(value)) return true;
    if (['false', '0'].includes(value)) return false;
    throw new UsageError(`query parameter ${name}=${JSON.stringify(value)} must be true or false.`);
  }
  return value;
}

/** The query, checked against the route: unknown or repeated parameters are bad input. */
function queryOf(route: Route, search: URLSearchParams): Record<string, string | number | boolean> {
  const allowed = { ...(route.query ?? {}), ...CONTEXT_QUERY };
  const out: Record<string, string | number | boolean> = {};
  for (const [name, value] of search) {
    const type = Object.hasOwn(allowed, name) ? allowed[name]! : undefined;
    if (type === undefined) throw new UsageError(`unknown query parameter '${name}'. This route takes: ${Object.keys(allowed).join(', ')}.`);
    if (Object.hasOwn(out, name)) throw new UsageError(`query parameter '${name}' is given twice.`);
    out[name] = convert(name, type, value);
  }
  return out;
}

/** The header a client names itself in, for the history: `{"pid": N, "user": "...", "command": "..."}`. */
export const ACTOR_HEADER = 'x-berth-actor';
/** Longest actor header read. */
const MAX_ACTOR_HEADER = 4096;

/**
 * Who the history records for this request: the process the client says it is (a
 * token-holder is trusted as much with this as with the change itself), its command
 * marked as having come through the daemon; without the header (curl, a script), the
 * daemon itself.
 */
function actorOf(req: IncomingMessage): Actor | undefined {
  const raw = req.headers[ACTOR_HEADER];
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || raw.length > MAX_ACTOR_HEADER) throw new UsageError(`the ${ACTOR_HEADER} header must be one JSON object of at most ${MAX_ACTOR_HEADER} bytes.`);
  let claimed: Record<string, unknown>;
  try {
    claimed = JSON.parse(raw) as Record<string, unknown>;
  } catch {
    throw new UsageError(`the ${ACTOR_HEADER} header is not valid JSON; send {"pid": N, "user": "...", "command": "..."}.`);
  }
  const command = typeof claimed?.command === 'string' ? `${claimed.command.slice(0, 900)} (through the berth daemon)` : claimed?.command === null ? '(through the berth daemon)' : claimed?.command;
  // Checked with the rest of the context (core/project.ts checkContext).
  return { pid: claimed?.pid as number, user: claimed?.user as string | null, command: command as string | null };
}

/** The caller's scope context from `dir`, `config` and `as` (routes with a scope of their own override it). */
function contextOf(query: Record<string, string | number | boolean>, actor: Actor | undefined): ScopeContext {
  const config = query.config === undefined ? undefined : String(query.config);
  // The API never reads a file it is pointed at unless it is a berth.yaml-like file.
  if (config !== undefined && !/(^|\/)berth\.ya?ml$/.test(config)) {
    throw new ConfigError(config, '', 'the daemon reads only files named berth.yaml or berth.yml; name the project\'s berth.yaml.');
  }
  return {
    dir: query.dir === undefined ? undefined : String(query.dir),
    config,
    scope: query.as === undefined ? undefined : String(query.as),
    base: query.base === undefined ? undefined : Number(query.base),
    scopeDir: query.scopeDir === undefined ? undefined : String(query.scopeDir),
    ...(actor === undefined ? {} : { actor }),
  };
}

/**
 * The body as text, at most MAX_BODY_BYTES. Read with 'data' events rather than `for
 * await`: the async iterator costs more than the rest of the body handling on the API's
 * hot path (a PUT of a lease), and its buffering buys nothing for a bounded body.
 */
function readText(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) {
        chunks.push(chunk);
        return;
      }
      req.off('data', onData);
      reject(new HttpProblem(413, 'too-large', `request bodies are at most ${MAX_BODY_BYTES} bytes.`));
    };
    req.on('data', onData);
    req.once('end', () => resolve(chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8')));
    req.once('error', reject);
    // A client that hangs up mid-body: 'close' without 'end' (after 'end', this is a no-op).
    req.once('close', () => reject(new HttpProblem(400, 'usage', 'the request ended before its body did.')));
  });
}

/** Reads a JSON body of at most MAX_BODY_BYTES; {} when empty. */
async function bodyOf(req: IncomingMessage, route: Route): Promise<Record<string, unknown>> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_BODY_BYTES) throw new HttpProblem(413, 'too-large', `request bodies are at most ${MAX_BODY_BYTES} bytes.`);
  const text = await readText(req);
  let value: unknown = {};
  if (text.trim() !== '') {
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new UsageError(`the body is not valid JSON (${(error as Error).message.slice(0, 200)}).`);
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new UsageError('the body must be a JSON object.');
  const body = value as Record<string, unknown>;
  if (route.body === undefined) {
    if (Object.keys(body).length > 0) throw new UsageError(`${route.method} ${route.path} takes no body fields; send none or {}.`);
  } else {
    // The route's schema, as the OpenAPI document shows it: types, bounds, required and unknown fields.
    checkBody(route.body, body, ` (${route.method} ${route.path}: ${route.summary})`);
  }
  return body;
}

function send(res: ServerResponse, status: number, type: string, text: string): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': type, 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/** Makes the API over `opts.engine`. */
export function createApi(opts: ApiOptions): Api {
  const hosts = allowedHostValues(opts.guard);
  /** Open event streams, each with the session cookie it was opened with (a logout ends them). */
  const streams = new Map<() => void, string | null>();
  const sessions = new Sessions(sessionCookieName(opts.guard.port));
  const reality = new RealityFeed(opts.engine);
  const assets = opts.dashboard ?? loadDashboard();
  const baseUrl = (opts.url ?? `http://127.0.0.1:${opts.guard.port ?? 0}`).replace(/\/+$/, '');

  async function serve(req: IncomingMessage, res: ServerResponse, viaSocket: boolean): Promise<void> {
    if (req.method === 'OPTIONS') throw new HttpProblem(405, 'method-not-allowed', 'no cross-origin requests: this API answers no preflights.', { Allow: 'GET, PUT, POST, DELETE' });
    // The path as sent, not as URL parsing normalises it: `..` and `.` are names to check, not steps up.
    const target = req.url ?? '/';
    const mark = target.indexOf('?');
    const pathname = mark < 0 ? target : target.slice(0, mark);
    if (!pathname.startsWith('/v1/') && assets.has(pathname)) {
      checkHost(req, opts.guard, hosts, viaSocket);
      if (serveDashboard(assets, req, res)) return;
    }
    const match = matchRoute(req.method ?? 'GET', pathname);
    if (match.kind === 'not-found') throw new HttpProblem(404, 'not-found', `no route ${pathname.slice(0, 200)}. See GET /v1/openapi.json.`);
    if (match.kind === 'bad-encoding') throw new HttpProblem(400, 'usage', 'the path is not valid percent-encoding.');
    if (match.kind === 'method-not-allowed') throw new HttpProblem(405, 'method-not-allowed', `${req.method} is not allowed here; use ${match.allowed.join(' or ')}.`, { Allow: match.allowed.join(', ') });
    const { route, params } = match;
    const grant = guard(req, route, opts.guard, hosts, viaSocket, sessions);
    // The query string parsed as URL's searchParams would, without parsing a whole URL per request.
    const query = queryOf(route, new URLSearchParams(mark < 0 ? '' : target.slice(mark + 1)));
    const ctx = contextOf(query, actorOf(req));
    if (route.id === 'events.stream') {
      const stop = streamEvents(opts.engine, req, res, () => streams.delete(stop), { reality: query.reality === true ? reality : undefined, maxUnreadBytes: opts.maxUnreadBytes, stacks: opts.stacks });
      streams.set(stop, grant.via === 'session' ? sessionCookie(req.headers.cookie, sessions.cookieName) : null);
      return;
    }
    if (route.id === 'metrics') {
      send(res, 200, 'text/plain; version=0.0.4; charset=utf-8', await metricsText(opts.engine, ctx, opts.stacks?.list() ?? []));
      return;
    }
    const body = route.mutates ? await bodyOf(req, route) : {};
    if (route.id.startsWith('session.')) {
      const cookie = sessionCookie(req.headers.cookie, sessions.cookieName);
      sendSessionReply(res, sessionRoute(route.id, grant, body, sessions, baseUrl, cookie));
      // The session's other tabs lose their streams now; reconnecting, they are refused.
      if (route.id === 'session.logout' && cookie !== null) for (const [stop, of] of [...streams]) if (of === cookie) stop();
      return;
    }
    if (isStackStream(route.id, query)) {
      const call: Call = { engine: opts.engine, ctx, params, query, body, version: opts.version, stacks: opts.stacks };
      // A stream may end before it is returned (a follow of a stack that does not run): only an open one is kept.
      const stream = await streamStackRoute(call, res, () => undefined, opts.maxUnreadBytes);
      if (!stream.ended) {
        streams.set(stream.end, grant.via === 'session' ? sessionCookie(req.headers.cookie, sessions.cookieName) : null);
        stream.onEnd(() => streams.delete(stream.end));
      }
      return;
    }
    const handler = HANDLERS[route.id];
    if (!handler) throw new HttpProblem(501, 'not-implemented', `route ${route.id} has no handler yet.`);
    const call: Call = { engine: opts.engine, ctx, params, query, body, version: opts.version, stacks: opts.stacks };
    const reply = await handler(call);
    if (KILLS.has(route.id)) reality.refresh();
    if ('json' in reply) send(res, 200, 'application/json; charset=utf-8', JSON.stringify(reply.json ?? null));
    else send(res, 200, reply.type, reply.text);
  }

  return {
    handle(req, res, viaSocket) {
      serve(req, res, viaSocket).catch((error: unknown) => {
        // Drain what the client sent, so the connection can be reused after a refusal.
        req.resume();
        sendProblem(res, error);
      });
    },
    close() {
      for (const stop of [...streams.keys()]) stop();
      reality.stop();
    },
  };
}

/**
 * One request to this state directory's daemon over its unix socket, with its token:
 * how `berth up` (attached or -d), `berth down`, `berth logs -f` and the service commands
 * drive stacks the daemon runs. Loaded only by them.
 */
import { buildPath, routeById } from '../http/routes.js';
import type { Transport } from '../client/transport.js';

/** The caller's context as a route sees it. */
type Context = { readonly dir?: string; readonly config?: string };

async function prepare(id: string, params: Readonly<Record<string, string>>, context: Context, env: NodeJS.ProcessEnv, extra: Readonly<Record<string, string>> = {}): Promise<{ transport: Transport; method: string; path: string; mutates: boolean }> {
  const [{ Transport }, { readToken, stateDir, statePaths }] = await Promise.all([import('../client/transport.js'), import('../server/state.js')]);
  const paths = statePaths(stateDir(env));
  const transport = new Transport({ socketPath: paths.socket, token: env.BERTH_TOKEN || readToken(paths.token) });
  const route = routeById(id);
  const query = new URLSearchParams(extra);
  if (context.dir !== undefined) query.set('dir', context.dir);
  if (context.config !== undefined) query.set('config', context.config);
  const qs = query.toString();
  return { transport, method: route.method, path: `${buildPath(route.path, params)}${qs === '' ? '' : `?${qs}`}`, mutates: route.mutates };
}

/** Sends route `id` with path `params`, the caller's directory and config as context, and `body`. */
export async function daemonCall(id: string, params: Readonly<Record<string, string>>, body: unknown, context: Context, env: NodeJS.ProcessEnv = process.env): Promise<unknown> {
  const { transport, method, path, mutates } = await prepare(id, params, context, env);
  try {
    return await transport.send({ method, path, body: mutates ? (body ?? {}) : undefined });
  } finally {
    transport.close();
  }
}

/** Opens route `id` as an event stream (`query` added to the context's); see Transport.stream. */
export async function daemonStream(
  id: string,
  params: Readonly<Record<string, string>>,
  query: Readonly<Record<string, string>>,
  body: unknown,
  context: Context,
  onEvent: (event: string, data: unknown) => void,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ done: Promise<void>; close(): void }> {
  const { transport, method, path, mutates } = await prepare(id, params, context, env, query);
  return transport.stream({ method, path, body: mutates ? (body ?? {}) : undefined }, onEvent);
}

/** True when `pid` is this state directory's running daemon (the supervisor of a stack it runs). */
export async function runsInDaemon(pid: number): Promise<boolean> {
  const { daemonStatus } = await import('../server/daemon.js');
  const status = daemonStatus();
  return status.running && status.lock?.pid === pid;
}

/** A `log` event's data as the launch layer's LogLine. */
export function logLineOf(data: unknown): { time: string; service: string; stream: 'out' | 'err' | 'berth'; text: string } {
  const d = data as { name: string; stream: 'out' | 'err' | 'berth'; text: string; time: string };
  return { time: d.time, service: d.name, stream: d.stream, text: d.text };
}

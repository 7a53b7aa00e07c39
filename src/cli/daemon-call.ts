/**
 * One request to this state directory's daemon over its unix socket, with its token:
 * how `berth up -d` and `berth down` drive stacks the daemon runs. Loaded only by them.
 */
import { buildPath, routeById } from '../http/routes.js';

/** Sends route `id` with path `params`, the caller's directory and config as context, and `body`. */
export async function daemonCall(id: string, params: Readonly<Record<string, string>>, body: unknown, context: { readonly dir?: string; readonly config?: string }, env: NodeJS.ProcessEnv = process.env): Promise<unknown> {
  const [{ Transport }, { readToken, stateDir, statePaths }] = await Promise.all([import('../client/transport.js'), import('../server/state.js')]);
  const paths = statePaths(stateDir(env));
  const transport = new Transport({ socketPath: paths.socket, token: env.BERTH_TOKEN || readToken(paths.token) });
  const route = routeById(id);
  const query = new URLSearchParams();
  if (context.dir !== undefined) query.set('dir', context.dir);
  if (context.config !== undefined) query.set('config', context.config);
  const qs = query.toString();
  return transport.send({ method: route.method, path: `${buildPath(route.path, params)}${qs === '' ? '' : `?${qs}`}`, body: route.mutates ? (body ?? {}) : undefined });
}

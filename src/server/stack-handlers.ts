/**
 * The handlers of the services and stacks routes: each one call of the daemon's StackHost.
 * The API only starts what the context's berth.yaml defines; no command line crosses HTTP.
 */
import { UsageError } from '../errors.js';
import type { ScopeContext } from '../engine/index.js';
import { parseSince } from '../config/durations.js';
import { FROM_CONTEXT } from '../http/routes.js';
import type { Call, Reply } from './call.js';
import { HttpProblem } from './problem.js';
import { takeCallerEnv } from './state.js';
import type { StackHost, StackUpOptions } from './stacks.js';

type Handler = (call: Call) => Promise<Reply>;

const json = (value: unknown): Reply => ({ json: value });

export function stacksOf(c: Call): StackHost {
  if (c.stacks === undefined) throw new HttpProblem(501, 'not-implemented', 'this API serves no launched stacks (it was made without them).');
  return c.stacks;
}

/** The context of a path's `{scope}` (`-`: the caller's). */
export function scoped(c: Call, scope: string | undefined): ScopeContext {
  return scope === undefined || scope === FROM_CONTEXT ? c.ctx : { ...c.ctx, scope };
}

function names(value: unknown): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) throw new UsageError('services must be a list of service names.');
  return value as string[];
}

/** The options of an up or attach body. */
export function upOptions(c: Call): StackUpOptions {
  return {
    services: names(c.body.services),
    noDeps: c.body.noDeps as boolean | undefined,
    killStrangers: c.body.killStrangers as boolean | undefined,
    timeoutMs: c.body.timeoutMs as number | undefined,
    env: c.body.callerEnv === undefined ? undefined : takeCallerEnv(stacksOf(c).stateDir, String(c.body.callerEnv)),
  };
}

async function serviceAction(c: Call, action: 'start' | 'stop' | 'restart'): Promise<Reply> {
  const stacks = stacksOf(c);
  return json(await stacks.service(await stacks.scopeOf(scoped(c, c.params.scope)), c.params.name!, action));
}

/** Handlers by route id. */
export const stackHandlers: Readonly<Record<string, Handler>> = {
  'services.list': async (c) => {
    const stacks = stacksOf(c);
    return json(stacks.list(c.query.scope === undefined ? undefined : await stacks.scopeOf(scoped(c, String(c.query.scope)))));
  },
  'services.start': (c) => serviceAction(c, 'start'),
  'services.stop': (c) => serviceAction(c, 'stop'),
  'services.restart': (c) => serviceAction(c, 'restart'),
  'services.logs': async (c) => {
    const stacks = stacksOf(c);
    const scope = await stacks.scopeOf(scoped(c, c.params.scope));
    const since = c.query.since === undefined ? undefined : parseSince(String(c.query.since));
    return json(stacks.logs(scope, c.params.name === FROM_CONTEXT ? undefined : c.params.name, c.query.tail === undefined ? undefined : Number(c.query.tail), since));
  },
  'stacks.list': async (c) => json(stacksOf(c).known()),
  'stacks.up': async (c) => json(await stacksOf(c).up(scoped(c, c.params.scope), upOptions(c))),
  'stacks.down': async (c) => {
    const stacks = stacksOf(c);
    return json(await stacks.down(await stacks.scopeOf(scoped(c, c.params.scope)), names(c.body.services)));
  },
};

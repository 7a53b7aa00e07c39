/**
 * `BASE_PORT` and `NEXT_PORT`, the variables the sequential port managers berth replaces
 * wrote next to the service ports (`env --base-vars`, or `env_base_vars: true`).
 */
import type { Engine, ScopeContext } from '../engine/index.js';
import type { NamedValue } from '../wiring/dotenv.js';

/**
 * The scope's base port (berth.yaml's `base:`, or the caller's --base / BASE_PORT) and the
 * next port a sequential service would get now: the first port from the base that no lease,
 * pool, reservation or process holds (exactly what `berth free` answers). `prefix` goes
 * before both names, as before every other variable.
 */
export async function baseVariables(engine: Engine, ctx: ScopeContext, prefix = ''): Promise<NamedValue[]> {
  const project = await engine.project(ctx);
  const base = project.config.base;
  const next = (await engine.reality.free(ctx, { from: base, count: 1 })).ports[0]!;
  return [
    { name: `${prefix}BASE_PORT`, value: String(base) },
    { name: `${prefix}NEXT_PORT`, value: String(next) },
  ];
}

/**
 * Port usage over time: how many leases a category (a port band, as /metrics counts them),
 * a pool, a scope or the whole machine held, from the recorded history (walked back from
 * today's count) and live changes. A small SVG step chart drawn with attributes only (the
 * page's CSP allows no inline style).
 */
import { categoryOf } from '../../config/categories.js';
import type { PortRange, RegistryEvent } from '../../types.js';
import { clock, h, svg } from '../dom.js';
import type { Model } from '../model.js';
import type { View, ViewContext } from './context.js';

const WIDTH = 640;
const HEIGHT = 180;
const PAD = 32;

/** The chosen group: `all`, `category:NAME`, `pool:NAME` or `scope:NAME`. */
let chosen = 'all';

/** Whether a lease on `port` of `pool` and `scope` belongs to `group`. */
function inGroup(group: string, ranges: Readonly<Record<string, PortRange>>, lease: { port: number; pool: string | null; scope: string }): boolean {
  const [kind, name] = group.split(/:(.*)/s) as [string, string | undefined];
  if (kind === 'pool') return lease.pool === name;
  if (kind === 'scope') return lease.scope === name;
  if (kind === 'category') return categoryOf(lease.port, ranges) === name;
  return true;
}

/** How an event changed the group's count: a move can take a lease into or out of a category. */
function delta(group: string, ranges: Readonly<Record<string, PortRange>>, e: RegistryEvent): number {
  const after = e.change !== 'deleted' && inGroup(group, ranges, e) ? 1 : 0;
  const before = e.change !== 'created' && inGroup(group, ranges, { ...e, port: e.change === 'moved' ? (e.oldPort ?? e.port) : e.port }) ? 1 : 0;
  return after - before;
}

/** [time ms, count] points, oldest first, ending now. */
export function series(model: Model, group: string, now = Date.now()): [number, number][] {
  const ranges = model.project?.config.ranges ?? {};
  let count = [...model.leases.values()].filter((l) => inGroup(group, ranges, l)).length;
  const points: [number, number][] = [[now, count]];
  for (const e of model.history) {
    // Counted are this machine's leases; another machine's (a shared registry) are its own namespace.
    if (model.info !== null && e.host !== model.info.host) continue;
    const d = delta(group, ranges, e);
    if (d === 0) continue;
    const t = Date.parse(e.time);
    points.push([t, count]);
    count -= d;
    points.push([t, count]);
  }
  return points.reverse();
}

function chart(points: readonly [number, number][]): SVGElement {
  const t0 = points[0]![0];
  const t1 = Math.max(points[points.length - 1]![0], t0 + 1);
  const max = Math.max(1, ...points.map((p) => p[1]));
  const x = (t: number): number => PAD + ((t - t0) / (t1 - t0)) * (WIDTH - 2 * PAD);
  const y = (v: number): number => HEIGHT - PAD - (v / max) * (HEIGHT - 2 * PAD);
  const d = points.map((p, i) => `${i === 0 ? 'M' : 'L'}${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join(' ');
  const iso = (t: number): string => new Date(t).toISOString();
  return svg(
    'svg',
    { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, class: 'chart', role: 'img', 'aria-label': `leases over time: now ${points[points.length - 1]![1]}, at most ${max}` },
    svg('line', { x1: PAD, y1: HEIGHT - PAD, x2: WIDTH - PAD, y2: HEIGHT - PAD, class: 'axis' }),
    svg('line', { x1: PAD, y1: PAD, x2: PAD, y2: HEIGHT - PAD, class: 'axis' }),
    svg('text', { x: PAD - 6, y: y(max) + 4, 'text-anchor': 'end', class: 'label' }, String(max)),
    svg('text', { x: PAD - 6, y: y(0) + 4, 'text-anchor': 'end', class: 'label' }, '0'),
    svg('text', { x: PAD, y: HEIGHT - 8, class: 'label' }, clock(iso(t0))),
    svg('text', { x: WIDTH - PAD, y: HEIGHT - 8, 'text-anchor': 'end', class: 'label' }, clock(iso(t1))),
    svg('path', { d, class: 'line' }),
  );
}

function render(ctx: ViewContext): Node {
  const { model } = ctx;
  const pools = [...new Set([...model.leases.values()].map((l) => l.pool).filter((p): p is string => p !== null))].sort();
  const scopes = [...new Set([...model.leases.values()].map((l) => l.scope))].sort();
  const ranges = model.project?.config.ranges ?? {};
  const categories = [...new Set([...model.leases.values()].map((l) => categoryOf(l.port, ranges)).filter((c): c is string => c !== null))].sort();
  const options: [string, string][] = [['all', 'every lease'], ...categories.map((c): [string, string] => [`category:${c}`, `category ${c}`]), ...pools.map((p): [string, string] => [`pool:${p}`, `pool ${p}`]), ...scopes.map((s): [string, string] => [`scope:${s}`, `scope ${s}`])];
  if (!options.some(([v]) => v === chosen)) chosen = 'all';
  const select = h('select', { id: 'usage-group', 'aria-label': 'which leases to chart', onchange: (e) => ((chosen = (e.target as HTMLSelectElement).value), ctx.redraw()) }, options.map(([v, label]) => h('option', { value: v, selected: v === chosen }, label)));
  const points = series(model, chosen);
  return h(
    'div',
    {},
    h('label', {}, 'Leases held by ', select),
    chart(points),
    h('p', { class: 'muted' }, `From the last ${model.history.length} recorded changes; live from the event stream.`),
  );
}

/** The usage view. */
export const usageView: View = { id: 'usage', title: 'Usage', render };

/**
 * Pools: each pool's slots, who holds each, and which free slots are blocked (one of their
 * ports leased to someone else or held by a process) and by whom.
 */
import type { PoolStatus, SlotStatus } from '../../engine/index.js';
import type { Lease } from '../../types.js';
import { h } from '../dom.js';
import { release, reserve } from '../fixes.js';
import { matches, type View, type ViewContext } from './context.js';

/** Who blocks a free slot: a lease or a process on one of its ports; [] when none. */
function blockers(ctx: ViewContext, slot: SlotStatus, byPort: ReadonlyMap<number, Lease>): string[] {
  const out: string[] = [];
  for (const [role, port] of Object.entries(slot.ports)) {
    const lease = byPort.get(port);
    if (lease) out.push(`${role} :${port} leased to ${lease.scope}/${lease.name}`);
    for (const l of ctx.model.holdersOf(port)) out.push(`${role} :${port} held by ${l.process ?? '?'} (pid ${l.pid ?? '?'})`);
  }
  return out;
}

function slotRow(ctx: ViewContext, pool: PoolStatus, slot: SlotStatus, byPort: ReadonlyMap<number, Lease>): HTMLElement {
  const ports = Object.entries(slot.ports).map(([role, port]) => `${role} ${port}`).join(', ');
  const blocked = slot.scope === null ? blockers(ctx, slot, byPort) : [];
  const lease = slot.scope === null ? undefined : [...ctx.model.leases.values()].find((l) => l.pool === pool.name && l.slot === slot.slot);
  return h(
    'tr',
    { 'data-slot': `${pool.name}#${slot.slot}`, class: blocked.length > 0 ? 'blocked' : undefined },
    h('td', { class: 'num' }, slot.slot),
    h('td', {}, ports),
    h('td', {}, slot.scope ?? (blocked.length > 0 ? h('span', { class: 'tag bad' }, 'blocked') : h('span', { class: 'tag good' }, 'free'))),
    h('td', {}, blocked.join('; ')),
    h('td', {}, ctx.actions.allowed && lease && h('button', { type: 'button', 'aria-label': `release slot ${slot.slot} of ${pool.name}`, onclick: () => void release(ctx.actions, lease) }, 'Release…')),
  );
}

function render(ctx: ViewContext): Node {
  const pools = ctx.model.pools.filter((p) => matches(ctx, p.name, ...p.detail.map((s) => s.scope)));
  if (pools.length === 0) return h('p', { class: 'empty' }, 'No pools. A `pools:` section in berth.yaml defines them; reserving a slot records one here.');
  const byPort = new Map([...ctx.model.leases.values()].map((l) => [l.port, l]));
  return h(
    'div',
    {},
    pools.map((pool) =>
      h(
        'section',
        { class: 'pool', 'aria-label': `pool ${pool.name}` },
        h(
          'h3',
          {},
          pool.name,
          ' ',
          h('span', { class: 'muted' }, `${pool.kind}: ${pool.used} used${pool.slots === null ? '' : ` of ${pool.slots}`}, ${pool.free ?? 'unbounded'} free; roles ${pool.roles.join(', ')}`),
          ' ',
          ctx.actions.allowed && h('button', { type: 'button', 'aria-label': `reserve a slot of ${pool.name}`, onclick: () => void reserve(ctx.actions, pool) }, 'Reserve a slot…'),
        ),
        h(
          'table',
          { class: 'grid' },
          h('thead', {}, h('tr', {}, ['Slot', 'Ports', 'Held by', 'Blocked by', ''].map((t) => h('th', { scope: 'col' }, t)))),
          h(
            'tbody',
            {},
            pool.detail.map((s) => slotRow(ctx, pool, s, byPort)),
          ),
        ),
      ),
    ),
  );
}

/** The pools view. */
export const poolsView: View = { id: 'pools', title: 'Pools', render };

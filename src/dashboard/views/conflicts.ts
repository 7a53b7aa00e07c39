/**
 * Conflicts: each with berth's message and, where berth has one, its fix as a button:
 * kill a stranger (after showing who it is), move the lease, release a dead ephemeral lease.
 */
import type { Conflict } from '../../engine/index.js';
import { ADVISORY_KINDS } from '../../engine/index.js';
import { h } from '../dom.js';
import { killPort, reassign, release } from '../fixes.js';
import { leaseKey } from '../model.js';
import { matches, type View, type ViewContext } from './context.js';

function fixes(ctx: ViewContext, c: Conflict): HTMLElement[] {
  if (!ctx.actions.allowed) return [];
  const lease = c.lease === null ? undefined : ctx.model.leases.get(leaseKey(c.lease.scope, c.lease.name));
  const out: HTMLElement[] = [];
  if ((c.kind === 'foreign-holder' || c.kind === 'fixed-port-in-use') && c.holders.length > 0) {
    out.push(h('button', { type: 'button', class: 'danger', 'aria-label': `kill the holder of port ${c.port}`, onclick: () => void killPort(ctx.actions, c.port, c.protocol, c.holders) }, 'Kill the holder…'));
  }
  const which = lease && `${lease.scope}/${lease.name}`;
  if (lease && (c.kind === 'foreign-holder' || c.kind === 'fixed-port-leased')) out.push(h('button', { type: 'button', 'aria-label': `move the lease ${which}`, onclick: () => void reassign(ctx.actions, lease) }, 'Move the lease…'));
  if (lease && c.kind === 'dead-owner') out.push(h('button', { type: 'button', 'aria-label': `release the dead lease ${which}`, onclick: () => void release(ctx.actions, lease) }, 'Release the dead lease…'));
  return out;
}

function render(ctx: ViewContext): Node {
  const list = ctx.model.conflicts.filter((c) => matches(ctx, c.kind, c.port, c.message, c.lease && `${c.lease.scope}/${c.lease.name}`));
  if (list.length === 0) return h('p', { class: 'empty' }, 'No conflicts: every lease is held by whom it should be, or by nobody.');
  return h(
    'ul',
    { class: 'conflicts' },
    list.map((c) =>
      h(
        'li',
        { class: ADVISORY_KINDS.has(c.kind) ? 'advisory' : 'conflict', 'data-port': c.port },
        h('div', {}, h('span', { class: `tag ${ADVISORY_KINDS.has(c.kind) ? 'muted' : 'bad'}` }, c.kind), ' ', h('strong', {}, `port ${c.port}`), c.lease && ` · ${c.lease.scope}/${c.lease.name}`),
        h('p', {}, c.message),
        h('div', { class: 'actions' }, fixes(ctx, c)),
      ),
    ),
  );
}

/** The conflicts view. */
export const conflictsView: View = { id: 'conflicts', title: 'Conflicts', badge: (ctx) => ctx.model.conflicts.filter((c) => !ADVISORY_KINDS.has(c.kind)).length, render };

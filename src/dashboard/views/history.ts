/** History: the recent changes, newest first, with who made them. */
import type { RegistryEvent } from '../../types.js';
import { clock, h } from '../dom.js';
import { matches, type View, type ViewContext } from './context.js';

/** At most this many rows are drawn (the model keeps more for the chart). */
const SHOWN = 200;

function what(e: RegistryEvent): string {
  if (e.change === 'moved') return `${e.oldPort ?? '?'} → ${e.port}`;
  return String(e.port);
}

function render(ctx: ViewContext): Node {
  const events = ctx.model.history.filter((e) => matches(ctx, e.action, `${e.scope}/${e.name}`, e.port, e.actor.user, e.actor.command)).slice(0, SHOWN);
  if (events.length === 0) return h('p', { class: 'empty' }, 'No changes recorded yet.');
  return h(
    'table',
    { class: 'grid', 'aria-label': 'recent changes' },
    h('thead', {}, h('tr', {}, ['Time', 'Action', 'Lease', 'Port', 'Pool slot', 'By'].map((t) => h('th', { scope: 'col' }, t)))),
    h(
      'tbody',
      {},
      events.map((e) =>
        h(
          'tr',
          { 'data-event': e.id },
          h('td', { title: e.time }, clock(e.time)),
          h('td', {}, `${e.action} (${e.change})`),
          h('td', {}, `${e.scope}/${e.name}`),
          h('td', { class: 'num' }, what(e)),
          h('td', {}, e.pool === null ? '' : `${e.pool} #${e.slot}`),
          h('td', { class: 'command', title: e.actor.command ?? '' }, `${e.actor.user ?? '?'} pid ${e.actor.pid}: ${e.actor.command ?? ''}`),
        ),
      ),
    ),
  );
}

/** The history view. */
export const historyView: View = { id: 'history', title: 'History', render };

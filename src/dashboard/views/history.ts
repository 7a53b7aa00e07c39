/**
 * History: the recent changes, newest first, with who made them. On a shared registry the
 * stream also brings other machines' changes (the history read at start is this machine's):
 * a Machine column then says whose.
 */
import type { RegistryEvent } from '../../types.js';
import { clock, h } from '../dom.js';
import { RowWindow } from '../window.js';
import { matches, type View, type ViewContext } from './context.js';

/** Every event the page keeps (model.ts HISTORY_KEPT), drawn as a window (window.ts). */
const rowWindow = new RowWindow();
const COLUMNS = ['Time', 'Action', 'Lease', 'Port', 'Pool slot', 'By'];

function what(e: RegistryEvent): string {
  if (e.change === 'moved') return `${e.oldPort ?? '?'} → ${e.port}`;
  return String(e.port);
}

function render(ctx: ViewContext): Node {
  const events = ctx.model.history.filter((e) => matches(ctx, e.action, `${e.scope}/${e.name}`, e.port, e.actor.user, e.actor.command, e.host));
  if (events.length === 0) return h('p', { class: 'empty' }, 'No changes recorded yet.');
  const host = ctx.model.info?.host;
  const machines = ctx.model.history.some((e) => e.host !== host);
  const columns = machines ? ['Machine', ...COLUMNS] : COLUMNS;
  return h(
    'table',
    { class: 'grid', 'aria-label': 'recent changes', 'aria-rowcount': RowWindow.rowCount(events.length) },
    h('caption', { 'data-count': events.length }, `${events.length} recent changes`),
    h('thead', {}, h('tr', { 'aria-rowindex': 1 }, columns.map((t) => h('th', { scope: 'col' }, t)))),
    rowWindow.body(events.length, columns.length, (i) => {
      const e = events[i]!;
      return h(
        'tr',
        { 'data-event': e.id, 'data-machine': e.host },
        machines && h('td', {}, e.host),
        h('td', { title: e.time }, clock(e.time)),
        h('td', {}, `${e.action} (${e.change})`),
        h('td', {}, `${e.scope}/${e.name}`),
        h('td', { class: 'num' }, what(e)),
        h('td', {}, e.pool === null ? '' : `${e.pool} #${e.slot}`),
        h('td', { class: 'command', title: e.actor.command ?? '' }, `${e.actor.user ?? '?'} pid ${e.actor.pid}: ${e.actor.command ?? ''}`),
      );
    }),
  );
}

/** The history view. */
export const historyView: View = { id: 'history', title: 'History', render };

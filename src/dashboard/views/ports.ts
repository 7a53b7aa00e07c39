/**
 * Ports: every listener of the machine with its holder and the lease that owns its port,
 * then the leased ports nobody listens on. Strangers (holders other than the lease's
 * expected one, as the conflicts say) are highlighted and offered a kill.
 */
import { h, RowCache } from '../dom.js';
import { killPort } from '../fixes.js';
import { listenerKey } from '../model.js';
import { RowWindow } from '../window.js';
import { matches, type View, type ViewContext } from './context.js';

const cache = new RowCache();
/** Hundreds of listeners and leased ports: drawn as windows (window.ts). */
const listenersWindow = new RowWindow();
const idleWindow = new RowWindow();
const LISTENER_COLUMNS = ['Port', 'Proto', 'Address', 'PID', 'Process', 'User', 'Command', 'Container', 'Lease', ''];
const IDLE_COLUMNS = ['Port', 'Proto', 'Lease', 'Purpose'];

function render(ctx: ViewContext): Node {
  const { model, actions } = ctx;
  if (model.ports === null) return h('p', { class: 'empty' }, 'Reading the listeners of this machine…');
  const strangers = model.strangers();
  const listening = new Set(model.ports.map((p) => `${p.protocol}:${p.port}`));
  const shown = model.ports.filter((p) => matches(ctx, p.port, p.address, p.pid, p.process, p.user, p.command, p.container?.name, p.lease && `${p.lease.scope}/${p.lease.name}`));
  const rows = listenersWindow.body(shown.length, LISTENER_COLUMNS.length, (i) => {
    const p = shown[i]!;
    const stranger = strangers.has(listenerKey(p));
    return cache.row(`${listenerKey(p)}:${p.address}`, JSON.stringify([p, stranger, actions.allowed]), () => h(
      'tr',
      { class: stranger ? 'stranger' : undefined, 'data-port': p.port, 'data-pid': p.pid ?? '' },
      h('td', { class: 'num' }, p.port),
      h('td', {}, p.protocol),
      h('td', {}, p.address),
      h('td', { class: 'num' }, p.pid ?? '?'),
      h('td', {}, p.process ?? '?'),
      h('td', {}, p.user ?? '?'),
      h('td', { class: 'command', title: p.command ?? '' }, p.command ?? ''),
      h('td', {}, p.container?.name ?? ''),
      h('td', {}, p.lease ? `${p.lease.scope}/${p.lease.name}` : h('span', { class: 'muted' }, 'no lease'), stranger && h('span', { class: 'tag bad' }, 'stranger')),
      h(
        'td',
        {},
        actions.allowed &&
          h('button', { type: 'button', class: stranger ? 'danger' : undefined, 'aria-label': `kill what listens on port ${p.port}`, onclick: () => void killPort(actions, p.port, p.protocol, model.holdersOf(p.port, p.protocol)) }, 'Kill…'),
      ),
    ));
  });
  cache.done();
  const idleLeases = [...model.leases.values()]
    .filter((l) => !listening.has(`${l.protocol}:${l.port}`) && matches(ctx, l.port, `${l.scope}/${l.name}`, l.purpose))
    .sort((a, b) => a.port - b.port);
  const idle = idleWindow.body(idleLeases.length, IDLE_COLUMNS.length, (i) => {
    const l = idleLeases[i]!;
    return h('tr', { 'data-lease': `${l.scope}/${l.name}` }, h('td', { class: 'num' }, l.port), h('td', {}, l.protocol), h('td', {}, `${l.scope}/${l.name}`), h('td', {}, l.purpose ?? ''));
  });
  const filtered = (n: number): string => (ctx.filter === '' ? '' : ` (${n} matching “${ctx.filter}”)`);
  return h(
    'div',
    {},
    h(
      'table',
      { class: 'grid', 'aria-label': 'listeners', 'aria-rowcount': RowWindow.rowCount(shown.length) },
      h('caption', { 'data-count': shown.length }, `${model.ports.length} listeners on this machine${filtered(shown.length)}`),
      h('thead', {}, h('tr', { 'aria-rowindex': 1 }, LISTENER_COLUMNS.map((t) => h('th', { scope: 'col' }, t)))),
      rows,
    ),
    h(
      'table',
      { class: 'grid', 'aria-label': 'leased ports nobody listens on', 'aria-rowcount': RowWindow.rowCount(idleLeases.length) },
      h('caption', { 'data-count': idleLeases.length }, `${idleLeases.length} leased ports nobody listens on`),
      h('thead', {}, h('tr', { 'aria-rowindex': 1 }, IDLE_COLUMNS.map((t) => h('th', { scope: 'col' }, t)))),
      idle,
    ),
  );
}

/** The ports view. */
export const portsView: View = { id: 'ports', title: 'Ports', render };

/**
 * Ports: every listener of the machine with its holder and the lease that owns its port,
 * then the leased ports nobody listens on. Strangers (holders other than the lease's
 * expected one, as the conflicts say) are highlighted and offered a kill.
 */
import { h, RowCache } from '../dom.js';
import { killPort } from '../fixes.js';
import { listenerKey } from '../model.js';
import { matches, type View, type ViewContext } from './context.js';

const cache = new RowCache();

function render(ctx: ViewContext): Node {
  const { model, actions } = ctx;
  if (model.ports === null) return h('p', { class: 'empty' }, 'Reading the listeners of this machine…');
  const strangers = model.strangers();
  const listening = new Set(model.ports.map((p) => `${p.protocol}:${p.port}`));
  const rows = model.ports
    .filter((p) => matches(ctx, p.port, p.address, p.pid, p.process, p.user, p.command, p.container?.name, p.lease && `${p.lease.scope}/${p.lease.name}`))
    .map((p) => {
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
  const idle = [...model.leases.values()]
    .filter((l) => !listening.has(`${l.protocol}:${l.port}`) && matches(ctx, l.port, `${l.scope}/${l.name}`, l.purpose))
    .sort((a, b) => a.port - b.port)
    .map((l) => h('tr', { 'data-lease': `${l.scope}/${l.name}` }, h('td', { class: 'num' }, l.port), h('td', {}, l.protocol), h('td', {}, `${l.scope}/${l.name}`), h('td', {}, l.purpose ?? '')));
  return h(
    'div',
    {},
    h(
      'table',
      { class: 'grid', 'aria-label': 'listeners' },
      h('caption', {}, `${model.ports.length} listeners on this machine`),
      h('thead', {}, h('tr', {}, ['Port', 'Proto', 'Address', 'PID', 'Process', 'User', 'Command', 'Container', 'Lease', ''].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, rows),
    ),
    h(
      'table',
      { class: 'grid', 'aria-label': 'leased ports nobody listens on' },
      h('caption', {}, `${idle.length} leased ports nobody listens on`),
      h('thead', {}, h('tr', {}, ['Port', 'Proto', 'Lease', 'Purpose'].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, idle),
    ),
  );
}

/** The ports view. */
export const portsView: View = { id: 'ports', title: 'Ports', render };

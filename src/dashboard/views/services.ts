/**
 * Services of launched stacks: per scope, each service in start (dependency) order with
 * its state, why (health, failure), pid, ports, its last health checks, restarts and uptime; the chosen service's
 * last lines with a filter; start/stop/restart and stack down for a login that may act.
 */
import type { ServiceStatus } from '../../engine/index.js';
import { LIVE_STATES, formatUptime } from '../../engine/services.js';
import { clock, h } from '../dom.js';
import { serviceAction, stackDown } from '../fixes.js';
import { LogPane } from './log-pane.js';
import { matches, type View, type ViewContext } from './context.js';

const pane = new LogPane();
const GOOD = new Set(['healthy', 'running', 'completed']);
const BAD = new Set(['failed', 'unhealthy']);

function stateTag(s: ServiceStatus): HTMLElement {
  return h('span', { class: `tag ${GOOD.has(s.state) ? 'good' : BAD.has(s.state) ? 'bad' : 'muted'}` }, s.state);
}

function uptime(s: ServiceStatus): string {
  // Drawn again on every change the page hears of; between changes it stands still (no timer).
  return s.startedAt === null ? '' : (formatUptime(Math.max(0, Math.round((Date.now() - Date.parse(s.startedAt)) / 1000))) ?? '');
}

/**
 * The last checks as a row of pass/fail marks, oldest first. Each mark can take focus
 * (Tab), and says when it ran, what it found and how long it took, on hover and on focus.
 */
function checks(s: ServiceStatus): HTMLElement | null {
  if (s.checks.length === 0) return null;
  const passed = s.checks.filter((c) => c.ok).length;
  return h(
    'ol',
    { class: 'checks', 'aria-label': `last ${s.checks.length} health checks of ${s.scope}/${s.name}: ${passed} passed` },
    s.checks.map((c) => {
      const said = `${c.ok ? 'pass' : 'fail'} at ${clock(c.at)}: ${c.detail} (${c.durationMs} ms)`;
      return h('li', { class: c.ok ? 'ok' : 'fail', tabindex: '0', title: said, 'aria-label': said, 'data-detail': said }, c.ok ? '✓' : '✗');
    }),
  );
}

function buttons(ctx: ViewContext, s: ServiceStatus): HTMLElement[] {
  if (!ctx.actions.allowed) return [];
  const what = `${s.scope}/${s.name}`;
  const b = (action: 'start' | 'stop' | 'restart', label: string): HTMLElement => h('button', { type: 'button', 'aria-label': `${action} ${what}`, onclick: () => void serviceAction(ctx.actions, s, action) }, label);
  if (s.state === 'disabled') return [];
  return LIVE_STATES.has(s.state) ? [b('stop', 'Stop…'), b('restart', 'Restart…')] : [b('start', 'Start')];
}

function row(ctx: ViewContext, s: ServiceStatus, order: number): HTMLElement {
  const what = `${s.scope}/${s.name}`;
  const chosen = ctx.logs.is(s.scope, s.name);
  return h(
    'tr',
    { 'data-service': what, 'data-state': s.state, 'data-pid': s.pid ?? '', class: chosen ? 'chosen' : undefined },
    h('td', { class: 'num', title: 'start order: what it depends on starts before it' }, order),
    h('td', {}, s.name, s.dependsOn.length > 0 && h('span', { class: 'muted' }, ` after ${s.dependsOn.join(', ')}`), s.description !== null && h('div', { class: 'muted' }, s.description)),
    h('td', {}, stateTag(s)),
    h('td', {}, s.reason ?? ''),
    h('td', { class: 'num', title: s.pids.join(' ') }, s.pid ?? '', s.pids.length > 1 && h('span', { class: 'muted' }, ` +${s.pids.length - 1}`)),
    h('td', {}, s.ports.map((p) => h('div', { class: p.stranger !== null ? 'bad' : undefined }, `${p.name === undefined || p.name === s.name ? '' : `${p.name} `}${p.port}${p.listening ? '' : ' (not listening)'}${p.stranger !== null ? `, also ${p.stranger}` : ''}`))),
    h('td', {}, checks(s)),
    h('td', { class: 'num' }, s.restarts),
    h('td', { class: 'num', title: s.startedAt ?? '' }, uptime(s)),
    h('td', {}, s.lastExit === null ? '' : `${s.lastExit.signal ?? `code ${s.lastExit.code}`} at ${clock(s.lastExit.at)}`),
    h(
      'td',
      {},
      // Choosing whose lines to read changes nothing: offered to every login.
      h('button', { type: 'button', 'data-select': '', 'aria-label': `logs of ${what}`, 'aria-pressed': chosen ? 'true' : 'false', onclick: () => ctx.logs.select(s.scope, s.name) }, 'Logs'),
      buttons(ctx, s),
    ),
  );
}

function render(ctx: ViewContext): Node {
  const all = ctx.model.services;
  if (all.length === 0) return h('p', { class: 'empty' }, 'No launched services. `berth up -d` in a project whose berth.yaml has `services:` runs its stack in the daemon; it shows here.');
  const scopes = [...new Set(all.map((s) => s.scope))];
  return h(
    'div',
    {},
    scopes.map((scope) => {
      const stack = all.filter((s) => s.scope === scope);
      const shown = stack.map((s, i) => [s, i + 1] as const).filter(([s]) => matches(ctx, scope, s.name, s.state, s.reason, s.description));
      if (shown.length === 0) return null;
      return h(
        'section',
        { class: 'stack', 'aria-label': `stack ${scope}` },
        h('h3', {}, scope, ' ', h('span', { class: 'muted' }, `${stack.filter((s) => GOOD.has(s.state)).length} of ${stack.length} up`), ' ', ctx.actions.allowed && stack.some((s) => LIVE_STATES.has(s.state)) && h('button', { type: 'button', class: 'danger', 'aria-label': `stack down ${scope}`, onclick: () => void stackDown(ctx.actions, scope, ctx.reloadServices) }, 'Stack down…')),
        h(
          'table',
          { class: 'grid' },
          h('thead', {}, h('tr', {}, ['#', 'Service', 'State', 'Why', 'Pid', 'Ports', 'Checks', 'Restarts', 'Uptime', 'Last exit', ''].map((t) => h('th', { scope: 'col' }, t)))),
          h('tbody', {}, shown.map(([s, order]) => row(ctx, s, order))),
        ),
      );
    }),
  );
}

/** The services view. */
export const servicesView: View = {
  id: 'services',
  title: 'Services',
  badge: (ctx) => {
    const bad = ctx.model.services.filter((s) => BAD.has(s.state)).length;
    return bad > 0 ? bad : null;
  },
  render,
  aside: (ctx) => pane.update(ctx.logs),
};

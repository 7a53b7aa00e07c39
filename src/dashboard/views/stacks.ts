/**
 * Stacks: every stack the daemon's state directory has run, with its berth.yaml and
 * services, whether it runs here, elsewhere (a foreground `berth up`) or is down; "Up…"
 * starts a down one again from its berth.yaml. Running stacks' services are the Services view's.
 */
import type { KnownStack } from '../../engine/index.js';
import { h } from '../dom.js';
import { stackUp } from '../fixes.js';
import { matches, type View, type ViewContext } from './context.js';

const STATES: Readonly<Record<KnownStack['state'], readonly [string, string]>> = {
  running: ['runs in this daemon', 'good'],
  elsewhere: ['runs outside this daemon (berth down stops it)', 'muted'],
  down: ['down', 'muted'],
};

function row(ctx: ViewContext, s: KnownStack): HTMLElement {
  const [state, tone] = STATES[s.state];
  return h(
    'tr',
    { 'data-stack': s.scope, 'data-state': s.state },
    h('td', {}, s.scope),
    h('td', {}, s.services.join(', ')),
    h('td', { class: 'command', title: s.configFile ?? '' }, s.configFile ?? h('span', { class: 'muted' }, 'unknown')),
    h('td', {}, h('span', { class: `tag ${tone}` }, state)),
    h(
      'td',
      { class: 'actions' },
      ctx.actions.allowed && s.state === 'down' && s.configFile !== null && h('button', { type: 'button', 'aria-label': `up ${s.scope}`, onclick: () => void stackUp(ctx.actions, s, ctx.reloadServices) }, 'Up…'),
    ),
  );
}

function render(ctx: ViewContext): Node {
  const stacks = ctx.model.stacks.filter((s) => matches(ctx, s.scope, s.configFile, ...s.services));
  if (stacks.length === 0) return h('p', { class: 'empty' }, ctx.filter === '' ? 'No stack has run here yet. `berth up -d` in a project starts one in the daemon.' : 'No stack matches the search.');
  return h(
    'table',
    { class: 'grid', 'aria-label': 'stacks' },
    h('caption', {}, `${stacks.length} stack${stacks.length === 1 ? '' : 's'} this daemon knows`),
    h('thead', {}, h('tr', {}, ['Scope', 'Services', 'berth.yaml', 'State', ''].map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, stacks.map((s) => row(ctx, s))),
  );
}

/** The stacks view. */
export const stacksView: View = { id: 'stacks', title: 'Stacks', render };

/**
 * Scopes and leases: grouped by scope, each lease with its port, purpose, pool slot,
 * owner, and live state; HTTP services as links (wiring/http.ts decides, as for `berth
 * urls`); release and reassign.
 */
import type { Lease } from '../../types.js';
import { httpUrl, leaseSpeaksHttp, serviceFor } from '../../wiring/http.js';
import { DEFAULT_URL_HOST } from '../../wiring/variables.js';
import { h, RowCache } from '../dom.js';
import { reassign, release } from '../fixes.js';
import { matches, type View, type ViewContext } from './context.js';

function stateOf(ctx: ViewContext, lease: Lease): [string, string] {
  const holders = ctx.model.holdersOf(lease.port, lease.protocol);
  if (ctx.model.ports === null) return ['…', ''];
  if (holders.length === 0) return ['idle', 'muted'];
  const stranger = ctx.model.conflicts.some((c) => c.kind === 'foreign-holder' && c.lease?.scope === lease.scope && c.lease.name === lease.name);
  return stranger ? ['stranger', 'bad'] : ['listening', 'good'];
}

const rows = new RowCache();

function row(ctx: ViewContext, lease: Lease): HTMLElement {
  const [state, tone] = stateOf(ctx, lease);
  return rows.row(`${lease.scope}/${lease.name}`, JSON.stringify([lease, state, ctx.actions.allowed]), () => build(ctx, lease, state, tone));
}

function build(ctx: ViewContext, lease: Lease, state: string, tone: string): HTMLElement {
  // Which leases speak HTTP, as `berth urls` and the <NAME>_URL variables decide: the
  // daemon's berth.yaml (`http:`) for its own project's services, else the name.
  const project = ctx.model.project;
  const services = project !== null && project.scope === lease.scope ? project.config.services : [];
  const http = leaseSpeaksHttp(lease, serviceFor(lease, services));
  const url = `${httpUrl(DEFAULT_URL_HOST, lease.port)}/`;
  return h(
    'tr',
    { 'data-lease': `${lease.scope}/${lease.name}` },
    h('td', {}, lease.name),
    h('td', { class: 'num' }, http ? h('a', { href: url, target: '_blank', rel: 'noopener noreferrer' }, lease.port) : lease.port),
    h('td', {}, lease.protocol),
    h('td', {}, lease.purpose ?? ''),
    h('td', {}, lease.pool === null ? '' : `${lease.pool} #${lease.slot}`),
    h('td', {}, lease.ephemeral ? `ephemeral, pid ${lease.pid}` : 'sticky'),
    h('td', {}, h('span', { class: `tag ${tone}` }, state)),
    h(
      'td',
      { class: 'actions' },
      ctx.actions.allowed && [
        h('button', { type: 'button', 'aria-label': `reassign ${lease.scope}/${lease.name}`, onclick: () => void reassign(ctx.actions, lease) }, 'Reassign…'),
        h('button', { type: 'button', 'aria-label': `release ${lease.scope}/${lease.name}`, onclick: () => void release(ctx.actions, lease) }, 'Release…'),
      ],
    ),
  );
}

function render(ctx: ViewContext): Node {
  const byScope = new Map<string, Lease[]>();
  for (const lease of ctx.model.leases.values()) {
    if (!matches(ctx, `${lease.scope}/${lease.name}`, lease.port, lease.purpose, lease.pool)) continue;
    const list = byScope.get(lease.scope) ?? [];
    list.push(lease);
    byScope.set(lease.scope, list);
  }
  if (byScope.size === 0) return h('p', { class: 'empty' }, ctx.filter === '' ? 'No leases yet. `berth allocate` in a project makes some.' : 'No lease matches the search.');
  const scopes = [...byScope.keys()].sort();
  const drawn = h(
    'div',
    {},
    scopes.map((scope) => {
      const leases = byScope.get(scope)!.sort((a, b) => a.name.localeCompare(b.name));
      return h(
        'section',
        { class: 'scope', 'aria-label': `scope ${scope}` },
        h('h3', {}, scope, ' ', h('span', { class: 'muted' }, `${leases.length} lease${leases.length === 1 ? '' : 's'}`)),
        h(
          'table',
          { class: 'grid' },
          h('thead', {}, h('tr', {}, ['Name', 'Port', 'Proto', 'Purpose', 'Pool slot', 'Owner', 'State', ''].map((t) => h('th', { scope: 'col' }, t)))),
          h(
            'tbody',
            {},
            leases.map((l) => row(ctx, l)),
          ),
        ),
      );
    }),
  );
  rows.done();
  return drawn;
}

/** The scopes and leases view. */
export const leasesView: View = { id: 'leases', title: 'Leases', badge: (ctx) => ctx.model.leases.size, render };

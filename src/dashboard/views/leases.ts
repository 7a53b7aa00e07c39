/**
 * Scopes and leases: grouped by scope, each lease with its port, purpose, the strategy
 * that chose its port (blank for leases made before berth recorded it), pool slot,
 * owner, and live state; HTTP services as links (wiring/http.ts decides, as for `berth
 * urls`); release and reassign.
 */
import type { Lease } from '../../types.js';
import { httpUrl, leaseSpeaksHttp, serviceFor } from '../../wiring/http.js';
import { DEFAULT_URL_HOST } from '../../wiring/variables.js';
import { h, RowCache } from '../dom.js';
import { reassign, release } from '../fixes.js';
import { RowWindow } from '../window.js';
import { matches, type View, type ViewContext } from './context.js';

function stateOf(ctx: ViewContext, lease: Lease): [string, string] {
  const holders = ctx.model.holdersOf(lease.port, lease.protocol);
  if (ctx.model.ports === null) return ['…', ''];
  if (holders.length === 0) return ['idle', 'muted'];
  const stranger = ctx.model.conflicts.some((c) => c.kind === 'foreign-holder' && c.lease?.scope === lease.scope && c.lease.name === lease.name);
  return stranger ? ['stranger', 'bad'] : ['listening', 'good'];
}

const rows = new RowCache();

/** Whether a lease is another machine's (a shared registry): shown, never acted on from here. */
const elsewhere = (ctx: ViewContext, lease: Lease): boolean => ctx.model.info !== null && lease.host !== ctx.model.info.host;

function row(ctx: ViewContext, lease: Lease, machines: boolean): HTMLElement {
  // Another machine's listeners cannot be asked from here: its state is where it is.
  const [state, tone] = elsewhere(ctx, lease) ? [`on ${lease.host}`, 'muted'] : stateOf(ctx, lease);
  return rows.row(`${lease.host}/${lease.scope}/${lease.name}`, JSON.stringify([lease, state, ctx.actions.allowed, machines]), () => build(ctx, lease, state, tone, machines));
}

function build(ctx: ViewContext, lease: Lease, state: string, tone: string, machines: boolean): HTMLElement {
  const theirs = elsewhere(ctx, lease);
  // Which leases speak HTTP, as `berth urls` and the <NAME>_URL variables decide: the
  // daemon's berth.yaml (`http:`) for its own project's services, else the name.
  const project = ctx.model.project;
  const services = project !== null && project.scope === lease.scope ? project.config.services : [];
  // A link to 127.0.0.1 would be this machine's port, not the other machine's.
  const http = !theirs && leaseSpeaksHttp(lease, serviceFor(lease, services));
  const url = `${httpUrl(DEFAULT_URL_HOST, lease.port)}/`;
  return h(
    'tr',
    { 'data-lease': `${lease.scope}/${lease.name}`, 'data-machine': lease.host, class: theirs ? 'elsewhere' : undefined },
    machines && h('td', {}, lease.host),
    h('td', {}, lease.name),
    h('td', { class: 'num' }, http ? h('a', { href: url, target: '_blank', rel: 'noopener noreferrer' }, lease.port) : lease.port),
    h('td', {}, lease.protocol),
    h('td', {}, lease.purpose ?? ''),
    h('td', { 'data-strategy': lease.strategy ?? '' }, lease.strategy ?? ''),
    h('td', {}, lease.pool === null ? '' : `${lease.pool} #${lease.slot}`),
    h('td', {}, lease.ephemeral ? `ephemeral, pid ${lease.pid}` : 'sticky'),
    h('td', {}, h('span', { class: `tag ${tone}` }, state)),
    h(
      'td',
      { class: 'actions' },
      theirs
        ? h('span', { class: 'muted', title: `berth changes only this machine's leases: act on it from ${lease.host}` }, 'read-only')
        : ctx.actions.allowed && [
            h('button', { type: 'button', 'aria-label': `reassign ${lease.scope}/${lease.name}`, onclick: () => void reassign(ctx.actions, lease) }, 'Reassign…'),
            h('button', { type: 'button', 'aria-label': `release ${lease.scope}/${lease.name}`, onclick: () => void release(ctx.actions, lease) }, 'Release…'),
          ],
    ),
  );
}

/** The table's columns (a shared registry's leases of other machines add MACHINE first). */
const COLUMNS = ['Name', 'Port', 'Proto', 'Purpose', 'Strategy', 'Pool slot', 'Owner', 'State', ''];
const rowWindow = new RowWindow();

/** One line of the table: a scope's heading row, or one of its leases. */
type Line = { readonly scope: string; readonly count: number } | Lease;

function render(ctx: ViewContext): Node {
  const byScope = new Map<string, Lease[]>();
  let shown = 0;
  const machines = ctx.model.others.size > 0;
  const columns = machines ? ['Machine', ...COLUMNS] : COLUMNS;
  for (const lease of [...ctx.model.leases.values(), ...ctx.model.others.values()]) {
    if (!matches(ctx, `${lease.scope}/${lease.name}`, lease.port, lease.purpose, lease.strategy, lease.pool, machines && lease.host)) continue;
    const list = byScope.get(lease.scope) ?? [];
    list.push(lease);
    byScope.set(lease.scope, list);
    shown++;
  }
  if (byScope.size === 0) return h('p', { class: 'empty' }, ctx.filter === '' ? 'No leases yet. `berth allocate` in a project makes some.' : 'No lease matches the search.');
  // One table, each scope a heading row before its leases: long lists are drawn as a window (window.ts).
  const lines: Line[] = [];
  for (const scope of [...byScope.keys()].sort()) {
    const leases = byScope.get(scope)!.sort((a, b) => a.name.localeCompare(b.name) || a.host.localeCompare(b.host));
    lines.push({ scope, count: leases.length }, ...leases);
  }
  const body = rowWindow.body(lines.length, columns.length, (i) => {
    const line = lines[i]!;
    if ('count' in line) {
      return h('tr', { class: 'group', 'data-scope': line.scope }, h('th', { colspan: columns.length }, line.scope, ' ', h('span', { class: 'muted' }, `${line.count} lease${line.count === 1 ? '' : 's'}`)));
    }
    return row(ctx, line, machines);
  });
  rows.done();
  const plural = (n: number, word: string): string => `${n.toLocaleString('en')} ${word}${n === 1 ? '' : 's'}`;
  return h(
    'table',
    { class: 'grid', 'aria-label': 'leases by scope', 'aria-rowcount': RowWindow.rowCount(lines.length) },
    h('caption', { 'data-count': shown }, `${plural(shown, 'lease')} in ${plural(byScope.size, 'scope')}${ctx.filter === '' ? '' : ` matching “${ctx.filter}”`}`),
    h('thead', {}, h('tr', { 'aria-rowindex': 1 }, columns.map((t) => h('th', { scope: 'col' }, t)))),
    body,
  );
}

/** The scopes and leases view. */
export const leasesView: View = { id: 'leases', title: 'Leases', badge: (ctx) => ctx.model.leases.size + ctx.model.others.size, render };

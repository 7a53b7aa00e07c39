/**
 * The dashboard page: logs in with a link's one-time secret (then removes it from the
 * address bar), or shows how to get in; then follows the daemon's event stream (snapshot,
 * then changes and listeners) and draws the chosen view. Pools and conflicts are asked
 * for again after a change arrives, never on a timer.
 *
 * Views are a list (views/*.ts). Launched services come with the snapshot; a `service`
 * event changes its service at once, and the full list (restarts, start times, new stacks)
 * is asked for again after it, as pools and conflicts are after a lease change. A `stack`
 * event adds a stack the daemon started, brings its services' newer health checks (at most
 * once a second), or drops a stack it forgot (after a down from anywhere).
 */
import type { Conflict, EngineInfo, KnownStack, PoolStatus, PortEntry, ProjectInfo, ServiceEvent, ServiceStatus, StackEvent } from '../engine/index.js';
import { LOGIN_FRAGMENT } from '../http/dashboard.js';
import type { Lease, RegistryEvent } from '../types.js';
import { Actions } from './actions.js';
import { ApiError, call } from './api.js';
import { fill, h } from './dom.js';
import { ServiceLogs } from './logs.js';
import { Model } from './model.js';
import { conflictsView } from './views/conflicts.js';
import type { View, ViewContext } from './views/context.js';
import { historyView } from './views/history.js';
import { leasesView } from './views/leases.js';
import { poolsView } from './views/pools.js';
import { portsView } from './views/ports.js';
import { servicesView } from './views/services.js';
import { stacksView } from './views/stacks.js';
import { usageView } from './views/usage.js';
import { windowsStale } from './window.js';

const VIEWS: readonly View[] = [portsView, leasesView, poolsView, servicesView, stacksView, conflictsView, historyView, usageView];
/** Quiet time after a change before pools and conflicts are asked for again. */
const REFRESH_DEBOUNCE_MS = 150;
/** How many past changes the page reads at start (history and the usage chart). */
const HISTORY_LIMIT = 500;
/** The longest a pressed pointer holds the page's draws back (see `pressed` below). */
const PRESS_HOLD_MS = 1000;

/** The page shown without a session: how to get in, and nothing else. */
function showLogin(root: HTMLElement, why: string | null, note: string | null = null): void {
  document.title = 'berth — log in';
  fill(
    root,
    h(
      'main',
      { class: 'login' },
      h('h1', {}, 'berth'),
      why && h('p', { class: 'refused', role: 'alert' }, why),
      note && h('p', { role: 'status' }, note),
      h('p', {}, 'To open the dashboard, run this in a terminal on this machine and open the link it prints:'),
      h('pre', {}, h('code', {}, 'berth dashboard')),
      h('p', {}, 'Each link works once. ', h('code', {}, 'berth dashboard --read-only'), ' gives a login that can look but not change anything.'),
    ),
  );
}

/** Trades the link's secret (if the address has one) for a session; the access it gives, or null. */
async function login(root: HTMLElement): Promise<'write' | 'read' | null> {
  const secret = new URLSearchParams(location.hash.slice(1)).get(LOGIN_FRAGMENT);
  if (secret !== null) {
    // Out of the address bar (and its history) at once, whether or not it works.
    history.replaceState(null, '', location.pathname);
    try {
      await call('session.login', {}, { body: { secret } });
    } catch (error) {
      showLogin(root, error instanceof ApiError ? error.message : String(error));
      return null;
    }
  }
  try {
    return (await call<{ access: 'write' | 'read' }>('session.get')).access;
  } catch (error) {
    showLogin(root, error instanceof ApiError && error.status === 401 && secret === null ? null : String((error as Error).message));
    return null;
  }
}

async function start(): Promise<void> {
  const root = document.getElementById('app')!;
  const access = await login(root);
  if (access === null) return;
  const model = new Model();
  model.access = access;
  let active: View = VIEWS.find((v) => `#${v.id}` === location.hash) ?? VIEWS[0]!;
  const search = h('input', { type: 'search', id: 'search', placeholder: 'Filter (/)', 'aria-label': 'filter every view', autocomplete: 'off' });
  const live = h('span', { class: 'live', role: 'status' }, 'connecting…');
  const machine = h('span', { class: 'muted' });
  // The tabs are made once and updated in place: a tab drawn anew between the press and the
  // release of a click (events can redraw many times a second) would lose that click.
  const tabButtons = VIEWS.map((v) => {
    const badge = h('span', { class: 'badge', hidden: true });
    return { view: v, badge, button: h('button', { type: 'button', role: 'tab', id: `tab-${v.id}`, onclick: () => select(v) }, v.title, badge) };
  });
  const tabs = h('nav', { role: 'tablist', 'aria-label': 'views' }, tabButtons.map((t) => t.button));
  // The view: what it draws anew each time, then its aside, kept between draws (View.aside).
  const body = h('div', {});
  const aside = h('div', {});
  const panel = h('main', { id: 'view', role: 'tabpanel', tabindex: '-1' }, body, aside);
  const status = h('ul', { class: 'status', 'aria-live': 'polite' });
  const actions = new Actions(model, status);
  const logs = new ServiceLogs(() => schedule());
  // Ends the session on the daemon (every tab with its cookie is refused from now on), not just here.
  const logout = async (): Promise<void> => {
    try {
      await call('session.logout');
    } catch (error) {
      status.prepend(h('li', { class: 'refused', role: 'alert' }, `could not log out: ${(error as Error).message}`));
      return;
    }
    closeStream();
    showLogin(root, null, 'You are logged out.');
  };
  let closeStream = (): void => undefined;
  const logoutButton = h('button', { type: 'button', id: 'logout', onclick: () => void logout() }, 'Log out');
  fill(
    root,
    h('header', {}, h('h1', {}, 'berth'), machine, live, access === 'read' && h('span', { class: 'tag muted', title: 'this login can look, not change' }, 'read-only'), search, logoutButton),
    tabs,
    status,
    panel,
  );

  let queued = false;
  const draw = (): void => {
    queued = false;
    if (pressed !== null) {
      held = true;
      return;
    }
    const ctx: ViewContext = { model, actions, logs, reloadServices: refreshServices, filter: search.value.trim().toLowerCase(), redraw: schedule };
    // Drawing replaces the view's elements (not its aside's): keep the keyboard focus where it was.
    const focused = document.activeElement;
    const key =
      focused instanceof HTMLElement && panel.contains(focused)
        ? focused.id
          ? `#${CSS.escape(focused.id)}`
          : focused.getAttribute('aria-label')
            ? `[aria-label="${CSS.escape(focused.getAttribute('aria-label')!)}"]`
            : null
        : null;
    for (const { view, badge, button } of tabButtons) {
      const count = view.badge?.(ctx) ?? null;
      button.setAttribute('aria-selected', view === active ? 'true' : 'false');
      badge.hidden = count === null;
      badge.textContent = count === null ? '' : String(count);
    }
    panel.setAttribute('aria-labelledby', `tab-${active.id}`);
    panel.dataset.view = active.id;
    // A text field keeps its selection too: a draw between selecting the filter's text and
    // typing over it (log lines arrive many times a second) must not turn a replace into an append.
    const selection = focused instanceof HTMLInputElement && focused.selectionStart !== null ? ([focused.selectionStart, focused.selectionEnd ?? focused.selectionStart, focused.selectionDirection ?? 'none'] as const) : null;
    fill(body, active.render(ctx));
    const kept = active.aside?.(ctx) ?? null;
    if (aside.firstChild !== kept) fill(aside, kept);
    if (key !== null) {
      const again = root.querySelector<HTMLElement>(key);
      again?.focus({ preventScroll: true });
      if (selection !== null && again instanceof HTMLInputElement && again !== focused) again.setSelectionRange(...selection);
    }
    actions.check();
    // Long tables drew the rows near the viewport, placed by an estimate on a first draw.
    if (windowsStale()) schedule();
  };
  // No draw while a pointer is pressed: a button drawn anew between the press and the
  // release of a click would lose the click (a browser clicks only when both land on one
  // element), and the stream can redraw many times a second. The draw waits for the release.
  // A press the page never hears released (a context menu took it) holds no longer than
  // PRESS_HOLD_MS.
  let pressed: ReturnType<typeof setTimeout> | null = null;
  let held = false;
  const release = (): void => {
    if (pressed !== null) clearTimeout(pressed);
    pressed = null;
    if (held) {
      held = false;
      schedule();
    }
  };
  window.addEventListener('pointerdown', (e) => {
    if (e.button !== 0) return;
    if (pressed !== null) clearTimeout(pressed);
    pressed = setTimeout(release, PRESS_HOLD_MS);
  }, { capture: true });
  window.addEventListener('pointerup', release, { capture: true });
  window.addEventListener('pointercancel', release, { capture: true });
  function schedule(): void {
    if (queued) return;
    queued = true;
    requestAnimationFrame(draw);
  }
  function select(view: View): void {
    active = view;
    history.replaceState(null, '', `#${view.id}`);
    schedule();
  }
  search.addEventListener('input', schedule);
  // Long tables draw again only when the viewport nears the edge of the rows they drew.
  window.addEventListener('scroll', () => windowsStale() && schedule(), { passive: true });
  window.addEventListener('resize', () => windowsStale() && schedule(), { passive: true });
  document.addEventListener('keydown', (e) => {
    if (e.key === '/' && document.activeElement?.tagName !== 'INPUT') {
      e.preventDefault();
      search.focus();
    } else if ((e.key === 'ArrowRight' || e.key === 'ArrowLeft') && document.activeElement?.getAttribute('role') === 'tab') {
      const i = VIEWS.indexOf(active) + (e.key === 'ArrowRight' ? 1 : -1);
      select(VIEWS[(i + VIEWS.length) % VIEWS.length]!);
      requestAnimationFrame(() => document.getElementById(`tab-${active.id}`)?.focus());
    }
  });

  // Pools, conflicts and lease details are the server's to derive: asked for after changes.
  let refreshing = false;
  let again = false;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let wantLeases = false;
  const refresh = async (): Promise<void> => {
    if (refreshing) {
      again = true;
      return;
    }
    refreshing = true;
    try {
      const leases = wantLeases;
      wantLeases = false;
      const shared = model.shared();
      const [pools, conflicts, list] = await Promise.all([
        call<PoolStatus[]>('pools.status'),
        call<Conflict[]>('reality.check', {}, { query: { all: true } }),
        leases ? call<Lease[]>('leases.list', {}, { query: { allMachines: shared || undefined } }) : null,
      ]);
      model.pools = pools;
      model.conflicts = conflicts;
      if (list !== null) model.refreshLeases(list);
      model.version++;
      schedule();
    } catch (error) {
      live.textContent = `could not read pools and conflicts: ${(error as Error).message}`;
    } finally {
      refreshing = false;
      if (again) {
        again = false;
        void refresh();
      }
    }
  };
  // The services list after a service event: one fetch for a burst of events, and an
  // answer overtaken by a later fetch's is dropped (it would bring back an older state).
  let servicesTimer: ReturnType<typeof setTimeout> | null = null;
  let servicesAsked = 0;
  const refreshServices = (): void => {
    if (servicesTimer !== null) clearTimeout(servicesTimer);
    servicesTimer = setTimeout(() => {
      const ask = ++servicesAsked;
      Promise.all([call<ServiceStatus[]>('services.list'), call<KnownStack[]>('stacks.list')]).then(([list, stacks]) => {
        if (ask !== servicesAsked) return;
        model.services = list;
        model.stacks = stacks;
        model.version++;
        schedule();
      }, failed('the services'));
    }, REFRESH_DEBOUNCE_MS);
  };
  const refreshSoon = (): void => {
    if (timer !== null) clearTimeout(timer);
    timer = setTimeout(() => void refresh(), REFRESH_DEBOUNCE_MS);
  };

  const failed = (what: string) => (error: unknown): void => {
    status.prepend(h('li', { class: 'refused', role: 'alert' }, `could not read ${what}: ${(error as Error).message}`));
  };
  // The machine's name before any change: on a shared registry, other machines' changes are told apart by it.
  const info = await call<EngineInfo>('info').catch((error: unknown) => void failed('the daemon\'s store')(error));
  if (info) {
    model.info = info;
    machine.textContent = `${info.host} · ${info.store}`;
  }
  // Other machines' leases (the snapshot has this machine's): once, then from their changes.
  const loadOthers = (): void => {
    const asOf = model.lastEventId;
    call<Lease[]>('leases.list', {}, { query: { allMachines: true } }).then((list) => {
      model.addOthers(list, asOf);
      schedule();
    }, failed('other machines\' leases'));
  };
  call<ProjectInfo>('project').then((project) => {
    model.project = project;
    schedule();
  }, failed('the daemon\'s berth.yaml (the usage chart counts no categories)'));
  call<RegistryEvent[]>('registry.history', {}, { query: { limit: HISTORY_LIMIT } }).then((events) => {
    const known = new Set(model.history.map((e) => e.id));
    model.history = [...model.history, ...events.filter((e) => !known.has(e.id))].sort((a, b) => b.id - a.id);
    schedule();
  }, failed('the history'));

  const stream = new EventSource('/v1/events?reality=true');
  closeStream = () => stream.close();
  stream.addEventListener('open', () => {
    live.textContent = '● live';
    live.className = 'live on';
  });
  stream.addEventListener('snapshot', (e) => {
    const data = JSON.parse((e as MessageEvent<string>).data) as { leases: Lease[]; lastEventId: number; services?: ServiceStatus[] };
    model.snapshot(data.leases, data.lastEventId);
    model.services = data.services ?? [];
    if (model.shared()) loadOthers();
    refreshServices();
    void refresh();
    schedule();
  });
  stream.addEventListener('change', (e) => {
    const event = JSON.parse((e as MessageEvent<string>).data) as RegistryEvent;
    if (event.change !== 'deleted') wantLeases = true;
    model.apply(event);
    refreshSoon();
    schedule();
  });
  stream.addEventListener('service', (e) => {
    const event = JSON.parse((e as MessageEvent<string>).data) as ServiceEvent;
    model.applyService(event);
    logs.onEvent(event);
    refreshServices();
    schedule();
  });
  stream.addEventListener('stack', (e) => {
    const event = JSON.parse((e as MessageEvent<string>).data) as StackEvent;
    const came = !event.removed && !model.stacks.some((k) => k.scope === event.scope && k.state === 'running');
    model.applyStack(event);
    // A list asked for before the stack came or went must not bring back its old rows; the
    // Stacks view learns that it runs or is down (and Up is offered) from a list asked after it.
    servicesAsked++;
    if (event.removed || came) refreshServices();
    schedule();
  });
  stream.addEventListener('ports', (e) => {
    model.ports = JSON.parse((e as MessageEvent<string>).data) as PortEntry[];
    model.version++;
    refreshSoon();
    schedule();
  });
  stream.addEventListener('error', (e) => {
    if (e instanceof MessageEvent) {
      live.textContent = `the daemon reports: ${JSON.parse(e.data as string).message}`;
      return;
    }
    live.className = 'live off';
    if (stream.readyState === EventSource.CLOSED) {
      // Refused (the session ended) rather than cut off: the page cannot go on.
      void call('session.get').catch(() => showLogin(root, 'The session ended (logged out, expired, or the daemon restarted).'));
      live.textContent = 'disconnected';
    } else {
      live.textContent = 'reconnecting…';
    }
  });
  schedule();
}

void start();

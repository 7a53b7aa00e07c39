/**
 * The actions the views offer, each: ask (when it is dangerous or needs a value), call the
 * API, and say what in the event stream confirms it.
 */
import type { FreeResult, KnownStack, PoolStatus, ServiceStatus } from '../engine/index.js';
import { LIVE_STATES } from '../engine/services.js';
import type { Lease, Listener } from '../types.js';
import { ask, describeHolder, type Actions } from './actions.js';
import { call } from './api.js';
import { h } from './dom.js';
import { leaseKey, type Model } from './model.js';

/** Kills what listens on `port`, after showing who that is. */
export async function killPort(actions: Actions, port: number, protocol: string, holders: readonly Listener[]): Promise<void> {
  const pids = new Set(holders.map((l) => l.pid));
  const body = h('div', {}, h('p', {}, `Stop ${holders.length === 1 ? 'this process' : `these ${holders.length} processes`} (SIGTERM, then SIGKILL after 3 s), then check that port ${port} is free?`), holders.map(describeHolder));
  if ((await ask(`Kill what listens on port ${port}?`, body, 'Kill', [], true)) === null) return;
  await actions.run(`kill port ${port}`, 'reality.kill', { port }, { body: { protocol } }, (m) => m.ports !== null && !m.ports.some((l) => l.port === port && l.protocol === protocol && pids.has(l.pid)));
}

/** Releases one lease (a pool role releases its whole slot). */
export async function release(actions: Actions, lease: Lease): Promise<void> {
  const what = lease.pool === null ? `${lease.scope}/${lease.name} (port ${lease.port})` : `slot ${lease.slot} of pool ${lease.pool}, held by ${lease.scope}`;
  if ((await ask(`Release ${what}?`, h('p', {}, 'berth forgets the lease; the port can be handed to someone else. Processes are not stopped.'), 'Release')) === null) return;
  await actions.run(`release ${what}`, 'leases.delete', { scope: lease.scope, name: lease.name }, {}, (m) => !m.leases.has(leaseKey(lease.scope, lease.name)));
}

/** Moves a lease to a port the user picks (a free one offered). */
export async function reassign(actions: Actions, lease: Lease): Promise<void> {
  let offer = '';
  try {
    offer = String((await call<FreeResult>('reality.free', {}, { query: { from: lease.port + 1, count: 1, protocol: lease.protocol } })).ports[0] ?? '');
  } catch {
    // No offer: the user types a port.
  }
  const answer = await ask(`Move ${lease.scope}/${lease.name} from port ${lease.port}`, h('p', {}, 'To which port? berth refuses one another lease or process holds. Files that name the port are not rewritten until you run berth again there.'), 'Reassign', [
    { name: 'port', label: 'New port', value: offer, pattern: '\\d{1,5}' },
  ]);
  if (answer === null) return;
  const port = Number(answer.port);
  await actions.run(`reassign ${lease.scope}/${lease.name} to ${port}`, 'leases.reassign', { scope: lease.scope, name: lease.name }, { body: { port } }, (m) => m.leases.get(leaseKey(lease.scope, lease.name))?.port === port);
}

/** Reserves a slot of `pool` for a scope the user names. */
export async function reserve(actions: Actions, pool: PoolStatus): Promise<void> {
  const answer = await ask(`Reserve a slot of pool ${pool.name}`, h('p', {}, 'For which scope (workspace, app)? It gets one whole slot: a port for each role.'), 'Reserve', [{ name: 'scope', label: 'Scope', pattern: '.+' }]);
  if (answer === null) return;
  const scope = answer.scope!;
  await actions.run(`reserve a slot of ${pool.name} for ${scope}`, 'pools.reserve', { pool: pool.name }, { body: { scope } }, (m) => [...m.leases.values()].some((l) => l.scope === scope && l.pool === pool.name));
}

/** What the stream shows once a service action is through. */
const SETTLED: Readonly<Record<'start' | 'restart', ReadonlySet<string>>> = {
  start: new Set(['healthy', 'running', 'completed']),
  restart: new Set(['healthy', 'running', 'completed']),
};

/** Starts, stops or restarts one service of a running stack (stop and restart ask first). */
export async function serviceAction(actions: Actions, s: ServiceStatus, action: 'start' | 'stop' | 'restart'): Promise<void> {
  const what = `${s.scope}/${s.name}`;
  if (action !== 'start') {
    const body = h('p', {}, action === 'stop' ? 'Its processes are stopped (SIGTERM, then SIGKILL) and its ports freed; the services that depend on it stop too.' : 'It is stopped (with the services that depend on it), then started again.');
    if ((await ask(`${action === 'stop' ? 'Stop' : 'Restart'} ${what}?`, body, action === 'stop' ? 'Stop' : 'Restart')) === null) return;
  }
  const before = s.pid;
  const now = (m: Model): ServiceStatus | undefined => m.services.find((x) => x.scope === s.scope && x.name === s.name);
  await actions.run(`${action} ${what}`, `services.${action}`, { scope: s.scope, name: s.name }, {}, (m) => {
    const after = now(m);
    if (action === 'stop') return after === undefined || after.state === 'stopped';
    return after !== undefined && SETTLED[action].has(after.state) && (action === 'start' || after.pid !== before);
  });
}

/**
 * Stops a whole stack in reverse dependency order, after a confirmation. Its services'
 * events may all arrive before the daemon forgets the stack, so the list is asked for
 * again once the API has answered (the stack is gone by then).
 */
export async function stackDown(actions: Actions, scope: string, reload: () => void): Promise<void> {
  if ((await ask(`Stop the stack of ${scope}?`, h('p', {}, 'Every service of it is stopped, dependents first; every process gone, every port free. berth up starts it again.'), 'Stop the stack', [], true)) === null) return;
  if (await actions.run(`stack down ${scope}`, 'stacks.down', { scope }, {}, (m) => !m.services.some((x) => x.scope === scope && LIVE_STATES.has(x.state)))) reload();
}

/**
 * Starts a stack the daemon ran before and that is down, from the berth.yaml it was run
 * from (the page knows no project directory; the daemon's record does), after showing what
 * will start. The same route and rules as `berth up -d`; a refusal shows its message.
 */
export async function stackUp(actions: Actions, stack: KnownStack, reload: () => void): Promise<void> {
  if (stack.configFile === null) return;
  const body = h('div', {}, h('p', {}, `Starts ${stack.services.join(', ')} in dependency order from`), h('pre', {}, stack.configFile), h('p', {}, 'Every leased port is checked first; nothing starts if a stranger holds one.'));
  if ((await ask(`Start the stack of ${stack.scope}?`, body, 'Up')) === null) return;
  const up = actions.run(`stack up ${stack.scope}`, 'stacks.up', { scope: stack.scope }, { query: { config: stack.configFile } }, (m) => m.stacks.some((s) => s.scope === stack.scope && s.state === 'running'));
  // The services of a new stack come with a fetch of the list (their events name a stack the page did not know).
  reload();
  if (await up) reload();
}

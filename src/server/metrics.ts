/**
 * `GET /metrics`: port usage in Prometheus' text format, read fresh at each scrape
 * (prom-client renders it): leases per scope, pool and category, pool slots used and free,
 * listeners per protocol, conflicts per kind, the registry's last event id, and the state,
 * health and restarts of every service the daemon launched.
 */
import { Gauge, Registry } from 'prom-client';
import { categoryOf } from '../config/categories.js';
import type { Engine, ScopeContext } from '../engine/index.js';
import { SERVICE_STATES, type ServiceStatus } from '../engine/services.js';


/** The metrics text for one scrape; `ctx` names the berth.yaml whose categories classify ports. */
export async function metricsText(engine: Engine, ctx: ScopeContext, services: readonly ServiceStatus[] = []): Promise<string> {
  const registry = new Registry();
  const gauge = (name: string, help: string, labelNames: string[] = []) => new Gauge({ name, help, labelNames, registers: [registry] });
  const leases = gauge('berth_leases', 'Leases on this machine, by scope, pool, category and protocol.', ['scope', 'pool', 'category', 'protocol']);
  const slots = gauge('berth_pool_slots', 'Pool slots by state (used, free; free is absent for open-ended pools).', ['pool', 'state']);
  const listeners = gauge('berth_listeners', 'Listening TCP and bound UDP sockets on this machine.', ['protocol']);
  const conflicts = gauge('berth_conflicts', 'Conflicts between registry, berth.yaml and the OS, by kind (every scope).', ['kind']);
  const lastEvent = gauge('berth_last_event_id', 'The id of the last change recorded in the registry.');
  const serviceState = gauge('berth_service_state', 'Launched services: 1 for the state each is in, 0 for the others (a state set).', ['scope', 'service', 'state']);
  const serviceHealthy = gauge('berth_service_healthy', 'Launched services: 1 when healthy (the check passes and its own processes hold its port), else 0.', ['scope', 'service']);
  const serviceRestarts = gauge('berth_service_restarts', 'Launched services: restarts since the last reset.', ['scope', 'service']);

  const [project, all, pools, ports, found, last] = await Promise.all([
    engine.project(ctx),
    engine.leases.list(ctx),
    engine.pools.status(ctx),
    engine.reality.ports(ctx),
    engine.reality.check(ctx, { all: true }),
    engine.events.lastId(),
  ]);
  for (const l of all) leases.inc({ scope: l.scope, pool: l.pool ?? '', category: categoryOf(l.port, project.config.ranges) ?? 'none', protocol: l.protocol });
  for (const p of pools) {
    slots.set({ pool: p.name, state: 'used' }, p.used);
    if (p.free !== null) slots.set({ pool: p.name, state: 'free' }, p.free);
  }
  for (const protocol of ['tcp', 'udp']) listeners.set({ protocol }, ports.filter((e) => e.protocol === protocol).length);
  for (const c of found) conflicts.inc({ kind: c.kind });
  lastEvent.set(last);
  for (const s of services) {
    for (const state of SERVICE_STATES) serviceState.set({ scope: s.scope, service: s.name, state }, s.state === state ? 1 : 0);
    serviceHealthy.set({ scope: s.scope, service: s.name }, s.state === 'healthy' ? 1 : 0);
    serviceRestarts.set({ scope: s.scope, service: s.name }, s.restarts);
  }
  return registry.metrics();
}

/**
 * `berth down` from the stack record: asks the supervisor to stop its stack when it still
 * runs, and otherwise (it was SIGKILLed) stops every process of every service itself, found
 * by recorded pid and start time, by process group and by the marker in their environment.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { isAlive, isPortFree, killProcesses, markedProcesses, processIdentity, processTable, serviceMembers } from '../os/index.js';
import { readStackRecord, writeStackRecord, type RecordedService, type StackRecord } from './stack-file.js';
import { PORT_FREE_WAIT_MS } from './service.js';

/** What a down did. */
export interface DownReport {
  readonly scope: string;
  /** `supervisor`: the running supervisor stopped its stack; `record`: berth stopped the recorded processes itself; `none`: nothing ran. */
  readonly via: 'supervisor' | 'record' | 'none';
  readonly stopped: readonly string[];
  /** Ports something still holds after the stop, and what. */
  readonly problems: readonly { readonly service: string; readonly message: string }[];
}

/** True while the recorded supervisor is the process running on its pid. */
export function supervisorAlive(record: StackRecord): boolean {
  const { pid, identity } = record.supervisor;
  return pid !== process.pid && isAlive(pid) && (identity === null || processIdentity(pid) === identity);
}

/** The live processes of a recorded service: recorded pids whose start time still matches, and marker holders. */
export function recordedMembers(service: RecordedService): number[] {
  const known = service.processes.filter((p) => p.identity === null || processIdentity(p.pid) === p.identity).map((p) => p.pid);
  return serviceMembers({ pids: known, pgid: service.pgid, marker: service.marker });
}

/**
 * What a recorded stack's processes owned, for releasing after a down from the record: each
 * service's own lease and its `leases:` (records written before ports had names: its own),
 * and the pids (supervisor and services) that held them.
 */
export function recordedOwnership(record: StackRecord): { names: string[]; pids: number[] } {
  const names = [...new Set([...record.order, ...record.services.flatMap((s) => s.ports.flatMap((p) => (p.name === undefined ? [] : [p.name])))])];
  const pids = [record.supervisor.pid, ...record.services.flatMap((s) => s.processes.map((p) => p.pid))];
  return { names, pids };
}

/**
 * Stops `scope`'s stack. With a live supervisor: SIGTERM to it (it stops every service
 * in order, as for Ctrl-C) and waits up to `waitMs` for it to exit. Otherwise: each
 * service in reverse start order, its processes signalled with its stop signal, SIGKILL
 * after its grace, then its port waited for.
 */
export async function downStack(stateDir: string, scope: string, waitMs: number): Promise<DownReport> {
  const record = readStackRecord(stateDir, scope);
  if (record === null) return { scope, via: 'none', stopped: [], problems: [] };
  let via: DownReport['via'] = 'record';
  if (supervisorAlive(record)) {
    via = 'supervisor';
    process.kill(record.supervisor.pid, 'SIGTERM');
    const deadline = Date.now() + waitMs;
    while (supervisorAlive(record) && Date.now() < deadline) await sleep(25);
  }
  // Whatever the supervisor left (or everything, when it was killed) is stopped here.
  const latest = readStackRecord(stateDir, scope) ?? record;
  const stopped: string[] = [];
  const problems: { service: string; message: string }[] = [];
  const services = [...latest.services].sort((a, b) => latest.order.indexOf(b.name) - latest.order.indexOf(a.name));
  // One look at every process for all the stack's markers: after a clean stop by the
  // supervisor nothing carries one, and the per-service scans below are skipped.
  const table = processTable();
  const marked = markedProcesses(new Set(services.flatMap((s) => (s.marker === null ? [] : [s.marker]))), table);
  for (const s of services) {
    const known = s.processes.some((p) => table.has(p.pid) && (p.identity === null || processIdentity(p.pid) === p.identity));
    let members = known || (s.marker !== null && marked.has(s.marker)) ? recordedMembers(s) : [];
    // From the record, a service none of whose processes ran was stopped before: not stopped now.
    const ran = via === 'supervisor' || members.length > 0;
    if (members.length > 0) {
      await killProcesses(members, { signal: s.stopSignal as NodeJS.Signals, graceMs: s.graceMs });
      members = recordedMembers(s);
      if (members.length > 0) await killProcesses(members, { signal: 'SIGKILL', graceMs: 0 });
    }
    const left = members.length > 0 ? recordedMembers(s) : [];
    const deadline = Date.now() + PORT_FREE_WAIT_MS;
    const held: number[] = [];
    for (const p of s.ports) {
      while (!(await isPortFree(p.port, 'tcp')) && Date.now() < deadline) await sleep(25);
      if (!(await isPortFree(p.port, 'tcp'))) held.push(p.port);
    }
    if (left.length > 0 || held.length > 0) {
      problems.push({ service: s.name, message: `${left.length > 0 ? `pid ${left.join(', ')} still running` : ''}${left.length > 0 && held.length > 0 ? '; ' : ''}${held.length > 0 ? `port ${held.join(', ')} still held` : ''}` });
    } else if (ran) stopped.push(s.name);
  }
  if (via === 'record') {
    writeStackRecord(stateDir, {
      ...latest,
      services: latest.services.map((s) => (stopped.includes(s.name) ? { ...s, state: 'stopped', reason: 'stopped by berth down', pid: null, pids: [], processes: [] } : s)),
    });
  }
  return { scope, via, stopped, problems };
}

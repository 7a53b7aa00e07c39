/**
 * Launch: start a stack on its leases in dependency order, health that checks who answers,
 * restarts without orphans, stops that leave nothing behind. The supervisor owns process
 * trees, so it reaches the OS through os/ as core does; faces reach it through this entry.
 */
export { planLaunch, heldMessage, heldPorts, launchable, type LaunchPlan, type PlannedService, type HeldPort, type PlanOptions } from './plan.js';
export { Supervisor, TRACK_INTERVAL_MS, type StopReport, type SupervisorOptions } from './supervisor.js';
export { downStack, recordedMembers, recordedOwnership, supervisorAlive, type DownReport } from './down.js';
export { readStackRecord, listStackRecords, logPath, stackDir, type StackRecord, type RecordedService } from './stack-file.js';
export { readLogFile, type LogLine } from './log-sink.js';
export { afterEnd, restartDelayMs, type AfterEnd } from './backoff.js';

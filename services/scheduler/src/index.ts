export { Scheduler, type SchedulerOptions, type SchedulerState } from './scheduler';
export { parseSchedulerEnv, workerSettingsOf, type SchedulerEnv, type WorkerSettingsEnv } from './env';
export { allocate } from './fair-share';
export { FleetEventsHandler } from './fleet-events';
export { runSimulation } from './simulation/simulator';
